"""SmolLM2-135M-Instruct through the compiled graphs (marked slow: the
first run exports the model and compiles it twice, dense and MagicPIG at
the model's defaults (head dim 64: K = 11, L = 200; T = 2, S = 4, W = 64,
dense layers {0, 15}; magicpig.options);
the graphs are cached in ~/.cache/magicpig/graphs for later runs).

    ~/.cache/magicpig/venv/bin/python -m pytest -m slow python/tests/test_compiled_real_model.py

Measured figures and run times are recorded in docs/model-export.md.
"""

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import PYTHON_DIR, project_tool
from magicpig.options import MagicPigOptions

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(project_tool("magicpig-compile") is None,
                                 reason="magicpig-compile not built")]

GPL2 = "/usr/share/common-licenses/GPL-2"  # Debian base-files: always there
LONG_QUESTION = ("\n\nQuestion: according to the license above, what must you do "
                 "when you distribute copies of the program? Answer in a few sentences.")
PASSKEY = "68513"


def haystack(tokens_wanted, tokenizer, depth=0.4):
    """Filler text with the pass key sentence at `depth` of it, then the
    question; about `tokens_wanted` tokens with the chat template."""
    filler = ("The grass is green. The sky is blue. The sun is yellow. "
              "Here we go. There and back again. ")
    per = len(tokenizer.encode(filler))
    n = tokens_wanted // per
    at = int(n * depth)
    needle = f"The pass key is {PASSKEY}. Remember it. {PASSKEY} is the pass key. "
    text = filler * at + needle + filler * (n - at)
    return ("There is important info hidden inside a lot of irrelevant text. "
            "Find it and memorize it.\n\n" + text + "\n\nWhat is the pass key "
            "mentioned in the text above? Answer with the number only.")


@pytest.fixture(scope="module")
def graphs(model, gguf_path):
    from magicpig.graph_cache import compiled_graph, file_key

    os.environ.setdefault("MAGICPIG_COMPILE", project_tool("magicpig-compile"))
    key = file_key(gguf_path)
    options = MagicPigOptions.for_model(model.config.head_dim)
    return {a: compiled_graph(model, key, a, options) for a in ("dense", "magicpig")}


def greedy(model, library, ids, max_new, eos=-1):
    """(tokens, logits per step, backend, decode tokens/s); eos=-1 never
    stops, so that two runs are compared over the same length."""
    from magicpig.backends import CompiledBackend
    from magicpig.generate import generate_tokens

    backend = CompiledBackend(model, library)
    seen = []

    def choose(logits):
        seen.append(logits.clone())
        return int(torch.argmax(logits))

    tokens, _, decode_s, steps = generate_tokens(backend, ids, max_new, eos, choose)
    return tokens, torch.stack(seen), backend, steps / decode_s


def forced(model, library, ids, tokens):
    """Teacher forcing: feeds `tokens` (dense's greedy answer) and returns
    how many of the graph's own greedy choices match them."""
    from magicpig.backends import CompiledBackend
    from magicpig.generate import generate_tokens

    backend = CompiledBackend(model, library)
    step = iter(range(len(tokens)))
    hits = []

    def choose(logits):
        i = next(step)
        hits.append(int(torch.argmax(logits)) == tokens[i])
        return tokens[i]

    generate_tokens(backend, ids, len(tokens), -1, choose)
    return sum(hits)


def report(line):
    print(f"\n[measured] {line}", file=sys.stderr)


def test_compiled_dense_logits_match_eager(model, tokenizer, graphs):
    """Short prompt, 8 greedy steps. The compiled graph sums in another order
    than PyTorch; the tolerance 2e-3 on logits of magnitude ~20 (relative
    1e-4) is what f32 reordering over 30 layers allows, while a wrong mask,
    RoPE position or cache step changes logits by 0.1 or more."""
    ids = tokenizer.chat_prompt("What is the capital of France? Answer in one sentence.")
    tokens, logits, _, _ = greedy(model, graphs["dense"], ids, 8)
    with torch.no_grad():
        eager = model(torch.tensor([ids + tokens[:-1]]))[0, len(ids) - 1:]
    diff = (logits - eager).abs().max().item()
    report(f"compiled dense vs eager, {len(ids)}-token prompt, 8 steps: max |logit "
           f"diff| {diff:.2e} (logits up to {eager.abs().max().item():.1f})")
    assert diff < 2e-3
    assert tokens == [int(t) for t in eager.argmax(-1)]


