"""`python3 -m magicpig.generate --model PATH` on the files users have,
written here from tiny random models (python/tests/hf_files.py, no hub):

- checkpoint directories (save_pretrained of a model and of a byte-level
  BPE tokenizer): a Llama with a chat template and a Qwen3 without one;
- a Qwen2 GGUF with F32, F16, Q8_0 and Q4_K tensors and the same kind of
  tokenizer, read back by transformers' own GGUF loading.

The CLI runs in a subprocess with --greedy; its generated token ids
(--show-token-ids) must equal transformers eager `generate(do_sample=False)`
on the same prompt ids (the in-memory model for a directory, transformers'
GGUF loading of the file for the GGUF); with a complete MagicPIG sample
(K=1, L=64, T=1, no dense layer) the sampled graph gives the same ids.
The errors (no such path, no config.json, unknown or non-causal
architectures, no tokenizer, no weights, a bad or unsupported GGUF, options
that do not apply) are one `error:` line and exit status 2.
"""

import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import PYTHON_DIR, project_tool, write_gpt2_gguf
from hf_files import (CHAT_TEMPLATE, CORPUS, save_checkpoint, tiny_tokenizer,
                      write_gguf_of_arch, write_qwen2_gguf)
from hf_tiny import tiny_model

NEW_TOKENS = 8
PROMPT = CORPUS[:160].strip()
COMPLETE = ["--lsh-bits", "1", "--lsh-tables", "64", "--min-collisions", "1",
            "--sink-tokens", "4", "--window-tokens", "16", "--dense-layers", "-1"]
needs_compiler = pytest.mark.skipif(project_tool("magicpig-compile") is None,
                                    reason="magicpig-compile not built")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The model files, the prompt file and the cache folder of the runs."""
    root = tmp_path_factory.mktemp("user_models")
    prompt = root / "prompt.txt"
    prompt.write_text(PROMPT + "\n")
    made = {"root": root, "prompt": str(prompt), "cache": str(root / "cache")}
    chat = tiny_tokenizer(chat_template=CHAT_TEMPLATE)
    llama = tiny_model("llama", vocab_size=len(chat))
    made["llama"] = (llama, chat, save_checkpoint(llama, chat, root / "llama"))
    plain = tiny_tokenizer()
    qwen3 = tiny_model("qwen3", vocab_size=len(plain), num_hidden_layers=1, seed=1)
    made["qwen3"] = (qwen3, plain, save_checkpoint(qwen3, plain, root / "qwen3"))
    # Q4_K works on rows of 256 values: the MLP's down projection's.
    qwen2 = tiny_model("qwen2", vocab_size=len(plain), intermediate_size=256,
                       num_hidden_layers=1, seed=2)
    gguf_path = str(root / "tiny-qwen2.gguf")
    made["gguf_types"] = write_qwen2_gguf(qwen2, plain, gguf_path)
    made["qwen2"] = (qwen2, plain, gguf_path)
    return made


def run_cli(files, *args, timeout=300):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, MAGICPIG_CACHE=files["cache"],
               HF_HUB_OFFLINE="1")
    if project_tool("magicpig-compile"):
        env["MAGICPIG_COMPILE"] = project_tool("magicpig-compile")
    cmd = [sys.executable, "-m", "magicpig.generate", "--prompt-file", files["prompt"],
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def token_ids(stderr, which):
    prefix = f"[magicpig] {which} token ids:"
    lines = [l for l in stderr.splitlines() if l.startswith(prefix)]
    assert lines, stderr[-2000:]
    return [int(x) for x in lines[-1][len(prefix):].split()]


def eager_greedy(model, ids):
    """transformers' own greedy generation (stops at eos, as the CLI)."""
    x = torch.tensor([ids])
    with torch.no_grad():
        out = model.generate(x, attention_mask=torch.ones_like(x),
                             max_new_tokens=NEW_TOKENS, do_sample=False)
    return out[0, len(ids):].tolist()


def chat_ids(tokenizer, text):
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": text}],
                                             add_generation_prompt=True, tokenize=False)
    return tokenizer(rendered, add_special_tokens=False)["input_ids"]


