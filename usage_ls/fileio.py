"""Files that never tear: atomic replace, directory fsync, quarantine. A leaf: imports nothing of ours.

`atomic_write` writes a temp file, fsyncs it, renames it over the old one (`os.replace` is
atomic) and fsyncs the directory, so a reader sees the old file or the new one, never a mix;
`remove_stale_temps` clears the temp files a crash left. A file that does not parse is moved
aside by `read_json` (never deleted) and reported through `QUARANTINE`, so one bad day costs
that day's file, not the server. The store, pricing's cache and the importers' state all
write through here.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import orjson

FILE_MODE = 0o600
TMP_MARK = ".tmp-"

# (path moved aside, reason): read by the ledger to tell the user
QUARANTINE: list[tuple[str, str]] = []


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


def atomic_write(path: Path, data: bytes, durable: bool = True, sync_dir: bool = True) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file (with
    `durable=False`, for caches: possibly an empty one, as nothing is fsynced). `sync_dir=False`:
    the data is fsynced but the caller fsyncs the directory (once after many renames in it)
    before anything relies on the new file being there after a crash."""
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(3)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
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
    target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}")
    os.replace(path, target)
    QUARANTINE.append((str(target), reason))
    return target


def read_json(path: Path) -> Any:
    """Parsed JSON content of `path`, None when missing; a corrupt file is quarantined."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        quarantine(path, f"not valid JSON: {exc}")
        return None


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
