"""The overlay: records in journals that no checkpoint has folded yet, as queries see them.

Every process reads every journal past the checkpoint's offsets (`positions`) and counts each
new record here: its JSON line kept per day (a quarter of the memory of a dict), its id hash
(for dedupe), and its metrics added to one aggregate row per (day, model, project, user,
billing), so "today" costs no more with 5,000 pending records than with none. When a
checkpoint folds the lines, the ledger starts a fresh overlay from the new offsets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from usage_ls import days
from usage_ls.model import billing_code
from usage_ls.store.rollup import METRIC_COUNT, Chunk, Names, metrics_of


class Overlay:
    def __init__(self, names: Names):
        self.names = names
        self.positions: dict[str, int] = {}  # journal file name -> offset read up to
        self.lines: dict[str, list[str]] = {}  # day -> its pending records as JSON lines
        self.hashes: set[int] = set()
        self.count = 0
        self.models: set[str] = set()
        self._rows: dict[tuple[int, ...], int] = {}  # (day ordinal, model, project, user, billing) -> row
        self._keys = np.zeros((5, 256), dtype=np.int32)
        self._metrics = np.zeros((METRIC_COUNT, 256))
        self._ordinals: dict[str, int] = {}

    def add(self, rec: dict[str, Any], h: int) -> None:
        """Count a record that is in a journal; `h` is its id hash, known to be new."""
        self.hashes.add(h)
        day = rec["date"]
        # .decode(): an orjson bytes result keeps an ~8 KB buffer alive; the str is exact
        self.lines.setdefault(day, []).append(orjson.dumps(rec).decode())
        ordinal = self._ordinals.get(day)
        if ordinal is None:
            ordinal = self._ordinals[day] = days.ordinal(day)
        models, projects, users = self.names
        key = (
            ordinal,
            models.id(rec["model"]),
            projects.id(rec["project"]),
            users.id(rec["user"]),
            billing_code(rec["billing"]),
        )
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = len(self._rows)
            if row >= self._keys.shape[1]:  # grow by doubling
                self._keys = np.concatenate([self._keys, np.zeros_like(self._keys)], axis=1)
                self._metrics = np.concatenate([self._metrics, np.zeros_like(self._metrics)], axis=1)
            self._keys[:, row] = key
        self._metrics[:, row] += metrics_of(rec)
        self.count += 1
        self.models.add(rec["model"])

    def chunk(self) -> Chunk:
        """The pending records' aggregate rows."""
        n = len(self._rows)
        if not n:
            return Chunk.empty()
        k = self._keys
        return Chunk(k[0, :n], k[1, :n], k[2, :n], k[3, :n], k[4, :n].astype(np.int8), self._metrics[:, :n])

    def records(self, day: str, start: int = 0) -> list[dict[str, Any]]:
        """Pending records of `day` (from the `start`th)."""
        lines = self.lines.get(day)
        return [orjson.loads(line) for line in lines[start:]] if lines else []

    def count_before(self, day: str) -> int:
        """Pending records of days before `day`."""
        return sum(len(v) for d, v in self.lines.items() if d < day)
