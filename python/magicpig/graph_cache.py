"""Export and compile a model once, then reuse the compiled graph.

`python3 -m magicpig.generate --backend compiled` without `--library` calls
`compiled_graph`: the model is exported (`magicpig.export`) into
`$MAGICPIG_CACHE/graphs/<model key>/` and compiled by `magicpig-compile`
into a library named after the attention and the MagicPIG options. The key
of the library also covers the compiler binary, so a rebuilt compiler
recompiles. Both steps print their progress.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile

from magicpig.cli import progress
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
                  min_weight_elements=None):
    """magicpig-compile flags for an attention, MagicPigOptions, a target
    ('cpu', or 'cuda' for the GPU `chip`), the weights' element type ('f32'
    or 'bf16') and, when given, the least size of a weight matrix."""
    flags = [f"--attention={attention}"]
    if weight_type != "f32":
        flags.append(f"--weight-type={weight_type}")
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


def export_once(model, directory, exporter=None):
    """DIR/model.mlir of `model`, exported unless already there, by
    `exporter(model, out_dir)` (default `magicpig.export.write_export`
    without weights) writing model.mlir and manifest.json."""
    target = os.path.join(directory, "model.mlir")
    if os.path.isfile(target):
        progress(f"using the cached export {target}")
        return target
    if exporter is None:
        from magicpig.export import write_export

        def exporter(model, out_dir):
            write_export(model, out_dir, weights=False)
    os.makedirs(directory, exist_ok=True)
    progress(f"exporting the model to linalg MLIR (torch-mlir) in {directory}")
    # Written aside and moved in when complete: an interrupted export is
    # not mistaken for a cached one.
    staging = tempfile.mkdtemp(dir=directory)
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
    exists."""
    if os.path.isfile(library):
        progress(f"using the cached graph {library}")
        return library
    progress(f"compiling {os.path.basename(library)}: magicpig-compile {' '.join(flags)}")
    partial = library + ".partial.so"
    result = subprocess.run([compiler, mlir, "-o", partial, *flags])
    if result.returncode != 0:
        raise MagicPigError(f"magicpig-compile failed (exit {result.returncode}); "
                            f"see its messages above")
    os.replace(partial, library)
    return library


def compiled_graph(model, model_key, attention, options, root=None, target="cpu",
                   chip=None, weight_type="f32", min_weight_elements=None,
                   exporter=None):
    """Path of the library of `model` compiled with `attention`, `options`,
    `target`, `weight_type` and `min_weight_elements`, building what is
    missing (`exporter`: as export_once)."""
    compiler = find_compiler()
    root = root or os.path.join(cache_dir(), "graphs")
    directory = os.path.join(root, _digest(model_key))
    mlir = export_once(model, directory, exporter)
    flags = compile_flags(attention, options, target, chip, weight_type,
                          min_weight_elements)
    st = os.stat(compiler)
    name = f"{attention}{'-cuda' if target == 'cuda' else ''}-{_digest(*flags, compiler, str(st.st_mtime_ns))}.so"
    return compile_once(mlir, os.path.join(directory, name), flags, compiler)
