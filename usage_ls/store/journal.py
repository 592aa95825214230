"""Append-only JSONL journals: the write-ahead log that makes an acknowledgement durable.

Each process appends to a journal of its own (no two writers ever share a file) and holds an
exclusive `flock` on it while alive; another process that can take the lock knows the owner
is gone. A record is acknowledged only after its line is fsynced. Readers only ever consume
complete lines, so a write torn by a crash is never half-read.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from pathlib import Path
from typing import Any

import orjson

from usage_ls.fileio import FILE_MODE, fsync_dir

SUFFIX = ".jsonl"


class JournalWriter:
    def __init__(self, directory: Path, tag: str = "srv"):
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{tag}-{os.getpid()}-{secrets.token_hex(3)}{SUFFIX}"
        self.path = directory / name
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, FILE_MODE)
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
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing releases a lock we may have taken
    return False


def read_lines(path: Path, offset: int) -> tuple[list[dict[str, Any]], int, int]:
    """Records from `offset` up to the last complete line: (records, new offset, bad lines)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset, 0
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset, 0
    records, bad = [], 0
    for line in data[: end + 1].splitlines():
        if not line:
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            bad += 1
            continue
        if isinstance(rec, dict) and "id" in rec and "date" in rec:
            records.append(rec)
        else:
            bad += 1
    return records, offset + end + 1, bad


class FileLock:
    """A blocking or non-blocking exclusive lock across processes (flock on a lock file)."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = -1

    def acquire(self, blocking: bool = True, timeout: float = 30.0) -> bool:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
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
