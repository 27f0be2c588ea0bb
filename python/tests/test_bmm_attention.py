"""Attention written in 3-D with torch.bmm (test/Transforms/raise-attention/
Inputs/bmm-attention.mlir, exported by export_bmm_attention.py next to it):
each exported function is compiled by --magicpig-cpu-pipeline and run by
magicpig-run twice, as exported and after --magicpig-raise-attention, at
lengths other than the export's, and both are compared with torch eager of
the same module (tolerance 1e-5: f32 sums in another order and the
pipeline's polynomial exp give ~1e-6). The checks can fail: the raised
graph must contain magicpig.attention, and for these inputs a dropped
causal mask or a wrong kv-head grouping (head h reading kv head h mod Hkv
instead of h / G) moves the output by far more than the tolerance.
Needs build/bin/magicpig-opt and magicpig-run (skipped without them)."""

import importlib.util
import json
import pathlib
import re
import subprocess

import numpy as np
import pytest
import torch

from conftest import REPO_ROOT, project_tool

pytestmark = pytest.mark.skipif(
    project_tool("magicpig-opt") is None or project_tool("magicpig-run") is None,
    reason="magicpig-opt / magicpig-run not built")

INPUTS = pathlib.Path(REPO_ROOT) / "test" / "Transforms" / "raise-attention" / "Inputs"
TOLERANCE = 1e-5


def exporter():
    spec = importlib.util.spec_from_file_location(
        "export_bmm_attention", INPUTS / "export_bmm_attention.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPORT = exporter()
POSITIVE = {name: case for name, *case in EXPORT.CASES
            if name.endswith(("_prefill", "_decode"))}


def exported_function(name):
    """The `module { ... }` of func.func @name in bmm-attention.mlir."""
    text = (INPUTS / "bmm-attention.mlir").read_text()
    for part in text.split("\n// -----\n"):
        if f"func.func @{name}(" in part:
            return part
    raise AssertionError(f"no @{name} in bmm-attention.mlir")


def tensor_type(shape, dynamic=()):
    dims = ["?" if i in dynamic else str(n) for i, n in enumerate(shape)]
    return "tensor<" + "x".join(dims) + "xf32>"


def with_main(module, name, inputs, dynamic, out_shape):
    """`module` with a @main that calls @name on constants (cast to the
    exported dynamic types) and prints its result."""
    lines, args, types = [], [], []
    for i, (array, dyn) in enumerate(zip(inputs, dynamic)):
        static = tensor_type(array.shape)
        values = json.dumps(array.astype(np.float64).tolist())
        lines.append(f"  %c{i} = arith.constant dense<{values}> : {static}")
        if dyn:
            lines.append(f"  %a{i} = tensor.cast %c{i} : {static} to "
                         f"{tensor_type(array.shape, dyn)}")
            args.append(f"%a{i}")
        else:
            args.append(f"%c{i}")
        types.append(tensor_type(array.shape, dyn))
    out_dyn = tensor_type(out_shape, dynamic[0])
    out = tensor_type(out_shape)
    memref = out.replace("tensor", "memref")
    main = "\n".join([
        "func.func private @printMemrefF32(memref<*xf32>)",
        "func.func @main() {", *lines,
        f"  %r = func.call @{name}({', '.join(args)}) : ({', '.join(types)}) -> {out_dyn}",
        f"  %s = tensor.cast %r : {out_dyn} to {out}",
        f"  %m = bufferization.to_buffer %s : {out} to {memref}",
        f"  %u = memref.cast %m : {memref} to memref<*xf32>",
        "  call @printMemrefF32(%u) : (memref<*xf32>) -> ()",
        "  return", "}"])
    end = module.rindex("}")
    return module[:end] + main + "\n}\n"


def tool(args, text):
    result = subprocess.run(args, input=text, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def compile_and_run(module, out_shape, raise_attention):
    if raise_attention:
        module = tool([project_tool("magicpig-opt"), "-", "--magicpig-raise-attention"],
                      module)
        assert "magicpig.attention" in module
    lowered = tool([project_tool("magicpig-opt"), "-", "--magicpig-cpu-pipeline"], module)
    printed = tool([project_tool("magicpig-run"), "-e", "main",
                    "-entry-point-result=void"], lowered)
    body = printed[printed.index("\n"):]
    values = re.findall(r"-?\d+(?:\.\d*)?(?:e[-+]?\d+)?|nan|-?inf", body)
    return np.array([float(x) for x in values]).reshape(out_shape)


def wrong_grouping(q, k, v, causal):
    """Eager attention with query head h reading kv head h mod Hkv."""
    groups = q.shape[1] // k.shape[1]
    k, v = k.repeat(1, groups, 1, 1), v.repeat(1, groups, 1, 1)
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_bmm_attention_raised_and_exported_match_eager(name):
    module_class, export, b, hq, hkv = POSITIVE[name]
    prefill = export is EXPORT.export_prefill
    gen = torch.Generator().manual_seed(7)
    if prefill:  # a prompt of 13 tokens (exported at 8)
        args = [torch.rand(shape, generator=gen) * 2 - 1
                for shape in (x.shape[:2] + (13,) + x.shape[3:]
                              for x in EXPORT.prefill_args(b, hq, hkv))]
        dynamic = [(2,), (2,), (2,)]
    else:  # one query over 11 cached tokens and the new one
        args = [torch.rand(x.shape, generator=gen) * 2 - 1
                for x in EXPORT.decode_args(b, hq, hkv, m=11)]
        dynamic = [(), (), (), (2,), (2,)]
    # Sharp scores, so that the mask and the grouping matter.
    args[0] = args[0] * 4
    with torch.no_grad():
        want = module_class()(*args).double().numpy()
    inputs = [a.numpy() for a in args]
    module = with_main(exported_function(name), name, inputs, dynamic, want.shape)

    exported = compile_and_run(module, want.shape, raise_attention=False)
    raised = compile_and_run(module, want.shape, raise_attention=True)
    assert np.abs(exported - want).max() < TOLERANCE
    assert np.abs(raised - want).max() < TOLERANCE

    q = args[0]
    k, v = (args[1], args[2]) if prefill else (torch.cat([args[3], args[1]], 2),
                                               torch.cat([args[4], args[2]], 2))
    if prefill:
        unmasked = EXPORT.bmm_attention(q, k, v).numpy()
        assert np.abs(unmasked - want).max() > 1e-3
    if hq != hkv:
        with torch.no_grad():
            wrong = wrong_grouping(q, k, v, causal=prefill).numpy()
        assert np.abs(wrong - want).max() > 1e-3
