#!/usr/bin/env python3
"""Regenerate Inputs/bmm-attention.mlir (and bmm-attention-tosa.mlir, the
decode and prefill at static shapes in TOSA): attention written in 3-D with
torch.bmm, as older modeling code writes it. q [B, H, S, d] is merged to
[B*H, S, d]; k and v [B, Hkv, N, d] have their heads repeated G = H / Hkv
times ([B, Hkv, G, N, d]) and are merged to [B*H, N, d]; the scores
bmm(q, k^T) * scale (+ a causal mask) are normalized over their last dim and
bmm(p, v) is split back into [B, H, S, dv]. Exported with dynamic lengths:
a prefill (S = N, causal) and a decode step (one query over the cache and
the new key), each with Hq = 4, Hkv = 2 (GQA) and Hq = Hkv = 4 (MHA). Also
3-D chains that are not per-head attention and must stay declined: q, k
and v merged as [B, H*S, d] (heads with tokens: every query sees every
head's keys) and a softmax over the query dim of the 3-D scores.

    ~/.cache/magicpig/venv/bin/python \\
        test/Transforms/raise-attention/Inputs/export_bmm_attention.py

The same modules are used by python/tests/test_bmm_attention.py.
"""
import pathlib

import torch
from torch.export import Dim
from torch_mlir import fx
from torch_mlir.extras.fx_decomp_util import get_decomposition_table

D = 16


def merge_heads(x, groups):
    """[B, Hkv, N, d] -> [B*Hkv*groups, N, d], each kv head repeated."""
    b, hkv, n, d = x.shape
    if groups > 1:
        x = x[:, :, None].expand(-1, -1, groups, -1, -1)
    return x.reshape(b * hkv * groups, n, d)


def bmm_attention(q, k, v, mask=None, softmax_dim=-1):
    b, h, s, d = q.shape
    groups = h // k.shape[1]
    q3 = q.reshape(b * h, s, d)
    k3, v3 = merge_heads(k, groups), merge_heads(v, groups)
    scores = torch.bmm(q3, k3.transpose(1, 2)) * (d ** -0.5)
    if mask is not None:
        scores = scores + mask
    p = torch.softmax(scores, dim=softmax_dim)
    return torch.bmm(p, v3).reshape(b, h, s, v.shape[3])


class Prefill(torch.nn.Module):
    """Causal attention over the prompt (S = N)."""

    def forward(self, q, k, v):
        n = q.shape[2]
        return bmm_attention(q, k, v, torch.full((n, n), float("-inf")).triu(1))


class ShiftedMask(torch.nn.Module):
    """A mask that also hides the diagonal: not the causal mask."""

    def forward(self, q, k, v):
        n = q.shape[2]
        return bmm_attention(q, k, v, torch.full((n, n), float("-inf")).triu(0))


class Decode(torch.nn.Module):
    """One query over the cache and the new key and value."""

    def forward(self, q, k_new, v_new, k_cache, v_cache):
        k = torch.cat([k_cache, k_new], dim=2)
        v = torch.cat([v_cache, v_new], dim=2)
        return bmm_attention(q, k, v)


class HeadsWithTokens(torch.nn.Module):
    """Merges heads with tokens ([B, H*S, d]): one softmax over all heads'
    keys, not attention per head."""

    def forward(self, q, k, v):
        b, h, s, d = q.shape
        q3, k3, v3 = (x.reshape(b, h * x.shape[2], d) for x in (q, k, v))
        p = torch.softmax(torch.bmm(q3, k3.transpose(1, 2)) * (d ** -0.5), dim=-1)
        return torch.bmm(p, v3).reshape(b, h, s, d)


class SoftmaxOverQueries(torch.nn.Module):
    def forward(self, q, k, v):
        return bmm_attention(q, k, v, softmax_dim=1)


def table():
    # As magicpig.export: torch-mlir lowers aten.matmul itself.
    return {op: fn for op, fn in get_decomposition_table().items()
            if "matmul" not in str(op)}


def prefill_args(b, hq, hkv, n=8):
    return (torch.zeros(b, hq, n, D), torch.zeros(b, hkv, n, D), torch.zeros(b, hkv, n, D))


def decode_args(b, hq, hkv, m=8):
    return (torch.zeros(b, hq, 1, D), torch.zeros(b, hkv, 1, D), torch.zeros(b, hkv, 1, D),
            torch.zeros(b, hkv, m, D), torch.zeros(b, hkv, m, D))


def export_prefill(module, name, b, hq, hkv):
    n = Dim("n", min=2, max=4096)
    m = fx.export_and_import(module, *prefill_args(b, hq, hkv),
                             output_type="linalg-on-tensors", func_name=name,
                             dynamic_shapes=({2: n}, {2: n}, {2: n}),
                             decomposition_table=table())
    return str(m).replace("#map", f"#{name}_map")


def export_decode(module, name, b, hq, hkv):
    m = Dim("m", min=1, max=4095)
    dims = (None, None, None, {2: m}, {2: m})
    mod = fx.export_and_import(module, *decode_args(b, hq, hkv),
                               output_type="linalg-on-tensors", func_name=name,
                               dynamic_shapes=dims, decomposition_table=table())
    return str(mod).replace("#map", f"#{name}_map")


# (function name, module, exporter, B, Hq, Hkv); the MHA cases have two
# sequences, so that B * H merges more than the heads.
CASES = [
    ("gqa_prefill", Prefill, export_prefill, 1, 4, 2),
    ("gqa_decode", Decode, export_decode, 1, 4, 2),
    ("mha_prefill", Prefill, export_prefill, 2, 4, 4),
    ("mha_decode", Decode, export_decode, 2, 4, 4),
    ("shifted_mask", ShiftedMask, export_prefill, 1, 4, 2),
    ("heads_with_tokens", HeadsWithTokens, export_prefill, 1, 4, 4),
    ("softmax_over_queries", SoftmaxOverQueries, export_prefill, 1, 4, 2),
]


def export_tosa(module, name, args):
    """Static shapes: torch-mlir's TOSA output does not take dynamic ones."""
    m = fx.export_and_import(module, *args, output_type="tosa", func_name=name)
    return str(m).replace("#map", f"#{name}_map")


# The TOSA form at static shapes (bmm-attention-tosa.mlir).
TOSA_CASES = [
    ("tosa_gqa_decode", Decode, decode_args(1, 4, 2)),
    ("tosa_mha_decode", Decode, decode_args(2, 4, 4)),
    ("tosa_gqa_prefill", Prefill, prefill_args(1, 4, 2)),
]


def main():
    parts = [export(module(), name, b, hq, hkv) for name, module, export, b, hq, hkv in CASES]
    out = pathlib.Path(__file__).with_name("bmm-attention.mlir")
    out.write_text("// Generated by export_bmm_attention.py (torch-mlir FX importer).\n"
                   + "\n// -----\n".join(parts))
    parts = [export_tosa(module(), name, args) for name, module, args in TOSA_CASES]
    out = pathlib.Path(__file__).with_name("bmm-attention-tosa.mlir")
    out.write_text("// Generated by export_bmm_attention.py (torch-mlir FX importer, "
                   "output_type=tosa).\n" + "\n// -----\n".join(parts))


if __name__ == "__main__":
    main()
