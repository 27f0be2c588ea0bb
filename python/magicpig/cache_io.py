"""Writes into the cache (`$MAGICPIG_CACHE`) that a crash, a full disk or a
second process never turn into an entry a later run trusts.

Every cached file or folder is written under a temporary name unique to
the writer, in the same folder, and renamed into place (`os.replace`,
atomic on one file system) only once complete: a reader sees the whole
entry or none. `locked` serializes the processes that build one entry, so
the second waits and reuses the first one's result. A write that fails
(no space, a read-only folder) becomes one MagicPigError line
(`cache_writes`), and an entry that does not load is rebuilt after a note
(`note_rebuild`).
"""

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile

from magicpig.cli import progress
from magicpig.errors import MagicPigError


_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _temp_name(path):
    return dict(dir=os.path.dirname(path) or ".",
                prefix=f".{os.path.basename(path)}.", suffix=".tmp")


def _remove(path):
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


@contextlib.contextmanager
def atomic_output(path, suffix=""):
    """Yields a new empty file's path next to `path` (ending in `suffix`)
    for the caller or a tool to fill; on success it is renamed to `path`,
    on an exception removed."""
    names = _temp_name(path)
    fd, tmp = tempfile.mkstemp(dir=names["dir"], prefix=names["prefix"],
                               suffix=names["suffix"] + suffix)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # not mkstemp's 0600
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_file(path, mode="w", **open_args):
    """`open(path, mode)` as a temporary file, renamed to `path` once it is
    written and flushed to disk; removed if the block raises."""
    with atomic_output(path) as tmp:
        with open(tmp, mode, **open_args) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def write_atomic(path, data):
    """Writes `data` (str or bytes) to `path` atomically."""
    with atomic_file(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


@contextlib.contextmanager
def atomic_dir(path):
    """Yields a new empty folder next to `path` to fill; on success it
    takes the place of `path` (an older `path` is moved aside and
    removed). When another process put its own `path` in place meanwhile,
    that one is kept."""
    staging = tempfile.mkdtemp(**_temp_name(path))
    try:
        os.chmod(staging, 0o777 & ~_UMASK)  # not mkdtemp's 0700
        yield staging
        if os.path.exists(path):
            aside = tempfile.mkdtemp(**_temp_name(path))
            try:
                os.replace(path, os.path.join(aside, "old"))
            except FileNotFoundError:
                pass
            shutil.rmtree(aside, ignore_errors=True)
        try:
            os.rename(staging, path)
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            _remove(staging)  # another writer's complete copy won
    except BaseException:
        _remove(staging)
        raise


@contextlib.contextmanager
def locked(path, what=None):
    """Holds an exclusive lock (flock of `path`.lock) for the block: the
    processes that build one cache entry take turns, so the later ones
    find it built. Where locks are not supported, goes on unlocked."""
    try:
        f = open(path + ".lock", "a")
    except OSError:
        yield
        return
    with f:
        try:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                progress(f"waiting for another process building {what or path}")
                fcntl.flock(f, fcntl.LOCK_EX)
        except OSError:  # e.g. a file system without locks
            pass
        yield


def reason(error):
    """The first line of an exception, for one-line messages."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextlib.contextmanager
def cache_writes(path):
    """An OSError in the block (full disk, read-only folder) becomes one
    MagicPigError line naming `path`."""
    try:
        yield
    except MagicPigError:
        raise
    except OSError as e:
        where = e.filename if isinstance(e.filename, str) else path
        raise MagicPigError(f"cannot write the cache {where}: {reason(e)} (free some "
                            f"space, or set MAGICPIG_CACHE to a writable folder)")


def save_if_possible(path, save, what, again):
    """`save(folder)` into the cache entry `path` (atomic_dir); a read-only
    or full cache is one note (`what` cannot be cached, it is `again` on
    each run), not an error. Whether it was saved."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_dir(path) as staging:
            save(staging)
        return True
    except OSError as e:
        progress(f"cannot cache {what} in {path} ({reason(e)}); it is {again} "
                 f"on each run")
        return False


def note_rebuild(path, error):
    """The one-line note before a corrupt cache entry is rebuilt."""
    progress(f"the cached {path} is unusable ({reason(error)}); rebuilding it")
