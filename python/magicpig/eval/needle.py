"""Passkey retrieval: several keys hidden in a long Debian changelog.

One haystack (a changelog segment) holds `needles` pass keys, each a
random 5-digit number under a distinct name, inserted at evenly spread
depths (at line starts). The prompt, cut so that prompt + question +
answer fit the context length, is prefilled once (dense); then every
needle is one case: the cue

    The pass key of the <name> is

is decoded token by token with the method under test (so the needle must
be found by sparse decode attention, not by the dense prefill), followed by
up to `ANSWER_TOKENS` greedy tokens. A case succeeds when the first run of
digits in the answer is the key. Cases per context = haystacks x needles.
"""

import dataclasses
import re

import numpy as np

INTRO = ("There are pass keys hidden inside a lot of irrelevant text. Find them "
         "and memorize them. I will quiz you about them.\n\n")
NAMES = ["red fox", "blue whale", "green frog", "white owl", "black cat",
         "brown bear", "gray wolf", "yellow bee", "orange crab", "purple snail"]
QUESTION = "\n\nThe pass key of the {name} is"
NEEDLE = "\nThe pass key of the {name} is {key}. Remember it. {key} is the pass key of the {name}.\n"
ANSWER_TOKENS = 8


@dataclasses.dataclass
class Haystack:
    prompt: list     # token ids, prefilled
    questions: list  # [token ids] per needle
    keys: list       # [str]
    depths: list     # relative positions of the needles in the prompt


def _line_starts(tokenizer, ids):
    """Token positions right after a token that contains a newline."""
    return [i + 1 for i, t in enumerate(ids[:-1]) if "\n" in tokenizer.decode([t])]


def make_haystack(tokenizer, haystack_ids, context, needles, rng):
    names = NAMES[:needles]
    keys = [str(rng.integers(10000, 100000)) for _ in names]
    questions = [tokenizer.encode(QUESTION.format(name=n)) for n in names]
    intro = tokenizer.encode(INTRO)
    needle_ids = [tokenizer.encode(NEEDLE.format(name=n, key=k)) for n, k in zip(names, keys)]
    room = (context - len(intro) - sum(map(len, needle_ids))
            - max(map(len, questions)) - ANSWER_TOKENS)
    body = haystack_ids[:room]
    starts = _line_starts(tokenizer, body) or [0]
    order = rng.permutation(needles)  # which needle goes at which depth
    pieces, last, depths = [], 0, [0.0] * needles
    for slot in range(needles):
        target = int((slot + rng.uniform(0.1, 0.9)) / needles * len(body))
        cut = min(starts, key=lambda s: abs(s - target))
        cut = max(cut, last)
        pieces.append(body[last:cut])
        depths[order[slot]] = (len(intro) + sum(map(len, pieces))) / context
        pieces.append(needle_ids[order[slot]])
        last = cut
    pieces.append(body[last:])
    prompt = intro + [t for p in pieces for t in p]
    return Haystack(prompt, questions, keys, depths)


def answer_of(tokenizer, generated):
    match = re.search(r"\d+", tokenizer.decode(generated))
    return match.group(0) if match else ""


def make_haystacks(tokenizer, segments, context, needles, seed):
    rng = np.random.default_rng([seed, context])
    return [make_haystack(tokenizer, seg, context, needles, rng) for seg in segments]
