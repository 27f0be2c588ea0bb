#!/usr/bin/env python3
"""Regenerate the exporter inputs of the --magicpig-raise-attention tests.

Each case is a tiny PyTorch module exported with torch-mlir's FX importer
(`torch_mlir.fx.export_and_import`). The modules of one output type are
written into one file, separated by `// -----` so that the lit tests run them
with `-split-input-file`; a comment above each module says which case it is.

Shapes are tiny on purpose (B=1, Hq=4, Hkv=2, N=16, d=8): the tests check the
structure of the IR, not speed.

Usage (from the repository root; needs torch and torch-mlir):
    python3 python/tools/export_attention_inputs.py \
        [--out test/Transforms/raise-attention/Inputs]

With `--check build/bin/magicpig-opt` it also raises the written files and
checks, case by case, that the raised op's parameters (scale, causal, the
query layout, the kv-head grouping) reproduce the PyTorch module's output:
the numbers of the original module against exact attention with those
parameters, computed here in PyTorch.
"""

import argparse
import math
import os
import re
import subprocess
import sys

import torch
import torch.nn.functional as F
from torch_mlir import fx

B, HQ, HKV, N, D = 1, 4, 2, 16, 8
SCALE = 1.0 / math.sqrt(D)


def repeat_kv(x, n_rep):
    """GQA head expansion exactly as the Llama reference code writes it."""
    b, hkv, s, d = x.shape
    x = x[:, :, None, :, :].expand(b, hkv, n_rep, s, d)
    return x.reshape(b, hkv * n_rep, s, d)


class Sdpa(torch.nn.Module):
    """F.scaled_dot_product_attention; the export splits sqrt(scale) onto q
    and k^T and guards all -inf rows (safe softmax)."""

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, **self.kwargs)


class ScoresScale(torch.nn.Module):
    """softmax(q @ k^T * scale) @ v written by hand."""

    def forward(self, q, k, v):
        s = torch.matmul(q, k.transpose(-2, -1)) * SCALE
        return torch.matmul(torch.softmax(s, dim=-1), v)


class QueryScaleDecode(torch.nn.Module):
    """Decode with q [B, H, d]: unsqueeze, scale on q, squeeze the result."""

    def forward(self, q, k, v):
        q = q.unsqueeze(2) * SCALE
        s = torch.matmul(q, k.transpose(-2, -1))
        return torch.matmul(torch.softmax(s, dim=-1), v).squeeze(2)


