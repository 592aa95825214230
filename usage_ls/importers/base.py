"""What every importer shares: reading log files incrementally, remembering where it stopped,
and handing records to the ledger.

A tool module (one per tool, beside this file) says where its logs live, turns the bytes of
one file into candidate records, and (optionally) merges candidates across files the way the
tool's own logs need. Everything else is here:

- `ImportState`: `<data_dir>/imports.json`, per file: inode, size, mtime and the byte offset
  where the last import stopped, plus a small parser state the tool wants back next time
  (Codex's running totals, Claude Code's working directory). Written atomically after the
  records are durable, so a crash re-reads a little and the ids drop what was already kept.
  Correctness never depends on it: ids do the deduplication, offsets only make re-import fast.
- `Tally`: what a run did (imported, skipped as duplicate, skipped as unreadable with the first
  reason, left for next time because the tool is still writing it), per tool.
- `run`: one import of one tool, from discovery to `svc.record` in batches.

A file is *unchanged* when its inode, size and mtime match the state: it is not opened. A file
that grew is read from its offset; one that shrank or was replaced is read again from the start.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import orjson

from usage_ls import fileio, lazy
from usage_ls.importers.lines import FileResult, Problem
from usage_ls.store.journal import FileLock

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)

STATE_FILE = "imports.json"
LOCK_FILE = "imports.lock"
BATCH = 50_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
ONE_MS = dt.timedelta(milliseconds=1)


def short_hash(*parts) -> str:
    """A stable 16-hex-digit digest of some values (record ids built from a tool's own keys)."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def parse_ts(value) -> int | None:
    """An RFC 3339 timestamp *with* an offset (as the tools write them) -> epoch ms, else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return (parsed - EPOCH) // ONE_MS


def ms_ts(value) -> int | None:
    """Epoch milliseconds (int/float) or an RFC 3339 string -> epoch ms."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = int(value)
        if v < 10_000_000_000:  # seconds, not milliseconds
            v *= 1000
        return v
    return parse_ts(value)


def count(value) -> int | None:
    """A token count as the tools write it: a non-negative JSON integer, else None."""
    if type(value) is int and value >= 0:
        return value
    return None


def project_of(path: str | None) -> str | None:
    """The project a working directory or repository URL names: its last path segment."""
    if not isinstance(path, str):
        return None
    text = path.strip().rstrip("/\\")
    if text.endswith(".git"):
        text = text[:-4]
    name = text.replace("\\", "/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return name or None


# -- reading files ----------------------------------------------------------------------------


class ImportState:
    """Per-file offsets and parser state, in `<data_dir>/imports.json`."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / STATE_FILE
        self.files: dict[str, dict] = {}
        self.extra: dict[str, dict] = {}
        self.dirty = False
        self.sig: tuple | None = None

    def disk_signature(self) -> tuple | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def stale(self) -> bool:
        """Another process (a CLI import, another server) rewrote the file since we read it."""
        return self.disk_signature() != self.sig

    def load(self) -> ImportState:
        self.sig = self.disk_signature()
        try:
            raw = fileio.read_json(self.path) or {}
        except Exception:
            raw = {}
        if isinstance(raw, dict) and isinstance(raw.get("files"), dict):
            self.files = raw["files"]
            self.extra = raw.get("extra") if isinstance(raw.get("extra"), dict) else {}
        return self

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fileio.atomic_write(self.path, orjson.dumps({"format": 1, "files": self.files, "extra": self.extra}))
        self.dirty = False
        self.sig = self.disk_signature()

    def get(self, tool: str, path: Path) -> dict | None:
        return self.files.get(f"{tool}:{path}")

    def put(self, tool: str, path: Path, entry: dict) -> None:
        self.files[f"{tool}:{path}"] = entry
        self.dirty = True


def signature(st: os.stat_result) -> dict:
    return {"ino": st.st_ino, "size": st.st_size, "mtime": st.st_mtime_ns}


def resume_point(prev: dict | None, st: os.stat_result, append_only: bool) -> tuple[int, dict] | None:
    """Where to start reading a file, with the parser state to start from; None if unchanged."""
    if (
        prev is not None
        and prev.get("ino") == st.st_ino
        and prev.get("size") == st.st_size
        and prev.get("mtime") == st.st_mtime_ns
    ):
        return None
    if append_only and prev is not None and prev.get("ino") == st.st_ino and st.st_size > prev.get("size", 0):
        return int(prev.get("offset", 0)), dict(prev.get("state") or {})
    return 0, {}


def walk(root: Path, patterns: Iterable[str], prune: Iterable[str] = ()) -> Iterator[Path]:
    """The files below `root` whose names match one of `patterns`, resolved: what
    `root.rglob(pattern)` finds for each pattern (folders that are symbolic links are not
    entered), in one walk of the tree, without resolving every path one component at a time
    (that was most of an import of opencode's ~30,000 message files). `prune`: folders (relative
    to `root`) not entered, where a tool keeps many files none of which it reads."""
    match = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match
    stack = [str(root.resolve())]  # below a resolved folder, only links need resolving
    skip = {os.path.join(stack[0], p) for p in prune}  # folders below `root` never entered
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for e in entries:
                try:
                    if e.is_dir(follow_symlinks=False):
                        if e.path not in skip:
                            stack.append(e.path)
                    elif match(e.name) and e.is_file():
                        yield Path(os.path.realpath(e.path)) if e.is_symlink() else Path(e.path)
                except OSError:
                    continue


# -- tally --------------------------------------------------------------------------------------


@dataclass
class Tally:
    tool: str
    files: int = 0
    files_read: int = 0
    imported: int = 0
    duplicates: int = 0
    unreadable: int = 0
    first_reason: str | None = None
    left: int = 0  # lines still being written: read by the next run
    windows: int = 0  # plan window observations kept (Codex's rate_limits)
    by_day: dict[str, int] = field(default_factory=dict)

    def bad(self, problem: Problem | str | None, n: int = 1) -> None:
        if n <= 0:
            return
        self.unreadable += n
        if self.first_reason is None and problem is not None:
            self.first_reason = str(problem)

    def as_json(self) -> dict:
        return {
            "tool": self.tool,
            "files": self.files,
            "filesRead": self.files_read,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "unreadable": self.unreadable,
            "firstReason": self.first_reason,
            "leftForNextTime": self.left,
            "planWindows": self.windows,
        }

    def line(self) -> str:
        text = (
            f"{self.tool}: imported {self.imported}, skipped {self.duplicates} as duplicate, "
            f"{self.unreadable} as unreadable"
        )
        if self.first_reason:
            text += f" (first: {self.first_reason})"
        if self.left:
            text += f", {self.left} line(s) left for next time (still being written)"
        return text + f"; {self.files_read} of {self.files} file(s) read"


# -- the tool interface ---------------------------------------------------------------------------


class Tool:
    """One data source. Subclasses set `name` and implement `roots`, `read` (and maybe `merge`)."""

    name = ""
    feature = ""
    provider: str | None = None
    append_only = True  # files only grow (JSONL); else a changed file is read again whole
    patterns: tuple[str, ...] = ("*.jsonl",)
    prune: tuple[str, ...] = ()  # folders below a root that `discover` does not enter (`walk`)
    tz: dt.tzinfo | None = None  # the ledger's zone (for logs that write local times)

    def roots(self) -> list[Path]:
        """Default locations (honouring the tool's own environment variables)."""
        return []

    def discover(self, paths: Iterable[Path] | None) -> list[Path]:
        """Log files under the given paths (files or folders), or under the default roots."""
        found: set[Path] = set()
        for root in list(paths) if paths else self.roots():
            root = Path(root).expanduser()
            if root.is_file():
                found.add(root.resolve())
            elif root.is_dir():
                found.update(walk(root, self.patterns, self.prune))
        return sorted(found, key=str)

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        raise NotImplementedError

    def merge(self, entries: list, memory: dict) -> tuple[list[dict], int]:
        """Candidates of this run (file order, line order) -> (records, duplicates dropped)."""
        return [e for e in entries], 0

    def premerge(self, entries: list) -> tuple[list, int]:
        """What `merge` may already do within one file (in a worker); must not change its result."""
        return entries, 0

    def record_of(self, entry) -> dict:
        """The record a kept candidate stands for (here candidates are records)."""
        return entry

    parallel = False  # True: the tool is also a `ParallelTool` (import workers may read it)

    def records_done(self, memory: dict) -> None:
        """Called after the merged records are durable (to persist cross-run memory)."""


class ParallelTool(Protocol):
    """What a tool that sets `parallel = True` adds, so that import workers can read its files
    and the parent merge what they found without the records themselves (importers/parallel.py)."""

    def new_keys(self) -> list[list]:
        """Empty lists, one per merge key column, for `prepare_candidates` to fill."""
        ...

    def prepare_candidates(self, entries: list, prep: Callable, out: list, keys: list[list]) -> None:
        """Each candidate with its record replaced by `prep(record)` appended to `out`, and its
        merge keys appended to `keys`."""
        ...

    def merge_keys(self, keys: list[list]) -> tuple:
        """`keys` as numpy columns, sent to the parent."""
        ...

    def merge_compact(self, keys: list[tuple], memory: dict) -> tuple[np.ndarray, np.ndarray, int]:
        """`merge` over several workers' key columns: (indices kept, their record id hashes,
        duplicates)."""
        ...


def now() -> float:
    return time.time()


def lock(data_dir: Path, blocking: bool = True, timeout: float = 60.0) -> FileLock | None:
    Path(data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    lk = FileLock(Path(data_dir) / LOCK_FILE)
    if lk.acquire(blocking=blocking, timeout=timeout):
        return lk
    return None
