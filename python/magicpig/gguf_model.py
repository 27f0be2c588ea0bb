"""Load a Llama-architecture GGUF file: config from its metadata, weights
dequantized to f32 with the `gguf` package.

llama.cpp's converter reorders the rows of the q and k projections of each
head from the rotate_half RoPE layout (first half / second half of the head)
to the interleaved layout ggml rotates (pairs 2i, 2i+1). `magicpig.llama`
uses rotate_half, so the loader undoes that permutation
(`unpermute_rope_rows`); the slow tests check the result against
transformers' own GGUF loader.
"""

import os

import numpy as np
import torch

from magicpig.config import LlamaConfig
from magicpig.errors import MagicPigError

SUPPORTED_ARCHITECTURES = ("llama",)


def unpermute_rope_rows(weight, num_heads):
    """Inverse of llama.cpp's q/k permutation: within each head, rows
    (2i, 2i + 1) go back to (i, i + d/2)."""
    rows = weight.shape[0]
    head_dim = rows // num_heads
    w = weight.reshape(num_heads, head_dim // 2, 2, *weight.shape[1:])
    return w.swapaxes(1, 2).reshape(weight.shape)


def _open(path):
    import gguf  # imported late: the tiny-model tests do not need it

    if not os.path.isfile(path):
        raise MagicPigError(f"model file not found: {path}")
    try:
        return gguf.GGUFReader(path)
    except Exception as e:  # the reader raises several types on bad input
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise MagicPigError(f"{path} is not a readable GGUF file ({reason})")


def _field(reader, key, default=None):
    field = reader.fields.get(key)
    if field is None:
        if default is not None:
            return default
        raise MagicPigError(f"GGUF file lacks the metadata key '{key}'")
    return field.contents()


def read_config(reader, path="model"):
    """LlamaConfig from the GGUF metadata (`llama.*` keys)."""
    arch = _field(reader, "general.architecture")
    if arch not in SUPPORTED_ARCHITECTURES:
        raise MagicPigError(f"{path}: unsupported architecture '{arch}' "
                            f"(supported: {', '.join(SUPPORTED_ARCHITECTURES)})")
    hidden = int(_field(reader, f"{arch}.embedding_length"))
    heads = int(_field(reader, f"{arch}.attention.head_count"))
    vocab = reader.fields.get(f"{arch}.vocab_size")
    vocab_size = (int(vocab.contents()) if vocab is not None
                  else len(_field(reader, "tokenizer.ggml.tokens")))
    tensor_names = {t.name for t in reader.tensors}
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=int(_field(reader, f"{arch}.feed_forward_length")),
        num_layers=int(_field(reader, f"{arch}.block_count")),
        num_heads=heads,
        num_kv_heads=int(_field(reader, f"{arch}.attention.head_count_kv", heads)),
        head_dim=int(_field(reader, f"{arch}.rope.dimension_count", hidden // heads)),
        rope_theta=float(_field(reader, f"{arch}.rope.freq_base", 10000.0)),
        rms_norm_eps=float(_field(reader, f"{arch}.attention.layer_norm_rms_epsilon")),
        context_length=int(_field(reader, f"{arch}.context_length")),
        tie_embeddings="output.weight" not in tensor_names,
        bos_token_id=int(_field(reader, "tokenizer.ggml.bos_token_id", 1)),
        eos_token_id=int(_field(reader, "tokenizer.ggml.eos_token_id", 2)),
    )


# GGUF tensor name -> magicpig.llama parameter name ({i}: the layer).
_LAYER_TENSORS = {
    "attn_norm": "attn_norm", "attn_q": "wq", "attn_k": "wk", "attn_v": "wv",
    "attn_output": "wo", "ffn_norm": "ffn_norm", "ffn_gate": "w_gate",
    "ffn_up": "w_up", "ffn_down": "w_down",
}
_GLOBAL_TENSORS = {"token_embd": "embed", "output_norm": "final_norm",
                   "output": "lm_head"}


def parameter_name(gguf_name):
    """'blk.3.attn_q.weight' -> 'layers.3.wq'; None for unused tensors."""
    parts = gguf_name.split(".")
    if parts[-1] != "weight":
        return None
    if parts[0] == "blk" and len(parts) == 4 and parts[2] in _LAYER_TENSORS:
        return f"layers.{parts[1]}.{_LAYER_TENSORS[parts[2]]}"
    if len(parts) == 2 and parts[0] in _GLOBAL_TENSORS:
        return _GLOBAL_TENSORS[parts[0]]
    return None


def read_weights(reader, config):
    """{parameter name: f32 tensor} with q/k rows in rotate_half order."""
    from gguf.quants import dequantize

    weights = {}
    for tensor in reader.tensors:
        name = parameter_name(tensor.name)
        if name is None:
            continue
        array = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        # ggml lists dims innermost first; numpy wants them outermost first.
        array = array.reshape([int(n) for n in reversed(tensor.shape)])
        if name.endswith(".wq"):
            array = unpermute_rope_rows(array, config.num_heads)
        elif name.endswith(".wk"):
            array = unpermute_rope_rows(array, config.num_kv_heads)
        weights[name] = torch.from_numpy(np.ascontiguousarray(array))
    return weights


def load_gguf(path):
    """(LlamaConfig, {parameter name: tensor}, GGUF reader) of a GGUF file."""
    reader = _open(path)
    config = read_config(reader, path)
    weights = read_weights(reader, config)
    return config, weights, reader


def load_llama(path):
    """A `magicpig.llama.Llama` in eval mode with the GGUF's weights."""
    from magicpig.llama import Llama

    config, weights, _ = load_gguf(path)
    model = Llama(config)
    expected = {name for name, _ in model.named_parameters()}
    missing = sorted(expected - weights.keys())
    if missing:
        raise MagicPigError(f"{path}: missing tensors for {', '.join(missing[:3])}"
                            + (" ..." if len(missing) > 3 else ""))
    model.load_state_dict({k: weights[k] for k in expected}, strict=True)
    return model.eval()
