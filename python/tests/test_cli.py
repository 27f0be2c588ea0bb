"""User errors become one `error:` line and exit status 2, no traceback."""

import os
import subprocess
import sys

import pytest

from conftest import PYTHON_DIR, write_gpt2_gguf
from magicpig.errors import MagicPigError
from magicpig.generate import check_length


def run_module(module, *args, cwd=None):
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def prompt(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompt") / "prompt.txt"
    path.write_text("Hello")
    return str(path)


class Result:
    def __init__(self, returncode, stderr):
        self.returncode, self.stderr = returncode, stderr


def run_in_process(capsys, module, *args):
    """Like run_module, without the seconds of a fresh interpreter."""
    import importlib

    from magicpig.cli import run_main

    capsys.readouterr()
    status = run_main(importlib.import_module(module).main, list(args))
    return Result(status, capsys.readouterr().err)


def assert_one_line_error(result, text):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines[-1].startswith("error: ") and text in lines[-1], result.stderr


def test_error_through_python_dash_m(prompt):
    """The real entry point: exit status 2 and one line, no traceback."""
    result = run_module("magicpig.generate", "--prompt-file", prompt, "--lsh-bits", "0")
    assert_one_line_error(result, "--lsh-bits must be in 1..16, got 0")
    assert result.stderr.strip() == "error: --lsh-bits must be in 1..16, got 0"


@pytest.mark.parametrize("flags, text", [
    (["--lsh-bits", "0"], "--lsh-bits must be in 1..16, got 0"),
    (["--lsh-bits", "17"], "--lsh-bits must be in 1..16, got 17"),
    (["--lsh-tables", "0"], "--lsh-tables must be >= 1, got 0"),
    (["--lsh-tables", "4", "--min-collisions", "5"], "--min-collisions must be in 1..4"),
    (["--min-collisions", "0"], "--min-collisions must be in 1..200"),
    (["--sink-tokens", "-1"], "--sink-tokens must be >= 0"),
    (["--max-new-tokens", "0"], "--max-new-tokens must be >= 1"),
    (["--top-p", "0"], "--top-p must be in (0, 1]"),
    (["--backend", "reference", "--library", "x.so"], "--library needs --backend compiled"),
    (["--seed", "-1"], "--seed must be in 0..2^64-1"),
    (["--target", "cuda", "--backend", "reference"], "--target cuda needs --backend compiled"),
    (["--chip", "sm_80"], "--chip needs --target cuda"),
    (["--weight-type", "bf16", "--library", "x.so"],
     "--weight-type applies when generate compiles the graph"),
    (["--weight-type", "bf16", "--backend", "reference"],
     "--weight-type applies when generate compiles the graph"),
])
def test_generate_rejects_bad_options(capsys, prompt, flags, text):
    assert_one_line_error(run_in_process(capsys, "magicpig.generate", "--prompt-file",
                                         prompt, *flags), text)


def test_generate_target_cuda_without_a_gpu(capsys, prompt, monkeypatch):
    """No driver (LD_LIBRARY_PATH cannot be changed in-process, so the probe
    is replaced): refused before the model is loaded."""
    import magicpig.cuda

    monkeypatch.setattr(magicpig.cuda, "device_count", lambda compiler: -1)
    monkeypatch.setenv("MAGICPIG_COMPILE", sys.executable)  # any executable
    assert_one_line_error(run_in_process(capsys, "magicpig.generate", "--prompt-file",
                                         prompt, "--target", "cuda"),
                          "--target cuda: no CUDA driver here (libcuda.so.1 not found)")


def test_generate_missing_and_empty_prompt_file(capsys, tmp_path):
    assert_one_line_error(run_in_process(capsys, "magicpig.generate", "--prompt-file",
                                         str(tmp_path / "nope.txt")),
                          "prompt file not found")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    assert_one_line_error(run_in_process(capsys, "magicpig.generate", "--prompt-file",
                                         str(empty)), "prompt file is empty")


def test_generate_missing_model_file(capsys, prompt, tmp_path):
    assert_one_line_error(run_in_process(capsys, "magicpig.generate", "--prompt-file",
                                         prompt, "--gguf", str(tmp_path / "m.gguf")),
                          "model file not found")


def test_export_missing_model_file(tmp_path):
    assert_one_line_error(run_module("magicpig.export", "--gguf", str(tmp_path / "m.gguf"),
                                     "--out", str(tmp_path / "out")),
                          "model file not found")


def test_generate_help_names_the_reference_path():
    out = run_module("magicpig.generate", "--help").stdout
    assert "--backend {compiled,reference}" in out and "numpy reference" in out


def test_prompt_longer_than_the_context():
    with pytest.raises(MagicPigError, match="the prompt has 9000 tokens; the model's "
                                            "context is 8192 tokens"):
        check_length(9000, 10, 8192)
    assert check_length(8000, 500, 8192) == 192  # generation stops at the end


def test_dense_layers_out_of_range():
    from magicpig.options import MagicPigOptions

    with pytest.raises(MagicPigError, match="--dense-layers: layer 30 is out of range"):
        MagicPigOptions(dense_layers=(0, 30)).dense_layer_set(30)
    assert MagicPigOptions().dense_layer_set(30) == {0, 15}
    assert MagicPigOptions(dense_layers=(-1,)).dense_layer_set(30) == set()


def test_lsh_defaults_follow_the_head_dim():
    from magicpig.options import MagicPigOptions

    assert (MagicPigOptions.for_model(64).lsh_bits,
            MagicPigOptions.for_model(64).lsh_tables) == (11, 200)
    assert (MagicPigOptions.for_model(128).lsh_bits,
            MagicPigOptions.for_model(128).lsh_tables) == (10, 150)
    given = MagicPigOptions.for_model(64, lsh_tables=120, min_collisions=3)
    assert (given.lsh_bits, given.lsh_tables, given.min_collisions) == (11, 120, 3)


def test_generate_corrupt_model_file(capsys, prompt, tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    assert_one_line_error(run_in_process(capsys, "magicpig.generate", "--prompt-file",
                                         prompt, "--gguf", str(bad)),
                          "is not a readable GGUF file")


def test_generate_unsupported_architecture(capsys, prompt, tmp_path):
    path = write_gpt2_gguf(tmp_path / "gpt2.gguf")
    assert_one_line_error(run_in_process(capsys, "magicpig.generate", "--prompt-file",
                                         prompt, "--gguf", path),
                          "unsupported architecture 'gpt2'")


def test_library_options_must_match_the_library():
    from magicpig.generate import build_parser, check_library_options

    compiled = {"lsh-bits": 10, "lsh-tables": 150, "min-collisions": 2,
                "sink-tokens": 4, "window-tokens": 64, "seed": 0, "dense-layers": None}
    args = build_parser().parse_args(["--prompt-file", "p", "--library", "g.so",
                                      "--lsh-tables", "150"])
    check_library_options(args, compiled, "g.so")  # same value: fine
    args = build_parser().parse_args(["--prompt-file", "p", "--library", "g.so",
                                      "--lsh-bits", "8"])
    with pytest.raises(MagicPigError, match="--lsh-bits=8 differs from the lsh-bits "
                                            "the library g.so was compiled with"):
        check_library_options(args, compiled, "g.so")
    args = build_parser().parse_args(["--prompt-file", "p", "--library", "g.so",
                                      "--dense-layers", "-1"])
    with pytest.raises(MagicPigError, match="--dense-layers=-1 differs"):
        check_library_options(args, compiled, "g.so")


def test_prompt_file_loses_its_trailing_whitespace(tmp_path):
    from magicpig.generate import read_prompt

    path = tmp_path / "p.txt"
    path.write_text("  Question?\n\n")
    assert read_prompt(str(path)) == "  Question?"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1"])
def test_generate_rejects_non_finite_temperature(capsys, prompt, tmp_path, value):
    """Refused up front, not after the prefill as a sampling traceback."""
    assert_one_line_error(run_in_process(capsys, "magicpig.generate", "--prompt-file",
                                         prompt, "--gguf", str(tmp_path / "m.gguf"),
                                         f"--temperature={value}"),
                          "--temperature must be a finite number >= 0")


@pytest.mark.parametrize("temperature", [1e-40, 1e-300, 5e-324])
def test_tiny_temperature_samples_the_top_token(temperature):
    """logits / t overflows for a tiny t (inf - inf = NaN in the softmax):
    sampled from the top logit down it is the greedy choice."""
    import torch

    from magicpig.sampling import next_token

    logits = torch.randn(1000, generator=torch.Generator().manual_seed(3))
    generator = torch.Generator().manual_seed(0)
    for top_p in (0.9, 1.0):
        assert next_token(logits, False, temperature, top_p, generator) == \
            int(torch.argmax(logits))


class _NonFiniteBackend:
    """Logits of a model with damaged weights: NaN from `bad_step` on."""

    def __init__(self, bad_step, value=float("nan")):
        self.bad_step, self.value, self.steps = bad_step, value, 0

    def _logits(self):
        import torch

        logits = torch.zeros(16)
        logits[5] = 1.0
        if self.steps >= self.bad_step:
            logits[::2] = self.value
        return logits

    def prefill(self, ids):
        return self._logits()

    def decode(self, token):
        self.steps += 1
        return self._logits()


@pytest.mark.parametrize("bad_step, value, where", [
    (0, float("nan"), "the prefill produced non-finite logits (8 NaN, 0 infinite of 16)"),
    (2, float("inf"), "decode step 2 produced non-finite logits (0 NaN, 8 infinite"),
])
def test_non_finite_logits_are_an_error(bad_step, value, where):
    """Not an empty or garbage answer with exit status 0."""
    from magicpig.generate import generate_tokens

    with pytest.raises(MagicPigError) as e:
        generate_tokens(_NonFiniteBackend(bad_step, value), [1, 2], 8, eos_token_id=0)
    assert where in str(e.value) and "\n" not in str(e.value)
