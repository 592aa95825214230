"""Reading log files: from where the last import stopped, a line or a JSON object at a time.

Every importer reads through here: `read_into`/`read_from` (incremental reads that notice a
file replaced or truncated), `json_lines` and `marked_lines` (complete lines only; a half-written
last line is left for next time, and a one-shot import says so), `json_objects` and
`load_json_file` (whole-file formats), and `FileResult`, where a file's entries and problems
collect. A UTF-8 byte order mark at the start of a file is not part of its first line.
"""

from __future__ import annotations

import heapq
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson


class Vanished(Exception):
    """The file disappeared (or became unreadable) between discovery and reading."""


_BUFFERS = threading.local()
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte order mark, which some editors and tools put first


def bom_at(data, start: int, size: int | None = None) -> int:
    """How many of the first `size` bytes of `data` (all of it by default), read from byte
    `start` of a file, are a byte order mark."""
    return 3 if start == 0 and (size is None or size >= 3) and data[:3] == BOM else 0


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
    left: int = 0  # lines still being written, left to read next time (a one-shot import says so)
    duplicates: int = 0  # candidates merged away already (Tool.premerge)
    first_offset: int = -1  # where first_problem is, when problems are not found in file order
    observations: list = field(default_factory=list)  # plan windows the file reports (store.limits.Observation)

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


def _finished_tail(tail: bytes, result: FileResult, final: bool) -> bool:
    """Whether the bytes after a file's last newline are a line the tool finished (they parse
    as JSON). Otherwise the tool is still writing it: it is left for the next run (which reads
    it from where it starts), and a one-shot import (`final`) counts it as left for next time,
    not as unreadable."""
    if not tail.strip():
        return False
    try:
        orjson.loads(tail)
    except orjson.JSONDecodeError:
        if final:
            result.left += 1
        return False
    return True


def json_lines(path: Path, start: int, result: FileResult, *, final: bool = True) -> Iterator[tuple[int, bytes]]:
    """Complete lines from `start`; sets `result.end`. A last line without a newline counts
    when it parses as JSON (the tool finished it); otherwise it is left for the next run
    (`_finished_tail`)."""
    data, _st = read_from(path, start)
    skip = bom_at(data, start)
    lines, end, tail = split_lines(data[skip:] if skip else data, start + skip)
    result.end = end
    yield from lines
    if _finished_tail(tail, result, final):
        result.end = end + len(tail)
        yield end, tail


_LF, _OPEN, _CLOSE = 10, ord("{"), ord("}")
Mark = bytes | tuple[bytes, ...] | re.Pattern[bytes]
_MARKS: dict[Mark, list[re.Pattern]] = {}


def marked_lines(
    path: Path, start: int, result: FileResult, mark: Mark, *, final: bool = True
) -> tuple[list[tuple[int, memoryview, bool]], bool]:
    """The complete lines from `start` that contain `mark` (or match it, a pattern: several
    marks with a common start, `"session\\.(?:start|shutdown)"`, are one literal search of that
    start where a tuple of them is one search each), found without splitting the file
    into lines: [(offset, line, gap)] (each line a view into `read_into`'s buffer, valid until
    its next call), where `gap` says a non-blank line without the mark came
    before it (since the previous marked line), and whether such a line follows the last one.
    Sets `result.end` as `json_lines` does (same rule for a last line without a newline).

    Lines without the mark are never parsed; one whose first and last bytes are not `{` and
    `}` is counted unreadable ("not a JSON object"). The mark is found by the regex engine's
    literal search (about twice as fast as `bytes.find` in a loop on JSON, whose `"` is
    everywhere); only the lines between marked lines are walked, one `find` each."""
    data, size = read_into(path, start)
    lo = bom_at(data, start, size)  # the first line starts here
    body = max(lo, data.rfind(b"\n", 0, size) + 1)  # complete lines end here
    tail = bytes(data[body:size])
    result.end = start + body
    if _finished_tail(tail, result, final):
        body = size  # a finished last line the tool wrote without a newline
        result.end = start + body
    patterns = _MARKS.get(mark)
    if patterns is None:
        if isinstance(mark, re.Pattern):
            patterns = _MARKS[mark] = [mark]
        else:
            marks = (mark,) if isinstance(mark, bytes) else mark  # several: a line with any of them
            patterns = _MARKS[mark] = [re.compile(re.escape(m)) for m in marks]
    if len(patterns) == 1:
        starts: Iterator[int] = (m.start() for m in patterns[0].finditer(data, lo, body))
    else:  # each mark found on its own, in order: an alternation without a common first byte
        # is no literal search for the regex engine (Qwen's two marks: 0.25 s against 0.02 s)
        starts = heapq.merge(*[(m.start() for m in p.finditer(data, lo, body)) for p in patterns])
    out: list[tuple[int, memoryview, bool]] = []
    find, rfind = data.find, data.rfind
    view = memoryview(data)  # lines as views, not copies: valid until the next read_into
    prev = lo  # end of the previous marked line (+1)
    for j in starts:
        if j < prev:
            continue  # the mark again, in a line already taken
        a = max(lo, rfind(b"\n", 0, j) + 1)
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


def json_objects(path: Path, start: int, result: FileResult, *, final: bool = True) -> Iterator[tuple[int, dict]]:
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


def marked_objects(
    path: Path, start: int, result: FileResult, mark: Mark, *, final: bool = True
) -> Iterator[tuple[int, dict]]:
    """`json_objects` for the lines that contain `mark` (or one of several): for logs where the
    lines a tool reads carry a key the others lack, and most of the bytes are in the others
    (prompts, answers, tool output). Those are never parsed, only checked to be JSON objects by
    their first and last byte (`marked_lines`); a marked line that is not a JSON object is
    counted unreadable with its reason, as `json_objects` does."""
    lines, _gap = marked_lines(path, start, result, mark, final=final)
    loads = orjson.loads
    for offset, line, _before in lines:
        try:
            obj = loads(line)
        except orjson.JSONDecodeError as exc:
            result.bad_at(offset, f"{path.name}:{offset}", f"not JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            result.bad_at(offset, f"{path.name}:{offset}", "not a JSON object")
            continue
        yield offset, obj


# -- state --------------------------------------------------------------------------------------


def load_json_file(path: Path, result: FileResult, *, final: bool):
    """A whole JSON document (tools that rewrite a file), or None when it does not parse
    (counted when `final`; the live watcher just tries again after the tool's next write)."""
    data, _st = read_from(path, 0)
    result.end = len(data)
    if not data.strip():
        result.retry = True
        return None
    try:
        return orjson.loads(data[bom_at(data, 0) :])
    except orjson.JSONDecodeError as exc:
        result.retry = True
        if final:
            result.bad(path.name, f"not JSON ({exc})")
        return None
