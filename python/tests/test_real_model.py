"""SmolLM2-135M-Instruct end to end (marked slow: downloads ~93 MB once).

    pytest -m slow python/tests      # from the repository root
"""

import os
import subprocess

import pytest
import torch

from conftest import project_tool

pytestmark = pytest.mark.slow

QUESTION = "What is the capital of France? Answer in one sentence."

# A long prompt: the middle must be hashed (N >> sink + window).
FACTS = " ".join(f"Item {i} in the warehouse is a {c} box with serial number {1000 + 7 * i}."
                 for i, c in zip(range(60), ["red", "green", "blue", "yellow"] * 15))
LONG_QUESTION = FACTS + "\n\nWhat colour is item 0? Answer with one word."


def greedy(model, ids, attention, max_new=24, options=None):
    from magicpig.backends import ReferenceBackend
    from magicpig.generate import generate_tokens
    from magicpig.options import MagicPigOptions

    options = options or MagicPigOptions.for_model(model.config.head_dim)
    backend = ReferenceBackend(model, attention, options, len(ids) + max_new)
    out, _, _, _ = generate_tokens(backend, ids, max_new, 2)
    return out, backend.keys_touched


def test_config_from_gguf_metadata(model):
    c = model.config
    assert (c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim,
            c.context_length, c.vocab_size) == (30, 576, 9, 3, 64, 8192, 49152)
    assert c.tie_embeddings and c.rope_theta == 100000.0


def test_logits_match_transformers(model, tokenizer, gguf_path):
    """An independent implementation: transformers dequantizes the GGUF and
    undoes the q/k permutation itself."""
    from transformers import AutoModelForCausalLM

    hf = AutoModelForCausalLM.from_pretrained(os.path.dirname(gguf_path),
                                              gguf_file=os.path.basename(gguf_path),
                                              dtype=torch.float32).eval()
    ids = torch.tensor([tokenizer.chat_prompt(QUESTION)])
    with torch.no_grad():
        diff = (model(ids) - hf(ids).logits).abs().max().item()
    assert diff < 1e-3


def test_chat_template_comes_from_the_gguf(tokenizer):
    text = tokenizer.decode(tokenizer.chat_prompt("hi"))
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")


def test_dense_greedy_answer(model, tokenizer):
    out, _ = greedy(model, tokenizer.chat_prompt(QUESTION), "dense")
    assert "Paris" in tokenizer.decode(out)


def test_magicpig_agrees_with_dense_on_a_long_prompt(model, tokenizer):
    ids = tokenizer.chat_prompt(LONG_QUESTION)
    assert len(ids) > 1000
    dense, _ = greedy(model, ids, "dense", max_new=4)
    sampled, touched = greedy(model, ids, "magicpig", max_new=4)
    assert sampled[:3] == dense[:3]
    assert touched.retrieved_fraction() < 0.2


@pytest.mark.skipif(project_tool("magicpig-opt") is None, reason="magicpig-opt not built")
def test_export_raises_every_decode_attention(model, tmp_path):
    from magicpig.export import write_export

    write_export(model, str(tmp_path))
    raised = subprocess.run([project_tool("magicpig-opt"), "--magicpig-raise-attention",
                             str(tmp_path / "model.mlir")], capture_output=True,
                            text=True, check=True).stdout
    decode = raised[raised.index("func.func @decode"):]
    if "magicpig.attention" not in raised:
        pytest.skip("this magicpig-opt raises nothing (pass not built in)")
    assert decode.count("magicpig.attention scale(1.250000e-01) ins") == 30
    # The prefill's causal mask of dynamic shape raises too (30 measured).
    prefill = raised[raised.index("func.func @prefill"):raised.index("func.func @decode")]
    assert prefill.count("magicpig.attention scale(1.250000e-01) causal ins") == 30