def test_magicpig_agrees_with_dense_on_a_4k_prompt(model, tokenizer, graphs):
    with open(GPL2, encoding="utf-8") as f:
        ids = tokenizer.chat_prompt(f.read() + LONG_QUESTION)
    assert len(ids) >= 4000
    start = time.perf_counter()
    dense, _, _, dense_rate = greedy(model, graphs["dense"], ids, 32)
    mid = time.perf_counter()
    sampled, _, backend, sampled_rate = greedy(model, graphs["magicpig"], ids, 32)
    end = time.perf_counter()
    prefix = next((i for i, (a, b) in enumerate(zip(dense, sampled)) if a != b), 32)
    same = sum(a == b for a, b in zip(dense, sampled))
    teacher = forced(model, graphs["magicpig"], ids, dense)
    stats = backend.keys_touched
    report(f"GPL-2 + question, {len(ids)} tokens, 32 greedy tokens: MagicPIG = dense "
           f"on the first {prefix} tokens ({same}/32 positions equal); fed dense's "
           f"tokens, MagicPIG picks the same next token {teacher}/32 times; keys "
           f"touched {100 * stats.fraction():.1f}% (retrieved "
           f"{100 * stats.retrieved_fraction():.1f}% of the hashed middle); decode "
           f"{dense_rate:.2f} tok/s dense, {sampled_rate:.2f} tok/s MagicPIG; "
           f"{mid - start:.0f} s + {end - mid:.0f} s")
    report("dense:    " + repr(tokenizer.decode(dense)))
    report("magicpig: " + repr(tokenizer.decode(sampled)))
    # Measured at the default K = 11, L = 200: the answers part after 20
    # tokens (3 at the paper's K = 10, L = 150: greedy decoding amplifies
    # one flipped near-tie into another, equally valid wording), while step
    # by step MagicPIG keeps dense's choice 30/32 times. The prefix hangs
    # on single near-ties, so its bar stays at the lowest value measured;
    # the teacher-forced rate is the stable measure (docs/model-export.md).
    assert prefix >= 3
    assert teacher >= 28
    assert stats.retrieved_fraction() < 0.2


def test_compiled_magicpig_matches_the_numpy_reference(model, tokenizer, graphs):
    """The compiled graph against magicpig.reference (numpy, written
    independently from the lowerings) on the 4K prompt: same index, same
    sampled keys up to the odd hash bit that f32 rounding flips, so the
    divergence from dense above is the estimator's, not the compiler's.
    Measured: logits 5e-5, 1.1e-4, 6e-5 apart on the first three steps,
    0.24 on the fourth (152K retrieved keys, 9 differ); same tokens."""
    from magicpig.backends import CompiledBackend, ReferenceBackend

    with open(GPL2, encoding="utf-8") as f:
        ids = tokenizer.chat_prompt(f.read() + LONG_QUESTION)
    compiled = CompiledBackend(model, graphs["magicpig"])
    reference = ReferenceBackend(model, "magicpig",
                                 MagicPigOptions.for_model(model.config.head_dim),
                                 len(ids) + 8)
    lc, lr = compiled.prefill(ids), reference.prefill(ids)
    diffs = []
    for _ in range(4):
        token = int(torch.argmax(lc))
        assert token == int(torch.argmax(lr))
        lc, lr = compiled.decode(token), reference.decode(token)
        diffs.append((lc - lr).abs().max().item())
    a, b = compiled.keys_touched, reference.keys_touched
    report(f"compiled MagicPIG vs numpy reference, {len(ids)} tokens, 4 steps: max "
           f"|logit diff| per step {', '.join(f'{d:.1e}' for d in diffs)}; retrieved "
           f"{a.retrieved} vs {b.retrieved} of {a.middle} middle keys x heads")
    assert int(torch.argmax(lc)) == int(torch.argmax(lr))
    assert diffs[0] < 1e-3
    assert abs(a.retrieved - b.retrieved) <= 1e-3 * b.retrieved
    assert a.middle == b.middle


def test_passkey_is_recovered(model, tokenizer, graphs):
    ids = tokenizer.chat_prompt(haystack(5000, tokenizer))
    assert 4000 <= len(ids) <= 8000
    answers = {}
    for attention in ("dense", "magicpig"):
        tokens, _, _, _ = greedy(model, graphs[attention], ids, 20,
                                 eos=tokenizer.eos_token_id)
        answers[attention] = tokenizer.decode(tokens, skip_special_tokens=True)
    report(f"pass key in a {len(ids)}-token haystack at 40% depth: "
           f"dense {answers['dense']!r}; MagicPIG {answers['magicpig']!r}")
    assert PASSKEY in answers["dense"]  # the task is within the model's reach
    assert PASSKEY in answers["magicpig"]


def run_generate(*args):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "magicpig.generate", *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_prompt_longer_than_the_context(tmp_path):
    prompt = tmp_path / "long.txt"
    prompt.write_text("word " * 9000)
    result = run_generate("--prompt-file", str(prompt))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert re.search(r"^error: the prompt has \d+ tokens; the model's context is "
                     r"8192 tokens$", result.stderr.strip().splitlines()[-1])


def test_weights_not_matching_the_graph(tmp_path):
    """SmolLM2's weights against a graph compiled for the tiny model."""
    from magicpig.export import tiny_model
    from magicpig.graph_cache import compiled_graph

    os.environ.setdefault("MAGICPIG_COMPILE", project_tool("magicpig-compile"))
    library = compiled_graph(tiny_model(num_layers=2), "tiny-2", "dense",
                             MagicPigOptions(), root=str(tmp_path))
    prompt = tmp_path / "p.txt"
    prompt.write_text("Hello")
    result = run_generate("--prompt-file", str(prompt), "--attention", "dense",
                          "--library", library)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: the weights do not match the compiled graph")
