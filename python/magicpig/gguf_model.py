"""Load a Llama-architecture GGUF file: config from its metadata, weights
dequantized to f32 with the `gguf` package.

llama.cpp's converter reorders the rows of the q and k projections of each
head from the rotate_half RoPE layout (first half / second half of the head)
to the interleaved layout ggml rotates (pairs 2i, 2i+1). `magicpig.llama`
uses rotate_half, so the loader undoes that permutation
(`unpermute_rope_rows`); the slow tests check the result against
transformers' own GGUF loader.
"""

import math
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


def _bad(path, key, value, why):
    return MagicPigError(f"{path}: inconsistent GGUF metadata: {key} = {value!r} {why}")


def _count(reader, path, key, default=None):
    """A metadata value that must be a positive integer."""
    value = _field(reader, key, default)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise _bad(path, key, value, "(must be a positive integer)")
    return int(value)


def _positive(reader, path, key, default=None):
    """A metadata value that must be a finite positive number."""
    value = _field(reader, key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not math.isfinite(value) or value <= 0:
        raise _bad(path, key, value, "(must be a finite positive number)")
    return float(value)


def read_config(reader, path="model"):
    """LlamaConfig from the GGUF metadata (`llama.*` keys), checked for
    consistency: every count positive, the query heads a multiple of the kv
    heads, an even head dim."""
    arch = _field(reader, "general.architecture")
    if arch not in SUPPORTED_ARCHITECTURES:
        raise MagicPigError(f"{path}: unsupported architecture '{arch}' "
                            f"(supported: {', '.join(SUPPORTED_ARCHITECTURES)})")
    hidden_key, heads_key = f"{arch}.embedding_length", f"{arch}.attention.head_count"
    kv_key, rope_key = f"{arch}.attention.head_count_kv", f"{arch}.rope.dimension_count"
    hidden = _count(reader, path, hidden_key)
    heads = _count(reader, path, heads_key)
    kv_heads = _count(reader, path, kv_key, heads)
    if heads % kv_heads:
        raise _bad(path, kv_key, kv_heads, f"does not divide {heads_key} = {heads}")
    if reader.fields.get(rope_key) is None and hidden % heads:
        raise _bad(path, hidden_key, hidden, f"is not a multiple of {heads_key} = "
                                             f"{heads} (and {rope_key} is absent)")
    head_dim = _count(reader, path, rope_key, hidden // heads)
    if head_dim % 2:
        raise _bad(path, rope_key, head_dim, "is odd (RoPE rotates pairs of dims)")
    vocab_key = f"{arch}.vocab_size"
    if reader.fields.get(vocab_key) is not None:
        vocab_size = _count(reader, path, vocab_key)
    else:
        vocab_size = len(_field(reader, "tokenizer.ggml.tokens"))
        if vocab_size < 1:
            raise _bad(path, "tokenizer.ggml.tokens", [], "(no tokens)")
    tensor_names = {t.name for t in reader.tensors}
    layers_key = f"{arch}.block_count"
    num_layers = _count(reader, path, layers_key)
    blocks = {name.split(".")[1] for name in tensor_names if name.startswith("blk.")}
    if blocks and blocks != {str(i) for i in range(num_layers)}:
        raise _bad(path, layers_key, num_layers, f"but the file holds the tensors of "
                                                 f"{len(blocks)} layers")
    return LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=_count(reader, path, f"{arch}.feed_forward_length"),
        num_layers=num_layers,
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        rope_theta=_positive(reader, path, f"{arch}.rope.freq_base", 10000.0),
        rms_norm_eps=_positive(reader, path, f"{arch}.attention.layer_norm_rms_epsilon"),
        context_length=_count(reader, path, f"{arch}.context_length"),
        tie_embeddings="output.weight" not in tensor_names,
        bos_token_id=int(_field(reader, "tokenizer.ggml.bos_token_id", 1)),
        eos_token_id=int(_field(reader, "tokenizer.ggml.eos_token_id", 2)),
    )


def expected_shape(name, config):
    """Shape of parameter `name` (magicpig.llama) under `config`, and the
    metadata keys it follows from."""
    c, kind = config, name.split(".")[-1]
    q, kv = c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim
    heads = ("embedding_length", "attention.head_count", "rope.dimension_count")
    kv_heads = ("embedding_length", "attention.head_count_kv", "rope.dimension_count")
    ffn = ("embedding_length", "feed_forward_length")
    return {
        "embed": ([c.vocab_size, c.hidden_size], ("vocab_size", "embedding_length")),
        "lm_head": ([c.vocab_size, c.hidden_size], ("vocab_size", "embedding_length")),
        "final_norm": ([c.hidden_size], ("embedding_length",)),
        "attn_norm": ([c.hidden_size], ("embedding_length",)),
        "ffn_norm": ([c.hidden_size], ("embedding_length",)),
        "wq": ([q, c.hidden_size], heads), "wo": ([c.hidden_size, q], heads),
        "wk": ([kv, c.hidden_size], kv_heads), "wv": ([kv, c.hidden_size], kv_heads),
        "w_gate": ([c.intermediate_size, c.hidden_size], ffn),
        "w_up": ([c.intermediate_size, c.hidden_size], ffn),
        "w_down": ([c.hidden_size, c.intermediate_size], ffn),
    }[kind]


def _metadata(reader, arch, keys, config):
    shown = []
    for key in keys:
        field = reader.fields.get(f"{arch}.{key}")
        if field is not None:
            shown.append(f"{arch}.{key} = {field.contents()}")
        elif key == "vocab_size":
            shown.append(f"{config.vocab_size} tokens in tokenizer.ggml.tokens")
        else:
            shown.append(f"{arch}.{key} absent")
    return ", ".join(shown)


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


def read_weights(reader, config, path="model"):
    """{parameter name: f32 tensor} with q/k rows in rotate_half order;
    each tensor's shape must be the config's, its values finite."""
    from gguf.quants import dequantize

    weights = {}
    for tensor in reader.tensors:
        name = parameter_name(tensor.name)
        if name is None:
            continue
        # ggml lists dims innermost first; numpy wants them outermost first.
        shape = [int(n) for n in reversed(tensor.shape)]
        want, keys = expected_shape(name, config)
        if shape != want:
            arch = _field(reader, "general.architecture")
            raise MagicPigError(
                f"{path}: tensor {tensor.name} is {'x'.join(map(str, shape))}, the "
                f"metadata ({_metadata(reader, arch, keys, config)}) implies "
                f"{'x'.join(map(str, want))}")
        array = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        array = array.reshape(shape)
        if not np.isfinite(array).all():
            bad = int(np.size(array) - np.isfinite(array).sum())
            raise MagicPigError(f"{path}: tensor {tensor.name} holds {bad} NaN or "
                                f"infinite values: the model file is damaged")
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
    weights = read_weights(reader, config, path)
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
