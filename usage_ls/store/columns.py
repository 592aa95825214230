"""A day's records in columns: what the interactions table sorts and pages.

Holding records as dicts costs ~1 KB each; as numpy columns ~100 bytes, and a sort of a
month's 60,000 rows is one `lexsort` instead of a Python sort.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

SOURCES = ("computed", "reported", "unpriced")
TOKEN_COLUMNS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "cacheWrite1hTokens")


@dataclass
class RecordColumns:
    ts: np.ndarray  # int64 epoch ms
    model: np.ndarray  # int32 ids (the ledger's Dims)
    project: np.ndarray
    user: np.ndarray
    billing: np.ndarray  # int8: 0 premium, 1 byok
    tokens: np.ndarray  # int64 (5, n) in TOKEN_COLUMNS order
    cost: np.ndarray  # float64, NaN when unpriced
    credits: np.ndarray  # float64, NaN when unknown
    source: np.ndarray  # int8 index into SOURCES
    ids: list[str]
    extra: list[tuple]  # (date, provider, feature, session) per row

    def __len__(self) -> int:
        return len(self.ts)

    @staticmethod
    def build(records: list[dict], models, projects, users) -> "RecordColumns":
        n = len(records)
        tokens = np.array([[r[k] for k in TOKEN_COLUMNS] for r in records], dtype=np.int64).reshape(n, 5).T
        nan = float("nan")
        return RecordColumns(
            ts=np.fromiter((r["ts"] for r in records), dtype=np.int64, count=n),
            model=np.fromiter((models.id(r["model"]) for r in records), dtype=np.int32, count=n),
            project=np.fromiter((projects.id(r["project"]) for r in records), dtype=np.int32, count=n),
            user=np.fromiter((users.id(r["user"]) for r in records), dtype=np.int32, count=n),
            billing=np.fromiter((0 if r["billing"] == "premium" else 1 for r in records), dtype=np.int8, count=n),
            tokens=np.ascontiguousarray(tokens),
            cost=np.fromiter((nan if r["costUsd"] is None else r["costUsd"] for r in records), dtype=np.float64, count=n),
            credits=np.fromiter((nan if r["credits"] is None else r["credits"] for r in records), dtype=np.float64, count=n),
            source=np.fromiter((SOURCES.index(r.get("costSource") or "computed") for r in records), dtype=np.int8, count=n),
            ids=[r["id"] for r in records],
            extra=[(r["date"], r.get("provider"), r.get("feature"), r.get("session")) for r in records],
        )

    @staticmethod
    def concat(parts: list["RecordColumns"]) -> "RecordColumns":
        parts = [p for p in parts if len(p)]
        if not parts:
            return RecordColumns.build([], None, None, None)
        if len(parts) == 1:
            return parts[0]
        return RecordColumns(
            ts=np.concatenate([p.ts for p in parts]),
            model=np.concatenate([p.model for p in parts]),
            project=np.concatenate([p.project for p in parts]),
            user=np.concatenate([p.user for p in parts]),
            billing=np.concatenate([p.billing for p in parts]),
            tokens=np.concatenate([p.tokens for p in parts], axis=1),
            cost=np.concatenate([p.cost for p in parts]),
            credits=np.concatenate([p.credits for p in parts]),
            source=np.concatenate([p.source for p in parts]),
            ids=list(itertools.chain.from_iterable(p.ids for p in parts)),
            extra=list(itertools.chain.from_iterable(p.extra for p in parts)),
        )
