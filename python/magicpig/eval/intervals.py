"""Paired bootstrap confidence intervals for the end-to-end comparisons.

Every method scores the same tokens (perplexity) and answers the same cases
(passkey), so the difference to dense is estimated on pairs: the items are
resampled with replacement, the statistic is recomputed on each resample,
and the 2.5th and 97.5th percentiles bound it. Tokens of one text are not
independent, so the perplexity interval is somewhat too narrow; it still
separates a gap that one unlucky token explains from one that holds across
the text.
"""

import numpy as np

DRAWS = 4000
SEED = 0


def _paired(values, baseline, transform, draws, seed):
    """(point, low, high) of transform(mean(values - baseline)) over
    resamples of the pairs."""
    diff = (np.asarray(values, dtype=np.float64)
            - np.asarray(baseline, dtype=np.float64))
    if diff.size == 0:
        raise ValueError("nothing to compare")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, (draws, diff.size))].mean(axis=1)
    low, high = np.percentile(transform(means), [2.5, 97.5])
    return float(transform(diff.mean())), float(low), float(high)


def perplexity_ratio(nll, dense_nll, draws=DRAWS, seed=SEED):
    """(point, low, high) of ppl(method) / ppl(dense) - 1 from per-token
    NLLs of the same tokens: exp(mean(nll - dense_nll)) - 1."""
    return _paired(nll, dense_nll, np.expm1, draws, seed)


def accuracy_difference(correct, dense_correct, draws=DRAWS, seed=SEED):
    """(point, low, high) of accuracy(method) - accuracy(dense), as
    fractions, from per-case outcomes of the same cases."""
    return _paired(correct, dense_correct, lambda x: x, draws, seed)
