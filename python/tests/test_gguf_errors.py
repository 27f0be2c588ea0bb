"""Bad model files: one-line errors naming the problem."""

import pytest

from conftest import write_gpt2_gguf

from magicpig.errors import MagicPigError
from magicpig.gguf_model import load_gguf, parameter_name


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
