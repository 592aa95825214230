"""Append-only JSONL journals: the write-ahead log that makes an acknowledgement durable.

Each process appends to a journal of its own (no two writers ever share a file) and holds an
exclusive `flock` on it while alive; another process that can take the lock knows the owner
is gone. A record is acknowledged only after its line is fsynced. Readers only ever consume
complete lines, so a write torn by a crash is never half-read.

A line read back is checked again with the rules of `usage/record` (`stored.check_stored`):
this program validated it before writing it, but what is on disk could have been written by
anything. A line that fails is skipped and reported with its line number; the rest are kept.
No file here is opened through a symbolic link (`O_NOFOLLOW`): a journal that is a link is
never read (`fileio.NotAFile`).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from usage_ls.fileio import NOFOLLOW, fsync_dir, open_nofollow
from usage_ls.model import RecordError
from usage_ls.stored import check_stored

SUFFIX = ".jsonl"


class JournalWriter:
    def __init__(self, directory: Path, tag: str = "srv"):
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{tag}-{os.getpid()}-{os.urandom(3).hex()}{SUFFIX}"
        self.path = directory / name
        self.fd = open_nofollow(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL)
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fsync_dir(directory)
        self.size = 0

    @property
    def name(self) -> str:
        return self.path.name

    def append(self, records: list[dict[str, Any]], sync: bool = True) -> int:
        """Write records as lines; returns the new end offset. Durable when `sync`."""
        data = b"".join(orjson.dumps(r) + b"\n" for r in records)
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
            if sync:
                os.fsync(self.fd)
        except OSError:
            # disk full, quota, read-only: take back a partial line so the next append
            # starts on a line boundary (a torn line would swallow the next record)
            try:
                os.ftruncate(self.fd, self.size)
            except OSError:
                pass
            raise
        self.size += len(data)
        return self.size

    def sync(self) -> None:
        os.fsync(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def owner_alive(path: Path) -> bool:
    """True while some process holds the journal's lock (its writer is running)."""
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW)
    except OSError:  # gone, or a symbolic link: no writer of ours
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we may have taken
    return False


class Lines(NamedTuple):
    """What `read_lines` read: the good records, the offset after the last complete line, and
    the lines skipped as (line number in the file, counting from 1; why)."""

    records: list[dict[str, Any]]
    end: int
    rejected: list[tuple[int, str]]


def read_lines(path: Path, offset: int) -> Lines:
    """Records from `offset` up to the last complete line, each checked again (`check_stored`).
    NotAFile when `path` is a symbolic link."""
    try:
        fd = open_nofollow(path, os.O_RDONLY)
    except FileNotFoundError:
        return Lines([], offset, [])
    with os.fdopen(fd, "rb") as fh:
        fh.seek(offset)
        data = fh.read()
    end = data.rfind(b"\n")
    if end < 0:
        return Lines([], offset, [])
    records: list[dict[str, Any]] = []
    bad: list[tuple[int, str]] = []
    check, loads, append = check_stored, orjson.loads, records.append
    for index, line in enumerate(data[: end + 1].split(b"\n")[:-1]):
        if not line:
            continue
        try:
            append(check(loads(line)))
        except orjson.JSONDecodeError:
            bad.append((index, "not a JSON record"))
        except RecordError as exc:
            bad.append((index, str(exc)))
    if bad:
        first = _lines_before(path, offset) + 1
        bad = [(first + index, why) for index, why in bad]
    return Lines(records, offset + end + 1, bad)


def _lines_before(path: Path, offset: int) -> int:
    """Complete lines before `offset` (only asked when a line is reported)."""
    if not offset:
        return 0
    try:
        with os.fdopen(open_nofollow(path, os.O_RDONLY), "rb") as fh:
            return fh.read(offset).count(b"\n")
    except OSError:
        return 0


class FileLock:
    """A blocking or non-blocking exclusive lock across processes (flock on a lock file)."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = -1

    def acquire(self, blocking: bool = True, timeout: float = 30.0) -> bool:
        self.fd = open_nofollow(self.path, os.O_RDWR | os.O_CREAT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except OSError:
                if not blocking or time.monotonic() > deadline:
                    os.close(self.fd)
                    self.fd = -1
                    return False
                time.sleep(0.005)

    def release(self) -> None:
        if self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1
