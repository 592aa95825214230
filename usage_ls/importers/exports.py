"""Vendor exports: CSV files a user downloads from a dashboard (Cursor, GitHub Copilot).

What the two share: columns are found by their header name, never by position (vendors add,
drop and reorder columns between versions), compared without case, spaces or underscores
(`Output Tokens`, `output_tokens`); a column the tool needs and the header lacks is a clear
error naming it (and the columns the file has). A UTF-8 byte order mark (spreadsheet
programs write one) is not part of the first column's name.

Where they are looked for: the files and folders named on the command line, else the tool's
environment variable (comma-separated files or folders), else `~/Downloads`. In a folder, only
`.csv` files whose header has the tool's columns are taken (not by file name: the vendors'
download names are not documented), and the default folder is not searched below its top
level. These files are written by a browser, not by the tool, so they are imported by
`usage-ls import` (and `import all`), not watched.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

from usage_ls.importers.base import EPOCH, ONE_MS, Tool
from usage_ls.importers.lines import BOM, FileResult, read_from

SNIFF_BYTES = 4096


def norm(name: str) -> str:
    """A header name compared loosely: `Input (w/ Cache Write)` -> `input(w/cachewrite)`."""
    return re.sub(r"[\s_]+", "", name.strip().strip('"').lower())


class CsvExport(Tool):
    """A tool whose files are CSV exports. Subclasses set `env`, `columns` (field -> accepted
    header names), `required` (fields a file must have) and `detect` (fields whose presence
    says a CSV is this vendor's export), and implement `row`."""

    env = ""
    patterns = ("*.csv",)
    append_only = False  # an export is written whole; a file downloaded again is read again
    columns: ClassVar[dict[str, tuple[str, ...]]] = {}
    required: tuple[str, ...] = ()
    detect: tuple[str, ...] = ()

    def roots(self) -> list[Path]:
        value = os.environ.get(self.env, "")
        if value.strip():
            return [Path(p.strip()).expanduser() for p in value.split(",") if p.strip()]
        return [Path.home() / "Downloads"]

    def discover(self, paths: Iterable[Path] | None) -> list[Path]:
        explicit = list(paths) if paths else None
        found: set[Path] = set()
        for root in explicit or self.roots():
            root = Path(root).expanduser()
            if root.is_file():
                found.add(root.resolve())  # named on purpose: read it (a missing column is said)
                continue
            if not root.is_dir():
                continue
            walk = root.rglob("*.csv") if explicit else root.glob("*.csv")
            for p in walk:
                try:
                    if p.is_file() and self.looks_like(p):
                        found.add(p.resolve())
                except OSError:
                    continue
        return sorted(found, key=str)

    def looks_like(self, path: Path) -> bool:
        """Whether the header of a CSV file has the columns of this vendor's export."""
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
        line = head.removeprefix(BOM).split(b"\n", 1)[0].decode("utf-8", "replace")
        have = self.fields_of(next(csv.reader([line]), []))
        return all(f in have for f in self.detect)

    def fields_of(self, header: list[str]) -> dict[str, int]:
        """field -> column index, for the fields whose header name this file uses."""
        by_name = {norm(h): i for i, h in enumerate(header)}
        out = {}
        for fld, names in self.columns.items():
            for name in names:
                if norm(name) in by_name:
                    out[fld] = by_name[norm(name)]
                    break
        return out

    def rows(self, path: Path, result: FileResult) -> Iterator[tuple[int, dict[str, str]]]:
        """(line number, {field: text}) for each data row; nothing (and the problem said) when a
        required column is missing."""
        data, _st = read_from(path, 0)
        result.end = len(data)
        text = data.removeprefix(BOM).decode("utf-8", "replace")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            result.bad(path.name, "empty file: no header row")
            return
        cols = self.fields_of(header)
        missing = [f for f in self.required if f not in cols]
        if missing:
            names = ", ".join(repr(self.columns[f][0]) for f in missing)
            have = ", ".join(repr(h.strip()) for h in header)
            result.bad(path.name, f"the required column {names} is missing (the header has {have})")
            return
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield reader.line_num, {f: row[i].strip() if i < len(row) else "" for f, i in cols.items()}

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        for line, fields in self.rows(path, result):
            self.row(fields, f"{path.name}:{line}", result)

    def row(self, fields: dict[str, str], where: str, result: FileResult) -> None:
        raise NotImplementedError


def number(text: str, what: str) -> float:
    """A number as a spreadsheet writes it: `1,234`, `$0.12`, `12.0`; empty is 0. ValueError
    names the field otherwise."""
    t = text.strip().replace(",", "").removeprefix("$").strip()
    if not t or t == "-":
        return 0.0
    try:
        v = float(t)
    except ValueError:
        raise ValueError(f"{what}: not a number ({text[:40]!r})") from None
    if not (v >= 0 and v < 1e15):
        raise ValueError(f"{what}: not a non-negative number ({text[:40]!r})")
    return v


def tokens(text: str, what: str) -> int:
    return int(round(number(text, what)))


def when(text: str) -> int | None:
    """An export's time -> epoch ms: RFC 3339 (a time without an offset is UTC: both vendors
    record in UTC), a bare date (noon UTC that day, so it stays on its date in every zone from
    UTC-11 to UTC+11), or epoch milliseconds."""
    t = text.strip()
    if not t:
        return None
    if t.isdigit():
        v = int(t)
        return v if v >= 10_000_000_000 else v * 1000
    try:
        if len(t) == 10:
            d = dt.date.fromisoformat(t)
            parsed = dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.UTC)
        else:
            parsed = dt.datetime.fromisoformat(t.replace(" UTC", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return (parsed - EPOCH) // ONE_MS
