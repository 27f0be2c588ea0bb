"""Perplexity on held-out long text with sparse decode attention.

For a context length N and a held-out text of N tokens, the first
N - E tokens are prefilled (dense) and the last E are teacher-forced
through decode steps with the method under test; the perplexity is
exp(mean NLL) of tokens 2..E (token 1 is predicted by the dense prefill
and so is the same for every method). The mean is over all texts of a
context length.
"""

import math


def perplexity(nlls):
    return math.exp(sum(nlls) / len(nlls)) if nlls else float("nan")
