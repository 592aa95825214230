"""Files that never tear: atomic replace, directory fsync, quarantine. A leaf: imports nothing of ours.

`atomic_write` writes a temp file, fsyncs it, renames it over the old one (`os.replace` is
atomic) and fsyncs the directory, so a reader sees the old file or the new one, never a mix;
`remove_stale_temps` clears the temp files a crash left. A file that does not parse is moved
aside by `read_json` (never deleted) and reported through `QUARANTINE`, so one bad day costs
that day's file, not the server. The store, pricing's cache and the importers' state all
write through here.

Nothing here follows a symbolic link at the file's own name (`O_NOFOLLOW`): a link where a
data file should be could point anywhere (another user's file, a file of forged records), so
`read_bytes` refuses it (`NotAFile`), `read_json` moves it aside like a corrupt file (the link
itself, never its target), and `atomic_write` creates its temp file with `O_EXCL|O_NOFOLLOW`
and renames it over the link.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path
from typing import Any

import orjson

FILE_MODE = 0o600
TMP_MARK = ".tmp-"
NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC

# (path moved aside, reason): read by the ledger to tell the user
QUARANTINE: list[tuple[str, str]] = []


class NotAFile(OSError):
    """A data file's name holds a symbolic link or something other than a regular file: never
    followed, never read."""


def open_nofollow(path: Path, flags: int, mode: int = FILE_MODE) -> int:
    """`os.open` that refuses a symbolic link at `path` itself (NotAFile)."""
    try:
        return os.open(path, flags | NOFOLLOW, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # Linux and macOS say ELOOP, FreeBSD EMLINK
            raise NotAFile(exc.errno, "a symbolic link (not followed)", str(path)) from None
        raise


def read_bytes(path: Path) -> bytes | None:
    """The content of the regular file `path`, None when there is none; NotAFile for a symbolic
    link (not followed) or a device, pipe or directory."""
    try:
        fd = open_nofollow(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: a FIFO must not hang us
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotAFile(errno.EINVAL, "not a regular file", str(path))
        return fh.read()


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, durable: bool = True, sync_dir: bool = True, mode: int = FILE_MODE) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file (with
    `durable=False`, for caches: possibly an empty one, as nothing is fsynced). `sync_dir=False`:
    the data is fsynced but the caller fsyncs the directory (once after many renames in it)
    before anything relies on the new file being there after a crash. `mode`: the new file's
    permissions (another tool's config file keeps its own)."""
    # (os.urandom, as secrets.token_hex does: importing secrets loads random, ~5 ms of a start-up)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{os.urandom(3).hex()}")
    fd = open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        if mode != FILE_MODE:
            os.fchmod(fd, mode)  # exactly: not narrowed by the umask
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:  # e.g. `path` is a directory: leave no temp file behind
        tmp.unlink(missing_ok=True)
        raise
    if durable and sync_dir:
        fsync_dir(path.parent)


def quarantine(path: Path, reason: str) -> Path:
    """Move a file that cannot be read aside, keeping it for the user to inspect."""
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{os.urandom(2).hex()}")
    os.replace(path, target)
    QUARANTINE.append((str(target), reason))
    return target


def read_json(path: Path) -> Any:
    """Parsed JSON content of `path`, None when missing; a corrupt file, or a symbolic link, is
    moved aside (`read_json_checked` says which)."""
    return read_json_checked(path)[0]


def read_json_checked(path: Path) -> tuple[Any, str | None]:
    """(parsed JSON content of `path` or None, why it was moved aside or None). None, None:
    there is no such file (or it is empty)."""
    try:
        data = read_bytes(path)
    except NotAFile as exc:
        reason = f"{exc.strerror}; not read"
    else:
        if not data:
            return None, None
        try:
            return orjson.loads(data), None
        except orjson.JSONDecodeError as exc:
            reason = f"not valid JSON: {exc}"
    try:
        quarantine(path, reason)
    except FileNotFoundError:  # another process moved it aside first
        pass
    return None, reason


def remove_stale_temps(root: Path) -> int:
    """Temp files left by a crash mid-write; the real file beside them is intact."""
    removed = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if TMP_MARK in name and name.startswith("."):
                try:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
                except OSError:
                    pass
    return removed
