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
  reason), per tool.
- `run`: one import of one tool, from discovery to `svc.record` in batches.

A file is *unchanged* when its inode, size and mtime match the state: it is not opened. A file
that grew is read from its offset; one that shrank or was replaced is read again from the start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import orjson

from usage_ls import fileio
from usage_ls.store.journal import FileLock

STATE_FILE = "imports.json"
LOCK_FILE = "imports.lock"
BATCH = 50_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
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


class Vanished(Exception):
    """The file disappeared (or became unreadable) between discovery and reading."""


_BUFFERS = threading.local()


def read_into(path: Path, start: int) -> tuple[bytearray, int]:
    """`read_from` into a buffer this thread reuses (no fresh pages for every big file):
    (buffer, bytes read). The buffer is overwritten by the next call on this thread."""
    try:
        with open(path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            if start > size:
                start = 0
            f.seek(start)
            want = size - start + 1  # one more byte: notices a file that grew meanwhile
            buf = getattr(_BUFFERS, "buf", None)
            if buf is None or len(buf) < want:
                buf = _BUFFERS.buf = bytearray(max(want, 1 << 20))
            view = memoryview(buf)
            got = 0
            while True:
                n = f.readinto(view[got:])
                if not n:
                    break
                got += n
                if got == len(buf):  # grew while we read: take the rest too
                    buf.extend(bytes(len(buf)))
                    view.release()
                    view = memoryview(buf)
            view.release()
            return buf, got
    except (FileNotFoundError, PermissionError, IsADirectoryError, OSError) as exc:
        raise Vanished(str(exc)) from None


def read_from(path: Path, start: int) -> tuple[bytes, os.stat_result]:
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if start > st.st_size:
                start = 0
            f.seek(start)
            return f.read(), st
    except (FileNotFoundError, PermissionError, IsADirectoryError, OSError) as exc:
        raise Vanished(str(exc)) from None


def split_lines(data: bytes, base: int) -> tuple[list[tuple[int, bytes]], int, bytes]:
    """Complete lines of `data` (read at byte `base`) with their offsets, the offset after the
    last complete line, and the trailing bytes without a newline (maybe a line being written)."""
    lines = []
    pos = 0
    n = len(data)
    find = data.find
    while pos < n:
        nl = find(b"\n", pos)
        if nl < 0:
            break
        if nl > pos:
            lines.append((base + pos, data[pos:nl]))
        pos = nl + 1
    return lines, base + pos, data[pos:]


@dataclass
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class FileResult:
    """What a tool made of (the new part of) one file."""

    entries: list = field(default_factory=list)  # candidates, tool-specific
    end: int = 0  # offset to resume from next time
    state: dict = field(default_factory=dict)
    unreadable: int = 0
    first_problem: Problem | None = None
    retry: bool = False  # read it again next time even if unchanged (e.g. caught mid-rewrite)
    duplicates: int = 0  # candidates merged away already (Tool.premerge)
    first_offset: int = -1  # where first_problem is, when problems are not found in file order

    def bad(self, where: str, message: str) -> None:
        self.unreadable += 1
        if self.first_problem is None:
            self.first_problem = Problem(where, message)

    def bad_at(self, offset: int, where: str, message: str) -> None:
        """`bad` for problems found out of file order: the first problem is the earliest one."""
        self.unreadable += 1
        if self.first_problem is None or offset < self.first_offset:
            self.first_problem = Problem(where, message)
            self.first_offset = offset


def _finished_tail(tail: bytes, path: Path, offset: int, result: FileResult, final: bool) -> bool:
    """Whether the bytes after a file's last newline are a line the tool finished (they parse
    as JSON). Otherwise they are left for the next run, and counted as unreadable when `final`
    (a one-shot import, not the live watcher)."""
    if not tail.strip():
        return False
    try:
        orjson.loads(tail)
    except orjson.JSONDecodeError:
        if final:
            result.bad_at(offset, f"{path.name}:{offset}", "truncated last line (left to read again next time)")
        return False
    return True


def json_lines(
    path: Path, start: int, result: FileResult, *, final: bool = True
) -> Iterator[tuple[int, bytes]]:
    """Complete lines from `start`; sets `result.end`. A last line without a newline counts
    when it parses as JSON (the tool finished it); otherwise it is left for the next run, and
    counted as unreadable when `final` (a one-shot import, not the live watcher)."""
    data, _st = read_from(path, start)
    lines, end, tail = split_lines(data, start)
    result.end = end
    yield from lines
    if _finished_tail(tail, path, end, result, final):
        result.end = end + len(tail)
        yield end, tail


_LF, _OPEN, _CLOSE = 10, ord("{"), ord("}")
_MARKS: dict[bytes, re.Pattern] = {}


def marked_lines(
    path: Path, start: int, result: FileResult, mark: bytes, *, final: bool = True
) -> tuple[list[tuple[int, memoryview, bool]], bool]:
    """The complete lines from `start` that contain `mark`, found without splitting the file
    into lines: [(offset, line, gap)] (each line a view into `read_into`'s buffer, valid until
    its next call), where `gap` says a non-blank line without the mark came
    before it (since the previous marked line), and whether such a line follows the last one.
    Sets `result.end` as `json_lines` does (same rule for a last line without a newline).

    Lines without the mark are never parsed; one whose first and last bytes are not `{` and
    `}` is counted unreadable ("not a JSON object"). The mark is found by the regex engine's
    literal search (about twice as fast as `bytes.find` in a loop on JSON, whose `"` is
    everywhere); only the lines between marked lines are walked, one `find` each."""
    data, size = read_into(path, start)
    body = data.rfind(b"\n", 0, size) + 1  # complete lines end here
    tail = bytes(data[body:size])
    result.end = start + body
    if _finished_tail(tail, path, start + body, result, final):
        body = size  # a finished last line the tool wrote without a newline
        result.end = start + body
    pattern = _MARKS.get(mark)
    if pattern is None:
        pattern = _MARKS[mark] = re.compile(re.escape(mark))
    out: list[tuple[int, memoryview, bool]] = []
    find, rfind = data.find, data.rfind
    view = memoryview(data)  # lines as views, not copies: valid until the next read_into
    prev = 0  # end of the previous marked line (+1)
    for m in pattern.finditer(data, 0, body):
        j = m.start()
        if j < prev:
            continue  # the mark again, in a line already taken
        a = rfind(b"\n", 0, j) + 1
        b = find(b"\n", j, body)
        if b < 0:
            b = body
        gap = a > prev and _others(data, prev, a, start, path.name, result)
        out.append((start + a, view[a:b], gap))
        prev = b + 1
    return out, prev < body and _others(data, prev, body, start, path.name, result)


def _others(data: bytearray, lo: int, hi: int, start: int, name: str, result: FileResult) -> bool:
    """Lines in data[lo:hi] (lines without the mark): count each one that is not a JSON object
    as unreadable; whether any of them is not blank."""
    find = data.find
    nonblank = False
    a = lo
    while a < hi:
        b = find(b"\n", a, hi)
        if b < 0:
            b = hi
        if b > a:
            if data[a] == _OPEN and data[b - 1] == _CLOSE:
                nonblank = True
            else:  # rare: look closer (a CRLF line, or real garbage)
                s = data[a:b].strip()
                nonblank = nonblank or bool(s)
                if not (s.startswith(b"{") and s.endswith(b"}")):
                    result.bad_at(start + a, f"{name}:{start + a}", "not a JSON object")
        a = b + 1
    return nonblank


def json_objects(
    path: Path, start: int, result: FileResult, *, final: bool = True
) -> Iterator[tuple[int, dict]]:
    """`json_lines` parsed: each line that is a JSON object, with its offset; a line that is not
    JSON, or not an object, is counted as unreadable with its reason."""
    loads = orjson.loads
    for offset, line in json_lines(path, start, result, final=final):
        try:
            obj = loads(line)
        except orjson.JSONDecodeError as exc:
            result.bad(f"{path.name}:{offset}", f"not JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            result.bad(f"{path.name}:{offset}", "not a JSON object")
            continue
        yield offset, obj


# -- state --------------------------------------------------------------------------------------


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

    def load(self) -> "ImportState":
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
    if prev is not None and prev.get("ino") == st.st_ino and prev.get("size") == st.st_size and prev.get("mtime") == st.st_mtime_ns:
        return None
    if append_only and prev is not None and prev.get("ino") == st.st_ino and st.st_size > prev.get("size", 0):
        return int(prev.get("offset", 0)), dict(prev.get("state") or {})
    return 0, {}


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
        }

    def line(self) -> str:
        text = (
            f"{self.tool}: imported {self.imported}, skipped {self.duplicates} as duplicate, "
            f"{self.unreadable} as unreadable"
        )
        if self.first_reason:
            text += f" (first: {self.first_reason})"
        return text + f"; {self.files_read} of {self.files} file(s) read"


# -- the tool interface ---------------------------------------------------------------------------


class Tool:
    """One data source. Subclasses set `name` and implement `roots`, `read` (and maybe `merge`)."""

    name = ""
    feature = ""
    provider: str | None = None
    append_only = True  # files only grow (JSONL); else a changed file is read again whole
    patterns: tuple[str, ...] = ("*.jsonl",)
    tz: dt.tzinfo | None = None  # the ledger's zone (for logs that write local times)

    def roots(self) -> list[Path]:
        """Default locations (honouring the tool's own environment variables)."""
        return []

    def discover(self, paths: Iterable[Path] | None) -> list[Path]:
        """Log files under the given paths (files or folders), or under the default roots."""
        found: set[Path] = set()
        for root in (list(paths) if paths else self.roots()):
            root = Path(root).expanduser()
            if root.is_file():
                found.add(root.resolve())
            elif root.is_dir():
                for pattern in self.patterns:
                    for p in root.rglob(pattern):
                        try:
                            if p.is_file():
                                found.add(p.resolve())
                        except OSError:
                            continue
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

    # Tools that set `parallel = True` also define `new_keys()`, `prepare_candidates(entries,
    # prep, out, keys)` (each candidate with its record replaced by `prep(record)`, and its
    # merge key noted), `merge_keys(keys)` (numpy columns a parent process can merge without
    # the records) and `merge_compact(keys, memory)`.
    parallel = False

    def records_done(self, memory: dict) -> None:
        """Called after the merged records are durable (to persist cross-run memory)."""


def now() -> float:
    return time.time()


def load_json_file(path: Path, result: FileResult, *, final: bool):
    """A whole JSON document (tools that rewrite a file), or None when it does not parse
    (counted when `final`; the live watcher just tries again after the tool's next write)."""
    data, _st = read_from(path, 0)
    result.end = len(data)
    if not data.strip():
        result.retry = True
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        result.retry = True
        if final:
            result.bad(path.name, f"not JSON ({exc})")
        return None


def lock(data_dir: Path, blocking: bool = True, timeout: float = 60.0) -> FileLock | None:
    Path(data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
    lk = FileLock(Path(data_dir) / LOCK_FILE)
    if lk.acquire(blocking=blocking, timeout=timeout):
        return lk
    return None
