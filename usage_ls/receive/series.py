"""Metric temporality: what each data point adds, with the last point of every cumulative series
kept on disk so that neither an exporter restart nor a receiver restart counts anything twice.

A series is (resource attributes, scope, metric name, point attributes) — `mapping.Point.series`.

- DELTA: the point's value is the increment. An exporter retrying a batch sends the same
  (series, start, time) again; the record made from it has the same id (`mapping.metric_records`),
  so the ledger drops the repeat.
- CUMULATIVE, the same start as the stored point: the increment is value - stored value; a
  point at or before the stored time is a retry (nothing); a value below the stored one is a
  reset (the whole value counts).
- CUMULATIVE, a later start than the stored one (the exporter restarted): a new stream. With a
  known start (start < time) its whole value is new; with an unknown start (0, or start ==
  time) the point only sets the baseline. A point of an *older* start than the stored one (a
  late retry from before a restart) adds nothing.

`increments` does not change the state; `commit` applies and persists what a request's
increments implied, and the receiver calls it only once their records are durable. A crash in
between leaves the old state, the exporter retries, the same increments are computed again
and their records (same ids) are dropped as duplicates.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from usage_ls import fileio

DELTA, CUMULATIVE = 1, 2
KEEP_SECONDS = 35 * 86_400  # a series silent this long is forgotten
MAX_SERIES = 100_000


class Series:
    """The last (start, time, value) of each cumulative series, in `<data dir>/otlp-series.json`."""

    def __init__(self, path: Path):
        self.path = path
        raw = fileio.read_json(path) if path.exists() else None
        series = raw.get("series") if isinstance(raw, dict) else None
        self.last: dict[str, list[Any]] = {}  # series -> [start ns, time ns, value, seen (epoch s)]
        if isinstance(series, dict):
            for key, value in series.items():
                if isinstance(value, list) and len(value) == 4:
                    self.last[key] = value

    def increments(self, points: list[Any]) -> tuple[list[tuple[Any, int]], dict[str, list[Any]]]:
        """(point, tokens it adds) for each point, and the state updates they imply."""
        updates: dict[str, list[Any]] = {}
        out = []
        now = int(time.time())
        for p in points:
            if p.temporality == DELTA:
                out.append((p, round(p.value)))
                continue
            prev = updates.get(p.series) or self.last.get(p.series)
            known_start = 0 < p.start < p.time
            if prev is None or p.start > prev[0]:
                added = round(p.value) if known_start else 0
            elif p.start < prev[0] or p.time <= prev[1]:
                out.append((p, 0))  # before a restart, or a retry
                continue
            elif p.value >= prev[2]:
                added = round(p.value) - round(prev[2])
            else:
                added = round(p.value)  # went down under the same start: a reset
            updates[p.series] = [p.start, p.time, p.value, now]
            out.append((p, added))
        return out, updates

    def commit(self, updates: dict[str, list[Any]]) -> None:
        if not updates:
            return
        self.last.update(updates)
        cutoff = time.time() - KEEP_SECONDS
        if len(self.last) > MAX_SERIES or any(v[3] < cutoff for v in self.last.values()):
            fresh = sorted(((v[3], k) for k, v in self.last.items() if v[3] >= cutoff), reverse=True)
            self.last = {k: self.last[k] for _, k in fresh[:MAX_SERIES]}
        fileio.atomic_write(self.path, orjson.dumps({"version": 1, "series": self.last}))
