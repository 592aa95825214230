"""`usage-ls export`: the stored records of a filter as JSON lines or CSV, to merge machines by
hand (`usage-ls import usage-ls FILE` on the other one, `importers/ledger_file.py`) or to read
anywhere else. No server is needed; every record keeps its id, so importing a file twice, or
the same usage exported from two machines, counts once.

Both formats have the same fields, in this order (`COLUMNS`): the record's id, its time (RFC
3339 UTC, milliseconds), the exporting machine's day, model, provider, billing, project, user,
the five token counts, costUsd with its costSource (`reported`, `computed`, `unpriced`), credits,
feature and session. CSV quotes every text cell (a `;` or `,` in a name never splits a cell, in
any locale) and puts `'` before a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
return, so that a spreadsheet shows it as text rather than running it; the importer takes that
`'` off again.

Without `--from`, everything stored; without `--to`, up to today. The other filters
(`--project`, `--user`, `--model`, `--billing`) select records whose field equals the value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from usage_ls import days
from usage_ls.errors import InvalidParams
from usage_ls.model import TOKEN_FIELDS

COLUMNS = (
    *("id", "timestamp", "date", "model", "provider", "billing", "project", "user"),
    *TOKEN_FIELDS,
    *("costUsd", "costSource", "credits", "feature", "session"),
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso(ms: int) -> str:
    """Epoch milliseconds as RFC 3339 UTC with milliseconds."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stored_days(svc: Any) -> list[str]:
    """Every day that has records: day files and journal lines not folded in yet."""
    svc.ledger.refresh()
    found = {day for day, _path in svc.ledger.files.day_files()}
    found |= set(svc.ledger.overlay.lines)
    return sorted(found)


def records(svc: Any, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The records of the filter `params` (protocol names: from, to, project, ...), day by day,
    each day in time order, in export form."""
    first = params.get("from")
    check = dict(params)
    check.setdefault("from", check.get("to") or days.today(svc.tz))
    flt = svc.parse_filter(check)  # names a bad field; the range limit does not apply below
    start = flt.start if first is not None else "0000-00-00"
    wanted = {k: getattr(flt, k) for k in ("project", "user", "model", "billing") if getattr(flt, k) is not None}
    for day in stored_days(svc):
        if not (start <= day <= flt.end):
            continue
        for rec in sorted(svc.ledger.day_records(day), key=lambda r: (r["ts"], r["id"])):
            if all(rec.get(k) == v for k, v in wanted.items()):
                yield {c: rec.get(c) for c in COLUMNS} | {"timestamp": iso(rec["ts"])}


def text_cell(value: Any) -> Any:
    """A CSV cell: text that a spreadsheet would run as a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def write(rows: Iterator[dict[str, Any]], fmt: str, out: IO[str]) -> int:
    n = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(orjson.dumps(row).decode() + "\n")
            n += 1
        return n
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([text_cell(row[c]) for c in COLUMNS])
        n += 1
    return n


def main(args: Any, svc: Any, params: dict[str, Any]) -> int:
    fmt = args.format or (
        "csv" if args.out and args.out.lower().endswith(".csv") else "jsonl"
    )  # the file's name, else JSON lines
    try:
        rows = records(svc, params)
        if args.out:
            buf = io.StringIO(newline="")
            n = write(rows, fmt, buf)
            from usage_ls.fileio import atomic_write

            atomic_write(Path(args.out), buf.getvalue().encode("utf-8"))
            print(f"usage-ls export: {n:,} records to {args.out} ({fmt})", file=sys.stderr)
        else:
            n = write(rows, fmt, sys.stdout)
            sys.stdout.flush()
    except InvalidParams as exc:
        print(f"usage-ls export: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"usage-ls export: --out {args.out}: cannot write it: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0
