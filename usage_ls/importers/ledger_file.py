"""usage-ls's own export files (`usage-ls export`, `exporting.py`): records from another machine.

Format read
    JSON lines (`.jsonl`, one record an object) or CSV (`.csv`, read by header name, any order,
    extra columns ignored; `id`, `timestamp` and `model` are required), with the fields of
    `exporting.COLUMNS`. There is no default location: `usage-ls import usage-ls FILE...`.

Mapping
    Every field as exported, user and project included (they are the other machine's). Cost:
    a `reported` cost (the tool said it) is kept with its credits; a `computed` one is priced
    again here (the same price data gives the same figure, and a later price correction
    applies), and so are its credits; `unpriced` stays unpriced. CSV cells that the export
    protected with a leading `'` (`=`, `+`, `-`, `@`, tab, CR) get it taken off.

Dedupe key
    The record's own id: importing a file again, or the same usage exported from two
    machines, counts once (ids derive from the tools' own ids, see each importer).

Pitfalls handled
    - a line or row that is not a record is counted unreadable with its reason (field named);
    - numbers in CSV are text: converted, and refused when they are not numbers;
    - files are read whole each time they change (an export is rewritten, not appended to).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from usage_ls.exporting import FORMULA_START
from usage_ls.importers.base import Tool, ms_ts
from usage_ls.importers.lines import FileResult, json_objects
from usage_ls.model import TOKEN_FIELDS

TEXT = ("id", "model", "provider", "billing", "project", "user", "feature", "session")
INTS = TOKEN_FIELDS
REQUIRED = ("id", "timestamp", "model")


class LedgerFile(Tool):
    name = "usage-ls"
    feature = ""
    append_only = False
    patterns = ("*.jsonl", "*.csv")

    def roots(self) -> list[Path]:
        return []  # only the files named

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        if path.suffix.lower() == ".csv":
            data = path.read_bytes()
            result.end = len(data)
            rows = self._csv(path, data, result)
        else:  # the shared line reader: offsets, a torn last line, unreadable lines counted
            rows = ((f"{path.name}:{offset}", obj) for offset, obj in json_objects(path, start, result, final=final))
        for where, row in rows:
            rec, problem = record_of(row)
            if rec is None:
                result.bad(where, problem)
            else:
                result.entries.append(rec)

    def _csv(self, path: Path, data: bytes, result: FileResult):
        text = data.decode("utf-8-sig", errors="replace")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            result.bad(path.name, f"no {', '.join(missing)} column (is this a usage-ls export?)")
            return
        for row in reader:
            where = f"{path.name}:{reader.line_num}"
            yield where, {k: _cell(k, v) for k, v in row.items() if k is not None}


def _cell(key: str, value: str | None) -> Any:
    """A CSV cell as the JSON export has it: '' is absent, numbers are numbers, the formula
    guard `'` is taken off."""
    if value is None or value == "":
        return None
    if key in INTS or key in ("costUsd", "credits"):
        try:
            return int(value) if key in INTS and value.lstrip("-").isdigit() else float(value)
        except ValueError:
            return value  # refused by name in record_of
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def record_of(row: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The record to store for an exported row, or (None, the problem)."""
    for key in REQUIRED:
        if row.get(key) in (None, ""):
            return None, f"{key}: missing"
    ts = ms_ts(row["timestamp"])
    if ts is None:
        return None, f"timestamp: not an RFC 3339 time with an offset: {str(row['timestamp'])[:40]!r}"
    rec: dict[str, Any] = {"timestamp": ts}
    for key in TEXT:
        value = row.get(key)
        if value is not None:
            if not isinstance(value, str):
                return None, f"{key}: expected text"
            rec[key] = value
    for key in INTS:
        value = row.get(key, 0)
        if value is None:
            value = 0
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is not int or value < 0:
            return None, f"{key}: expected a non-negative whole number, got {str(value)[:40]!r}"
        rec[key] = value
    if row.get("costSource") == "reported":
        for key in ("costUsd", "credits"):
            value = row.get(key)
            if value is not None:
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    return None, f"{key}: expected a non-negative number, got {str(value)[:40]!r}"
                rec[key] = float(value)
    return rec, ""