def generate_ids(files, model_path, *options):
    result = run_cli(files, "--model", model_path, "--greedy", "--show-token-ids",
                     "--max-new-tokens", str(NEW_TOKENS), *options)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "tokens/s" in result.stderr
    return token_ids(result.stderr, "prompt"), token_ids(result.stderr, "generated"), result


@needs_compiler
def test_checkpoint_dir_chat_template_dense_and_complete_sample(files):
    model, tokenizer, directory = files["llama"]
    want_prompt = chat_ids(tokenizer, PROMPT)
    want = eager_greedy(model, want_prompt)
    prompt, dense, result = generate_ids(files, directory, "--attention", "dense")
    assert prompt == want_prompt
    assert dense == want
    assert result.stdout.strip() == tokenizer.decode(want, skip_special_tokens=True).strip()
    prompt, sampled, result = generate_ids(files, directory, "--attention", "magicpig",
                                           *COMPLETE)
    assert sampled == want
    assert "2 of 2 layers sampled" in result.stderr


@needs_compiler
def test_checkpoint_dir_raw_prompt(files):
    """No chat template: the raw prompt after the tokenizer's <s>."""
    model, tokenizer, directory = files["qwen3"]
    want_prompt = tokenizer(PROMPT)["input_ids"]
    assert want_prompt[0] == 1
    prompt, new, _ = generate_ids(files, directory, "--attention", "dense")
    assert prompt == want_prompt
    assert new == eager_greedy(model, want_prompt)


@needs_compiler
def test_gguf_k_quants_match_transformers_gguf_loading(files):
    import gguf
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, _, path = files["qwen2"]
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(path).tensors}
    assert set(types.values()) == {"F32", "F16", "Q8_0", "Q4_K"}
    directory, name = os.path.split(path)
    reference = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name,
                                                     dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    # The file holds the source model's weights (4-bit ones within a step).
    down = reference.model.layers[0].mlp.down_proj.weight
    assert (down - source.model.layers[0].mlp.down_proj.weight).abs().max() < 0.05
    want_prompt = tokenizer(PROMPT)["input_ids"]
    prompt, new, result = generate_ids(files, path, "--attention", "dense")
    assert prompt == want_prompt
    assert new == eager_greedy(reference, want_prompt)
    assert "from the gguf" in result.stderr
    assert "loading and dequantizing" in result.stderr
    # A second run loads the checkpoint the first one converted (same ids).
    _, again, result = generate_ids(files, path, "--attention", "dense")
    assert again == new
    assert "as converted before" in result.stderr


# The errors: in-process through cli.run_main (no model is compiled).