class LlamaGqa(torch.nn.Module):
    """Llama attention core: repeat_kv, / sqrt(d), softmax in f32, cast back."""

    def forward(self, q, k, v):
        k = repeat_kv(k, HQ // HKV)
        v = repeat_kv(v, HQ // HKV)
        s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(D)
        p = F.softmax(s, dim=-1, dtype=torch.float32).to(q.dtype)
        return torch.matmul(p, v)


class CausalMaskInModule(torch.nn.Module):
    """Prefill with a causal mask built in the module: query s (the last S
    positions) sees keys j <= N - S + s."""

    def forward(self, q, k, v):
        s_len, n_len = q.shape[2], k.shape[2]
        mask = torch.full((s_len, n_len), float("-inf")).triu(n_len - s_len + 1)
        s = torch.matmul(q, k.transpose(-2, -1)) * SCALE + mask
        return torch.matmul(torch.softmax(s, dim=-1), v)


# Negative cases: attention-like code the pass must leave alone.


class SoftmaxWrongDim(torch.nn.Module):
    def forward(self, q, k, v):
        s = torch.matmul(q, k.transpose(-2, -1)) * SCALE
        return torch.matmul(torch.softmax(s, dim=-2), v)


class ScoresPlusConstant(torch.nn.Module):
    def forward(self, q, k, v):
        s = torch.matmul(q, k.transpose(-2, -1)) * SCALE + 1.0
        return torch.matmul(torch.softmax(s, dim=-1), v)


class AdditiveMask(torch.nn.Module):
    """An arbitrary additive mask passed in as an argument."""

    def forward(self, q, k, v, mask):
        s = torch.matmul(q, k.transpose(-2, -1)) * SCALE + mask
        return torch.matmul(torch.softmax(s, dim=-1), v)


class EpsilonDenominator(torch.nn.Module):
    """A hand-written softmax with an epsilon in the denominator."""

    def forward(self, q, k, v):
        s = torch.matmul(q, k.transpose(-2, -1)) * SCALE
        e = torch.exp(s - s.amax(dim=-1, keepdim=True))
        p = e / (e.sum(dim=-1, keepdim=True) + 1e-6)
        return torch.matmul(p, v)


def qkv(s_len=1, hkv=HQ, dtype=torch.float32, rank3=False):
    torch.manual_seed(0)
    q_shape = (B, HQ, D) if rank3 else (B, HQ, s_len, D)
    return (torch.randn(q_shape, dtype=dtype),
            torch.randn(B, hkv, N, D, dtype=dtype),
            torch.randn(B, hkv, N, D, dtype=dtype))


# (function name, module, example arguments, comment)
LINALG_CASES = [
    ("sdpa_decode", Sdpa(), qkv(), "SDPA, decode (S = 1), MHA"),
    ("sdpa_causal_prefill", Sdpa(is_causal=True), qkv(s_len=N),
     "SDPA with is_causal, S = N (top-left = bottom-right alignment)"),
    ("sdpa_gqa", Sdpa(enable_gqa=True), qkv(hkv=HKV),
     "SDPA with enable_gqa, decode"),
    ("scores_scale", ScoresScale(), qkv(), "softmax(q @ k^T * scale) @ v"),
    ("query_scale_decode", QueryScaleDecode(), qkv(rank3=True),
     "q [B, H, d] unsqueezed, scale on q, result squeezed"),
    ("llama_gqa_f32", LlamaGqa(), qkv(hkv=HKV), "Llama repeat_kv GQA, f32"),
    ("llama_gqa_f16", LlamaGqa(), qkv(hkv=HKV, dtype=torch.float16),
     "Llama repeat_kv GQA, f16 (softmax in f32)"),
    ("llama_gqa_bf16", LlamaGqa(), qkv(hkv=HKV, dtype=torch.bfloat16),
     "Llama repeat_kv GQA, bf16 (softmax in f32)"),
    ("causal_mask_prefill", CausalMaskInModule(), qkv(s_len=4),
     "bottom-right causal mask built in the module, S = 4 < N"),
    ("neg_softmax_wrong_dim", SoftmaxWrongDim(), qkv(s_len=4),
     "NEGATIVE: softmax over the query dimension"),
    ("neg_scores_plus_constant", ScoresPlusConstant(), qkv(),
     "NEGATIVE: a constant added to the scores"),
    ("neg_additive_mask", AdditiveMask(),
     qkv(s_len=4) + (torch.randn(B, 1, 4, N),),
     "NEGATIVE: an arbitrary additive mask argument"),
    ("neg_epsilon_denominator", EpsilonDenominator(), qkv(),
     "NEGATIVE: softmax with an epsilon in the denominator"),
    ("neg_sdpa_causal_top_left", Sdpa(is_causal=True), qkv(s_len=4),
     "NEGATIVE: SDPA is_causal with S = 4 < N masks top-left aligned"),
]

TOSA_CASES = [
    ("sdpa_decode", Sdpa(), qkv(), "SDPA, decode (S = 1), MHA"),
    ("scores_scale", ScoresScale(), qkv(), "softmax(q @ k^T * scale) @ v"),
    ("query_scale_decode", QueryScaleDecode(), qkv(rank3=True),
     "q [B, H, d] unsqueezed, scale on q, result squeezed"),
    ("llama_gqa_f32", LlamaGqa(), qkv(hkv=HKV), "Llama repeat_kv GQA, f32"),
    ("llama_gqa_f16", LlamaGqa(), qkv(hkv=HKV, dtype=torch.float16),
     "Llama repeat_kv GQA, f16 (softmax in f32)"),
    ("llama_gqa_bf16", LlamaGqa(), qkv(hkv=HKV, dtype=torch.bfloat16),
     "Llama repeat_kv GQA, bf16 (softmax in f32)"),
    ("neg_softmax_wrong_dim", SoftmaxWrongDim(), qkv(s_len=4),
     "NEGATIVE: softmax over the query dimension"),
    ("neg_scores_plus_constant", ScoresPlusConstant(), qkv(),
     "NEGATIVE: a constant added to the scores"),
    ("neg_additive_mask", AdditiveMask(),
     qkv(s_len=4) + (torch.randn(B, 1, 4, N),),
     "NEGATIVE: an arbitrary additive mask argument"),
]


def export(cases, output_type):
    chunks = []
    for name, module, args, comment in cases:
        ir = fx.export_and_import(module, *args, output_type=output_type,
                                  func_name=name)
        chunks.append(f"// {name}: {comment}\n{str(ir).strip()}\n")
    header = (f"// Generated by python/tools/export_attention_inputs.py "
              f"(torch {torch.__version__}, torch-mlir FX importer, "
              f"output_type={output_type}). Do not edit by hand.\n\n")
    return header + "\n// -----\n\n".join(chunks)


def raised_parameters(opt, path):
    """{function name: (scale, causal)} of the attention ops the pass made."""
    out = subprocess.run([opt, path, "-split-input-file",
                          "--magicpig-raise-attention"], check=True,
                         capture_output=True, text=True).stdout
    found = {}
    for module in out.split("// -----"):
        name = re.search(r"func\.func @(\w+)", module)
        op = re.search(r"magicpig\.attention scale\(([^)]+)\)( causal)?",
                       module)
        if name and op:
            found[name.group(1)] = (float(op.group(1)), bool(op.group(2)))
    return found


def exact_attention(q, k, v, scale, causal):
    """magicpig.attention's math (see its description in MagicPIGOps.td)."""
    q, k, v = q.float(), k.float(), v.float()
    rank3 = q.dim() == 3
    if rank3:
        q = q.unsqueeze(2)
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, 1)
    v = v.repeat_interleave(groups, 1)
    s = scale * q @ k.transpose(-1, -2)
    if causal:
        s_len, n_len = s.shape[-2], s.shape[-1]
        i = torch.arange(s_len)[:, None]
        j = torch.arange(n_len)[None, :]
        s = s.masked_fill(j > n_len - s_len + i, float("-inf"))
    out = torch.softmax(s, -1) @ v
    return out.squeeze(2) if rank3 else out


def check(opt, path, cases):
    """Raised cases must match the module; NEGATIVE ones must stay."""
    raised = raised_parameters(opt, path)
    ok = True
    for name, module, args, comment in cases:
        negative = comment.startswith("NEGATIVE")
        if name not in raised:
            print(f"  {name:26s} not raised", "" if negative else "<- FAIL")
            ok &= negative
            continue
        scale, causal = raised[name]
        want = module(*args).float()
        got = exact_attention(*args[:3], scale, causal)
        # Half-precision exports round scores and probabilities.
        tol = 1e-5 if args[0].dtype == torch.float32 else 1e-2
        err = (want - got).abs().max().item()
        good = not negative and err <= tol
        print(f"  {name:26s} scale={scale:.9g} causal={causal} "
              f"max|diff|={err:.2e}", "" if good else "<- FAIL")
        ok &= good
    return ok


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(
        root, "test", "Transforms", "raise-attention", "Inputs"))
    parser.add_argument("--check", metavar="MAGICPIG_OPT",
                        help="raise the written files with this magicpig-opt "
                        "and compare against the PyTorch modules")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ok = True
    for file_name, cases, output_type in [
            ("torch-linalg.mlir", LINALG_CASES, "linalg-on-tensors"),
            ("torch-tosa.mlir", TOSA_CASES, "tosa")]:
        path = os.path.join(args.out, file_name)
        with open(path, "w") as f:
            f.write(export(cases, output_type))
        print(f"wrote {path}", file=sys.stderr)
        if args.check:
            print(f"{file_name}:")
            ok &= check(args.check, path, cases)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
