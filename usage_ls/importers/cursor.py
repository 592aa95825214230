"""Cursor: the usage-events CSV its dashboard exports (Usage -> Export).

Format read
    A CSV file with one row per request (per usage event), columns found by header name
    (`exports.py`): `Date` (RFC 3339, UTC), `Model`, `Input (w/o Cache Write)`, `Output Tokens`
    (required), and when present `Input (w/ Cache Write)`, `Cache Read`, `Total Tokens`, `Kind`
    (`Included`, `Free`, `On-Demand`, `Errored, No Charge`, `Aborted, Not Charged`...), `Cost`
    (`$0.12`, `0.12`, `Included`, `Free`), `User` (team exports), `Max Mode`. Other columns
    (`Cloud Agent ID`, `Automation ID`, `Cost to you`, ...) are ignored. Files: the paths
    given, else `$USAGE_LS_CURSOR_CSV` (files or folders, comma-separated), else the CSVs in
    `~/Downloads` whose header has `Date`, `Model` and `Output Tokens` and an input column.
    Cursor documents none of this: the columns are those third-party parsers read (UNCERTAIN).

Mapping
    Cursor has two input columns whose relation is not documented (UNCERTAIN). When `Total
    Tokens` equals the sum of both input columns, cache reads and output, they are separate
    buckets: input = `Input (w/o Cache Write)`, cache writes = `Input (w/ Cache Write)`.
    Otherwise (the sum of the *with* column, cache reads and output matches, as in the
    exports seen, or there is no total) the *with* column includes the *without* one: cache
    writes = with - without. cache reads = `Cache Read`, output = `Output Tokens`. Cost: a
    dollar amount above 0 is the reported cost; a row Cursor did not charge (`No Charge`,
    `Not Charged`) costs 0; `Included`/`Free` usage is plan quota, not free: priced at list
    price from the table (a model the table does not know stays unpriced, never $0).
    model = `Model`, a Claude name put in Anthropic's order (`claude-4.5-sonnet` ->
    `claude-sonnet-4-5`) so that the price table knows it; user = `User` when the export has it; project `(no project)`; feature `cursor`.

Dedupe key
    `cursor:` + a hash of the row's date, user, kind, model and counts, and how many identical
    rows came before it in the same file (two identical events in one millisecond stay two).
    An export overlapping an earlier one (the same rows) adds nothing.

Pitfalls handled
    - columns reordered, inserted or renamed in case/spacing; a byte order mark;
    - a missing required column: the file is not read, and the summary names the column;
    - a row whose date or counts do not parse is counted unreadable with the field named.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from usage_ls.importers.base import short_hash
from usage_ls.importers.exports import CsvExport, number, tokens, when
from usage_ls.importers.lines import FileResult

FEATURE = "cursor"
NO_CHARGE = ("no charge", "not charged")
CLAUDE = re.compile(r"claude-(\d+(?:\.\d+)?)-(sonnet|opus|haiku)", re.I)


def model_name(model: str) -> str:
    """Cursor writes Claude models version first (`claude-4.5-sonnet`, `claude-4-opus-thinking`):
    Anthropic's own order (`claude-sonnet-4-5`) is what the price table knows."""
    m = CLAUDE.match(model)
    if m is None:
        return model
    return f"claude-{m.group(2).lower()}-{m.group(1).replace('.', '-')}{model[m.end() :]}"


class Cursor(CsvExport):
    name = "cursor"
    feature = FEATURE
    env = "USAGE_LS_CURSOR_CSV"
    columns: ClassVar[dict[str, tuple[str, ...]]] = {
        "date": ("Date", "Timestamp"),
        "model": ("Model",),
        "input": ("Input (w/o Cache Write)", "input_wo_cache_write"),
        "output": ("Output Tokens", "output"),
        "with_cw": ("Input (w/ Cache Write)", "input_w_cache_write"),
        "cache_read": ("Cache Read", "cache_read_tokens"),
        "total": ("Total Tokens",),
        "kind": ("Kind",),
        "cost": ("Cost", "cost_usd"),
        "user": ("User", "Email"),
    }
    required = ("date", "model", "input", "output")
    detect = required

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        seen: dict[str, int] = {}
        for line, f in self.rows(path, result):
            where = f"{path.name}:{line}"
            ts = when(f["date"])
            if ts is None:
                result.bad(where, f"Date: not a timestamp ({f['date'][:40]!r})")
                continue
            try:
                inp = tokens(f["input"], "Input (w/o Cache Write)")
                out = tokens(f["output"], "Output Tokens")
                with_cw = tokens(f.get("with_cw", ""), "Input (w/ Cache Write)")
                cr = tokens(f.get("cache_read", ""), "Cache Read")
                total = tokens(f["total"], "Total Tokens") if f.get("total") else None
            except ValueError as exc:
                result.bad(where, str(exc))
                continue
            if total is not None and total == with_cw + inp + cr + out and total != with_cw + cr + out:
                cw = with_cw  # separate buckets
            else:
                cw = max(0, with_cw - inp)  # the *with* column includes the *without* one
            if not (inp or out or cr or cw):
                continue
            model = model_name(f["model"]) or "(unknown)"
            kind = f.get("kind", "")
            user = f.get("user", "")
            key = short_hash(f["date"], user, kind, model, inp, out, with_cw, cr)
            seen[key] = seen.get(key, 0) + 1
            rec = {
                "id": f"cursor:{key}:{seen[key]}",
                "timestamp": ts,
                "model": model[:200],
                "project": "(no project)",
                "inputTokens": inp,
                "outputTokens": out,
                "cacheReadTokens": cr,
                "cacheWriteTokens": cw,
                "feature": FEATURE,
            }
            if user:
                rec["user"] = user[:200]
            if any(m in kind.lower() for m in NO_CHARGE):
                rec["costUsd"] = 0.0
            else:
                try:
                    cost = number(f.get("cost", ""), "Cost")
                except ValueError:
                    cost = 0.0  # `Included`, `Free`: priced from the table
                if cost > 0:
                    rec["costUsd"] = cost
            result.entries.append(rec)
