"""Bad model files: one-line errors naming the problem."""

import pytest

from conftest import write_gpt2_gguf, write_llama_gguf

from magicpig.errors import MagicPigError
from magicpig.gguf_model import load_gguf, load_llama, parameter_name


def test_missing_file(tmp_path):
    with pytest.raises(MagicPigError, match="model file not found"):
        load_gguf(str(tmp_path / "none.gguf"))


@pytest.mark.parametrize("content", [b"", b"not a gguf file at all" * 10,
                                     b"GGUF\x03\x00\x00\x00" + b"\xff" * 40])
def test_corrupt_file(tmp_path, content):
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(MagicPigError, match="is not a readable GGUF file") as e:
        load_gguf(str(path))
    assert "\n" not in str(e.value)


def test_unsupported_architecture(tmp_path):
    path = write_gpt2_gguf(tmp_path / "gpt2.gguf")
    with pytest.raises(MagicPigError, match="unsupported architecture 'gpt2'"):
        load_gguf(path)


def test_tensor_names_map_to_parameters():
    assert parameter_name("blk.12.attn_q.weight") == "layers.12.wq"
    assert parameter_name("blk.0.ffn_down.weight") == "layers.0.w_down"
    assert parameter_name("token_embd.weight") == "embed"
    assert parameter_name("output.weight") == "lm_head"
    assert parameter_name("rope_freqs.weight") is None


def test_consistent_tiny_llama_loads(tmp_path):
    model = load_llama(write_llama_gguf(tmp_path / "ok.gguf"))
    assert (model.config.num_heads, model.config.num_kv_heads, model.config.head_dim) \
        == (4, 2, 4)


@pytest.mark.parametrize("metadata, text", [
    ({"attention__head_count": 0}, "llama.attention.head_count = 0 (must be a positive"),
    ({"attention__head_count_kv": 0},
     "llama.attention.head_count_kv = 0 (must be a positive"),
    ({"attention__head_count_kv": 3},
     "llama.attention.head_count_kv = 3 does not divide llama.attention.head_count = 4"),
    ({"rope__dimension_count": 3}, "llama.rope.dimension_count = 3 is odd"),
    ({"rope__dimension_count": 0}, "llama.rope.dimension_count = 0 (must be a positive"),
    ({"embedding_length": 7, "rope__dimension_count": None},
     "llama.embedding_length = 7 is not a multiple of llama.attention.head_count = 4"),
    ({"embedding_length": 7},
     "tensor token_embd.weight is 8x16, the metadata (llama.vocab_size = 8, "
     "llama.embedding_length = 7) implies 8x7"),
    ({"rope__dimension_count": 6}, "tensor blk.0.attn_q.weight is 16x16, the metadata "
     "(llama.embedding_length = 16, llama.attention.head_count = 4, "
     "llama.rope.dimension_count = 6) implies 24x16"),
    ({"block_count": 0}, "llama.block_count = 0 (must be a positive integer)"),
    ({"block_count": 1000000}, "llama.block_count = 1000000 but the file holds the "
                               "tensors of 1 layers"),
    ({"feed_forward_length": 0}, "llama.feed_forward_length = 0"),
    ({"context_length": 0}, "llama.context_length = 0"),
    ({"vocab_size": 0}, "llama.vocab_size = 0"),
    ({"attention__layer_norm_rms_epsilon": float("nan")},
     "llama.attention.layer_norm_rms_epsilon = nan (must be a finite positive number)"),
    ({"rope__freq_base": -1.0}, "llama.rope.freq_base = -1.0"),
])
def test_inconsistent_metadata_is_a_one_line_error(tmp_path, metadata, text):
    """Each names the key and its value, instead of a ZeroDivisionError or
    ValueError traceback or a shape mismatch in load_state_dict."""
    path = write_llama_gguf(tmp_path / "bad.gguf", **metadata)
    with pytest.raises(MagicPigError, match="inconsistent GGUF metadata|tensor ") as e:
        load_llama(path)
    assert text in str(e.value) and "\n" not in str(e.value)
    assert str(e.value).startswith(path)


def test_non_finite_weights_are_named(tmp_path):
    """A damaged tensor (NaN) fails at load, not as NaN logits later."""
    path = write_llama_gguf(tmp_path / "nan.gguf", nan_tensor="blk.0.ffn_up.weight")
    with pytest.raises(MagicPigError, match="tensor blk.0.ffn_up.weight holds 1 NaN "
                                            "or infinite values"):
        load_llama(path)
