"""Export and compile a model once, then reuse the compiled graph.

`python3 -m magicpig.generate --backend compiled` without `--library` calls
`compiled_graph`: the model is exported (`magicpig.export`) into
`$MAGICPIG_CACHE/graphs/<model key>/` and compiled by `magicpig-compile`
into a library named after the attention and the MagicPIG options. The key
of the library also covers the compiler binary, so a rebuilt compiler
recompiles. Both steps print their progress.

Both entries are written under temporary names and renamed when complete
(magicpig.cache_io); processes building the same entry take turns, and an
entry that is cut short (a model.mlir without its end, a truncated
library) is rebuilt after a note.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile

from magicpig.cache_io import (atomic_output, cache_writes, locked,
                               note_rebuild, reason)
from magicpig.cli import progress
from magicpig.elf import incomplete
from magicpig.errors import MagicPigError
from magicpig.model_store import cache_dir

_REPO_BUILD = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "build", "bin", "magicpig-compile")


DEFAULT_CHIP = "sm_90"  # as magicpig-compile --chip


def find_compiler():
    """$MAGICPIG_COMPILE, magicpig-compile on PATH, or the repository's
    build/bin/magicpig-compile."""
    for candidate in (os.environ.get("MAGICPIG_COMPILE"),
                      shutil.which("magicpig-compile"), _REPO_BUILD):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise MagicPigError("magicpig-compile not found (build it with "
                        "scripts/setup.sh, or set MAGICPIG_COMPILE); "
                        "or use --backend reference")


def compile_flags(attention, options, target="cpu", chip=None, weight_type="f32",
                  min_weight_elements=None, kv_type="f32"):
    """magicpig-compile flags for an attention, MagicPigOptions, a target
    ('cpu', or 'cuda' for the GPU `chip`), the weights' element type ('f32'
    or 'bf16'), the least size of a weight matrix when given, and the K/V
    cache's element type ('f32', 'bf16' or 'f16')."""
    flags = [f"--attention={attention}"]
    if weight_type != "f32":
        flags.append(f"--weight-type={weight_type}")
    if kv_type != "f32":
        flags.append(f"--kv-type={kv_type}")
    if min_weight_elements is not None:
        flags.append(f"--min-weight-elements={min_weight_elements}")
    if target == "cuda":
        flags += ["--target=cuda", f"--chip={chip or DEFAULT_CHIP}"]
    if attention == "magicpig":
        o = options
        flags += [f"--lsh-bits={o.lsh_bits}", f"--lsh-tables={o.lsh_tables}",
                  f"--min-collisions={o.min_collisions}",
                  f"--sink-tokens={o.sink_tokens}",
                  f"--window-tokens={o.window_tokens}", f"--seed={o.seed}"]
        if o.dense_layers is not None:
            flags.append("--dense-layers=" + ",".join(str(x) for x in o.dense_layers))
    return flags


def file_key(path):
    """Identity of a model file: name, size and modification time."""
    st = os.stat(path)
    return f"{os.path.basename(path)}-{st.st_size}-{int(st.st_mtime)}"


def _digest(*parts):
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _export_damage(directory):
    """None when DIR holds a complete export, else why not."""
    try:
        with open(os.path.join(directory, "manifest.json")) as f:
            json.load(f)
        with open(os.path.join(directory, "model.mlir"), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 256))
            tail = f.read().rstrip()
    except (OSError, ValueError) as e:  # ValueError: JSON or UTF-8
        return reason(e)
    if not tail.endswith(b"}"):  # a module ends with its closing brace
        return "model.mlir is cut short"
    return None


def export_once(model, directory, exporter=None):
    """DIR/model.mlir of `model`, exported unless already there, by
    `exporter(model, out_dir)` (default `magicpig.export.write_export`
    without weights) writing model.mlir and manifest.json."""
    target = os.path.join(directory, "model.mlir")
    if os.path.isfile(target) and not _export_damage(directory):
        progress(f"using the cached export {target}")
        return target
    with cache_writes(directory):
        os.makedirs(directory, exist_ok=True)
        with locked(target, "the export"):
            if os.path.isfile(target):
                damage = _export_damage(directory)
                if damage is None:  # another process exported it meanwhile
                    progress(f"using the cached export {target}")
                    return target
                note_rebuild(directory, damage)
            if exporter is None:
                from magicpig.export import write_export

                def exporter(model, out_dir):
                    write_export(model, out_dir, weights=False)
            progress(f"exporting the model to linalg MLIR (torch-mlir) in {directory}")
            # Written aside and moved in when complete, model.mlir last: an
            # interrupted export is not mistaken for a cached one.
            staging = tempfile.mkdtemp(dir=directory, prefix=".export.")
            try:
                exporter(model, staging)
                os.replace(os.path.join(staging, "manifest.json"),
                           os.path.join(directory, "manifest.json"))
                os.replace(os.path.join(staging, "model.mlir"), target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return target


def compile_once(mlir, library, flags, compiler):
    """Runs magicpig-compile (its progress goes to stderr) unless `library`
    exists and is whole. Processes compiling the same library take turns
    (the later ones reuse it); each writes its own temporary file, renamed
    to `library` when complete."""
    if os.path.isfile(library) and not incomplete(library):
        progress(f"using the cached graph {library}")
        return library
    with cache_writes(library), locked(library, os.path.basename(library)):
        if os.path.isfile(library):
            damage = incomplete(library)
            if damage is None:  # another process compiled it meanwhile
                progress(f"using the cached graph {library}")
                return library
            note_rebuild(library, damage)
        progress(f"compiling {os.path.basename(library)}: magicpig-compile "
                 f"{' '.join(flags)}")
        with atomic_output(library, suffix=".so") as partial:
            try:
                result = subprocess.run([compiler, mlir, "-o", partial, *flags])
            except OSError as e:
                raise MagicPigError(f"cannot run {compiler}: {reason(e)}")
            if result.returncode != 0:
                raise MagicPigError(f"magicpig-compile failed (exit {result.returncode}); "
                                    f"see its messages above")
    return library


def compiled_graph(model, model_key, attention, options, root=None, target="cpu",
                   chip=None, weight_type="f32", min_weight_elements=None,
                   exporter=None, kv_type="f32"):
    """Path of the library of `model` compiled with `attention`, `options`,
    `target`, `weight_type`, `min_weight_elements` and `kv_type`, building
    what is missing (`exporter`: as export_once)."""
    compiler = find_compiler()
    root = root or os.path.join(cache_dir(), "graphs")
    from magicpig.export import EXPORT_FORMAT

    # The format in the key: an export of an older format (one without
    # decode_batch) is not reused.
    directory = os.path.join(root, _digest(model_key, EXPORT_FORMAT))
    mlir = export_once(model, directory, exporter)
    flags = compile_flags(attention, options, target, chip, weight_type,
                          min_weight_elements, kv_type)
    st = os.stat(compiler)
    name = f"{attention}{'-cuda' if target == 'cuda' else ''}-{_digest(*flags, compiler, str(st.st_mtime_ns))}.so"
    return compile_once(mlir, os.path.join(directory, name), flags, compiler)
