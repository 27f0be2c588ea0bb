"""Time of one compiled decode call of SmolLM2 over a padded batch.

    ~/.cache/magicpig/venv/bin/python bench/batched_decode_call.py \\
        [--tokens 4096 8192] [--batch 1 4 8 16] [--repeats 3]

Exports SmolLM2's decode step with a dynamic batch (position `[B]`, the
padding mask of docs/ABI.md's padded batch: sequence b sees its cache rows
j < position[b] and its own new key), compiles it with magicpig-compile
--attention=dense, and times the graph call for every batch size and cache
length on random K/V (every sequence at the full length: the call reads
all of its cache). Prints ms per call, tokens/s of the whole batch and the
load average, so a loaded machine shows. The graph call only: no Python
cache append, no sampling.
"""

import argparse
import ctypes
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
COMPILE = pathlib.Path(os.environ.get("MAGICPIG_BUILD_DIR", ROOT / "build")) / "bin" / "magicpig-compile"


class BatchedDecode(torch.nn.Module):
    """The project Llama's decode step over a padded batch."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, token, position, k_cache, v_cache):
        from magicpig import llama as L

        m, c = self.model, self.model.config
        cos, sin = L.rope_cos_sin(position, c.head_dim, c.rope_theta)
        cos, sin = cos[:, None, None, :], sin[:, None, None, :]
        x = F.embedding(token, m.embed)
        n = k_cache.shape[3]
        j = torch.arange(n + 1, dtype=torch.int64)
        keep = (j[None, :] < position[:, None]) | (j[None, :] >= n)
        mask = torch.zeros(keep.shape).masked_fill(~keep, float("-inf"))[:, None, None, :]
        new_k, new_v = [], []
        for i, layer in enumerate(m.layers):
            q, k, v = layer.qkv(x, cos, sin)
            all_k = torch.cat([k_cache[i], k], dim=2)
            all_v = torch.cat([v_cache[i], v], dim=2)
            x = layer.finish(x, L.dense_attention(q, all_k, all_v, c.group_size, mask))
            new_k.append(k)
            new_v.append(v)
        return m.logits(x[:, -1, :]), torch.stack(new_k), torch.stack(new_v)


def compile_graph(model, out_dir):
    from torch.export import Dim

    from magicpig.export import WeightsAsArguments, _export

    c = model.config
    shape = (c.num_layers, 3, c.num_kv_heads, 16, c.head_dim)
    inputs = (torch.zeros(3, 1, dtype=torch.int64), torch.full((3,), 16, dtype=torch.int64),
              torch.zeros(shape), torch.zeros(shape))
    batch = Dim("batch", min=2, max=64)
    cache = Dim("cache_tokens", min=1, max=c.context_length - 1)
    dims = ({0: batch}, {0: batch}, {1: batch, 3: cache}, {1: batch, 3: cache})
    weights = [p.detach() for p in model.parameters()]
    mlir = out_dir / "decode.mlir"
    mlir.write_text(_export(BatchedDecode(model), weights, inputs, dims, "decode"))
    library = out_dir / "decode.so"
    subprocess.run([str(COMPILE), str(mlir), "--attention=dense", "-o", str(library)],
                   check=True)
    return library


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[4096, 8192])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from magicpig import gguf_model, model_store
    from magicpig.compiled import BoundArguments, entry_point, read_graph_info

    torch.set_grad_enabled(False)
    model = gguf_model.load_llama(model_store.fetch_model())
    c = model.config
    with tempfile.TemporaryDirectory() as tmp:
        library = compile_graph(model, pathlib.Path(tmp))
        lib = ctypes.CDLL(str(library))
        info = read_graph_info(lib, str(library))
        decode = entry_point(lib, info["functions"], "decode", str(library))
        weights = BoundArguments([p.detach().numpy() for p in model.parameters()])
        rng = np.random.default_rng(0)
        print("tokens batch ms/call tokens/s load")
        for n in args.tokens:
            for b in args.batch:
                cache = rng.standard_normal((c.num_layers, b, c.num_kv_heads, n, c.head_dim),
                                            dtype=np.float32)
                token = np.zeros((b, 1), np.int64)
                position = np.full((b,), n, np.int64)
                decode(token, position, cache, cache, leading=weights)  # warm-up
                start = time.perf_counter()
                for _ in range(args.repeats):
                    decode(token, position, cache, cache, leading=weights)
                seconds = (time.perf_counter() - start) / args.repeats
                print(f"{n} {b} {seconds * 1e3:.1f} {b / seconds:.1f} "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
                del cache


if __name__ == "__main__":
    main()
