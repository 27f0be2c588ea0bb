"""Decoding from a captured prefill with one attention method.

Every end-to-end measure runs the prompt once (dense prefill, as MagicPIG
does), then decodes with each method from that same cache: first the
teacher-forced tokens (held-out text for perplexity, the question for the
needle test), then greedy generation. Decode attention is where the
methods differ:

- `dense`: exact attention (Llama.decode's own);
- `magicpig`: `sparse_decode.SampledAttention` (numpy reference of the
  sparsified layer; index built on the prefill cache);
- `topk`, `quest`: `decode_methods.BudgetAttention` at the budget fraction
  MagicPIG measured on the same prompt (sparse layers), so that budgets are
  matched per prompt.
"""

import dataclasses

import numpy as np
import torch

import torch.nn.functional as F

from magicpig.eval.decode_methods import BudgetAttention, gqa_attention
from magicpig.llama import rope_cos_sin
from magicpig.sparse_decode import KeysTouched, SampledAttention

METHODS = ("dense", "magicpig", "topk", "quest")


@dataclasses.dataclass
class DecodeResult:
    nll: list            # -log p of forced tokens 1.. (token 0 is scored by prefill)
    generated: list      # greedy tokens after the forced ones
    touched: float       # fraction of keys read, sparse layers
    touched_all: float   # fraction of keys read, all layers


def make_attention(method, capture_keys, config, options, fraction):
    if method == "dense":
        return None
    if method == "magicpig":
        return SampledAttention.from_prefill(capture_keys, config, options)
    return BudgetAttention(method, fraction, options.dense_layer_set(config.num_layers),
                           config.group_size)


@torch.no_grad()
def decode_step(model, token, kbuf, vbuf, n, attention=None):
    """`Llama.decode` for one token at position n, writing its key and value
    into preallocated buffers `[layers, 1, Hkv, capacity, d]` instead of
    concatenating the cache per layer, and with GQA attention that does not
    copy K/V per query head (checked equal to Llama.decode in
    python/tests/test_eval.py). Returns the logits `[vocab]`."""
    c = model.config
    cos, sin = rope_cos_sin(torch.tensor([n]), c.head_dim, c.rope_theta)
    x = F.embedding(torch.tensor([[token]]), model.embed)
    for i, layer in enumerate(model.layers):
        q, k, v = layer.qkv(x, cos, sin)
        kbuf[i, :, :, n] = k[:, :, 0]
        vbuf[i, :, :, n] = v[:, :, 0]
        keys, values = kbuf[i, :, :, :n + 1], vbuf[i, :, :, :n + 1]
        if attention is None:
            out = gqa_attention(q, keys, values)
        else:
            out = attention(i, q, keys, values)
        x = layer.finish(x, out)
    return model.logits(x[:, -1, :])[0]


@torch.no_grad()
def decode(model, capture, forced, max_new, attention, eos_token_id=None):
    """Teacher-forces `forced` then generates up to `max_new` greedy tokens."""
    layers, hkv, n0, d = capture.keys.shape
    shape = (layers, 1, hkv, n0 + len(forced) + max_new, d)
    kbuf, vbuf = torch.empty(shape), torch.empty(shape)
    kbuf[:, 0, :, :n0] = torch.from_numpy(capture.keys)
    vbuf[:, 0, :, :n0] = torch.from_numpy(capture.values)
    n = n0
    nll, generated = [], []
    logits = None
    stats = KeysTouched()
    c = model.config
    for step, token in enumerate(list(forced) + [None] * max_new):
        if token is None:
            token = int(torch.argmax(logits))
            if token == eos_token_id:
                break
            generated.append(token)
            if len(generated) == max_new:
                break
        elif logits is not None:
            nll.append(float(-torch.log_softmax(logits.float(), -1)[token]))
        if max_new == 0 and step == len(forced) - 1:
            break  # the logits after the last forced token are not used
        logits = decode_step(model, token, kbuf, vbuf, n, attention)
        if attention is None:
            stats.touched += c.num_layers * c.num_heads * (n + 1)
            stats.available += c.num_layers * c.num_heads * (n + 1)
            stats.sparse_touched += c.num_heads * (n + 1)
            stats.sparse_available += c.num_heads * (n + 1)
        n += 1
    if attention is not None:
        stats = attention.stats
    return DecodeResult(nll, generated, stats.sparse_fraction(), stats.fraction())


def run_methods(model, capture, forced, max_new, options, methods=METHODS,
                eos_token_id=None):
    """{method: DecodeResult}; TopK and Quest get MagicPIG's measured
    sparse-layer fraction (or 5% when MagicPIG is not among `methods`)."""
    results = {}
    keys = torch.from_numpy(np.ascontiguousarray(capture.keys[:, None]))
    fraction = 0.05
    for method in methods:
        attention = make_attention(method, keys, model.config, options, fraction)
        results[method] = decode(model, capture, forced, max_new, attention, eos_token_id)
        if method == "magicpig":
            fraction = results[method].touched
    return results