def run_main_error(capsys, argv):
    from magicpig.cli import run_main
    from magicpig.generate import main

    status = run_main(main, argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2, err
    assert err and err[-1].startswith("error: "), err
    return err[-1]


def _argv(files, model, *extra):
    return ["--prompt-file", files["prompt"], "--model", str(model), *extra]


def test_missing_path(files, capsys):
    line = run_main_error(capsys, _argv(files, files["root"] / "nowhere"))
    assert "no such file or directory" in line and "gemma3-270m" in line


def test_missing_path_cli_is_one_line(files):
    result = run_cli(files, "--model", str(files["root"] / "nowhere"), timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("error: ")


def test_dir_without_config(files, capsys):
    empty = files["root"] / "empty"
    empty.mkdir(exist_ok=True)
    assert "has no config.json" in run_main_error(capsys, _argv(files, empty))


def test_unknown_architecture(files, capsys):
    d = files["root"] / "unknown"
    d.mkdir(exist_ok=True)
    (d / "config.json").write_text(json.dumps({"model_type": "nosucharch"}))
    line = run_main_error(capsys, _argv(files, d))
    assert "unknown architecture 'nosucharch'" in line


def test_not_a_causal_lm(files, capsys):
    from transformers import ViTConfig

    d = files["root"] / "vit"
    ViTConfig().save_pretrained(str(d))
    line = run_main_error(capsys, _argv(files, d))
    assert "'vit' is not a causal language model" in line


def test_dir_without_tokenizer(files, capsys):
    d = files["root"] / "no_tokenizer"
    files["qwen3"][0].config.save_pretrained(str(d))
    assert "has no tokenizer" in run_main_error(capsys, _argv(files, d))


def test_dir_without_weights(files, capsys):
    d = files["root"] / "no_weights"
    model, tokenizer, _ = files["qwen3"]
    model.config.save_pretrained(str(d))
    tokenizer.save_pretrained(str(d))
    assert "cannot load the weights" in run_main_error(capsys, _argv(files, d))


def test_not_a_gguf(files, capsys):
    bad = files["root"] / "bad.gguf"
    bad.write_bytes(b"not a model at all")
    assert "does not start with 'GGUF'" in run_main_error(capsys, _argv(files, bad))


def test_truncated_gguf(files, capsys):
    cut = files["root"] / "cut.gguf"
    cut.write_bytes(open(files["qwen2"][2], "rb").read()[:200])
    assert "not a readable GGUF file" in run_main_error(capsys, _argv(files, cut))


def test_gguf_architecture_transformers_cannot_load(files, capsys):
    path = write_gguf_of_arch(files["root"] / "olmo2.gguf", "olmo2")
    line = run_main_error(capsys, _argv(files, path))
    assert "cannot load a GGUF of architecture 'olmo2'" in line


def test_gguf_without_tokenizer(files, capsys):
    path = write_gpt2_gguf(files["root"] / "gpt2-no-tokenizer.gguf")
    assert "carries no tokenizer" in run_main_error(capsys, _argv(files, path))


@pytest.mark.parametrize("extra, why", [
    (["--gguf", "x.gguf"], "--gguf"),
    (["--library", "x.so"], "--library"),
    (["--backend", "reference"], "--backend reference"),
    (["--target", "cuda"], "--target cuda"),
])
def test_options_that_do_not_apply(files, capsys, extra, why):
    line = run_main_error(capsys, _argv(files, files["llama"][2], *extra))
    assert line.startswith(f"error: not with --model: {why}")


@needs_compiler
def test_serve_model_answers_as_transformers(files, tmp_path):
    """`magicpig.serve --model DIR`: concurrent requests (token-id prompts of
    different lengths, one streaming, one chat) decoded as one batch by
    the compiled dense graph's decode_batch, each answer transformers'
    own greedy generation of the same ids."""
    import concurrent.futures

    from test_serve import call, free_port, stream, streamed_text, wait_until_serving

    model, tokenizer, directory = files["llama"]
    port = free_port()
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, MAGICPIG_CACHE=files["cache"],
               HF_HUB_OFFLINE="1", MAGICPIG_COMPILE=project_tool("magicpig-compile"))
    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "magicpig.serve", "--model",
                                 directory, "--attention", "dense", "--port", str(port),
                                 "--max-batch", "4"],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        wait_until_serving(port, proc, log)
        base = tokenizer(CORPUS, add_special_tokens=False)["input_ids"]
        prompts = [base[:40], base[5:70], base[12:31]]
        jobs = [("/v1/completions", {"prompt": ids, "max_tokens": NEW_TOKENS,
                                     "temperature": 0}, ids, i == 1)
                for i, ids in enumerate(prompts)]
        chat = {"messages": [{"role": "user", "content": PROMPT}],
                "max_tokens": NEW_TOKENS, "temperature": 0}
        jobs.append(("/v1/chat/completions", chat, chat_ids(tokenizer, PROMPT), False))

        def ask(job):
            path, body, _, streaming = job
            if streaming:
                return streamed_text(stream(port, path, body), chat=False)
            status, answer = call(port, "POST", path, body)
            assert status == 200, answer
            choice = answer["choices"][0]
            return choice["text"] if "text" in choice else choice["message"]["content"]

        with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
            answers = list(pool.map(ask, jobs))
        assert all(len(a) >= NEW_TOKENS // 2 for a in answers), answers  # not ended at once
        for (_, _, ids, _), answer in zip(jobs, answers):
            want = eager_greedy(model, ids)
            assert answer == tokenizer.decode(want, skip_special_tokens=True)
        assert "one decode_batch call per step" in log.read_text()
        status, models = call(port, "GET", "/v1/models")
        assert status == 200 and models["data"][0]["id"] == "llama"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
