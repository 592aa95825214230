"""Aggregate rows: what a rollup holds, how it is computed from records, and its columns.

A rollup document is one day's totals per (model, project, user, billing) plus credits and
cost per local hour; `rollup_facts` computes it from what a record contributes (`fact_of`).
Checkpoints and bulk imports both compute rollups here, and every query reads them as a
`Chunk`: one row per (day, model, project, user, billing), one contiguous array per metric,
names interned to small ints (`Dims`, one set per process: `Names`). `rollup_to_bytes` and
`rollup_from_bytes` are a month's rows as a columns file (`rollups/YYYY-MM.cols`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from usage_ls import days, lazy
from usage_ls.model import billing_code
from usage_ls.store.columns import Dims, pack, pack_raw, unpack

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)

# metric columns of every aggregate row, in this order
METRICS = (
    "messages",
    "inputTokens",
    "outputTokens",
    "cacheReadTokens",
    "cacheWriteTokens",
    "costUsd",
    "credits",
    "unpricedMessages",
)
METRIC_COUNT = len(METRICS)


def id_hash(rec_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(rec_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def metrics_of(rec: dict[str, Any]) -> list[float]:
    cost = rec.get("costUsd")
    credits = rec.get("credits")
    return [
        1.0,
        rec["inputTokens"],
        rec["outputTokens"],
        rec["cacheReadTokens"],
        rec["cacheWriteTokens"],
        cost or 0.0,
        credits or 0.0,
        1.0 if cost is None else 0.0,
    ]


Fact = tuple[Any, ...]  # (model, project, user, billing, ts, in, out, cache read, cache write, cost, credits)


def fact_of(rec: dict[str, Any]) -> Fact:
    """What a rollup needs of one stored record."""
    return (
        rec["model"],
        rec["project"],
        rec["user"],
        rec["billing"],
        rec["ts"],
        rec["inputTokens"],
        rec["outputTokens"],
        rec["cacheReadTokens"],
        rec["cacheWriteTokens"],
        rec.get("costUsd"),
        rec.get("credits"),
    )


def rollup_facts(facts: Iterable[Fact], day: str, tz: dt.tzinfo) -> dict[str, Any]:
    """A day's rollup document from its records' facts (`fact_of`): totals per (model, project,
    user, billing), and credits and cost per local hour of the day (25 bins: a DST day can have
    25 hours), so hourly baselines never need the day files."""
    acc: dict[tuple[Any, ...], list[Any]] = {}
    start = days.midnight_ms(day, tz)
    credits_h, cost_h = [0.0] * 25, [0.0] * 25
    for model, project, user, billing, ts, inp, out, cr, cw, cost, credits in facts:
        key = (model, project, user, billing)
        row = acc.get(key)
        if row is None:
            acc[key] = [1.0, inp, out, cr, cw, cost or 0.0, credits or 0.0, 1.0 if cost is None else 0.0]
        else:
            row[0] += 1.0
            row[1] += inp
            row[2] += out
            row[3] += cr
            row[4] += cw
            row[5] += cost or 0.0
            row[6] += credits or 0.0
            row[7] += 1.0 if cost is None else 0.0
        h = (ts - start) // 3_600_000
        if 0 <= h < 25:
            credits_h[h] += credits or 0.0
            cost_h[h] += cost or 0.0
    return {"rows": [[*key, *vals] for key, vals in acc.items()], "hours": [credits_h, cost_h]}


def rollup_rows(records: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """A day's totals per (model, project, user, billing), from its records."""
    rows: list[list[Any]] = rollup_facts(map(fact_of, records), "2000-01-01", dt.UTC)["rows"]
    return rows


def rollup_hours(records: Iterable[dict[str, Any]], day: str, tz: dt.tzinfo) -> list[list[float]]:
    """Credits and cost per local hour of the day, from its records."""
    hours: list[list[float]] = rollup_facts(map(fact_of, records), day, tz)["hours"]
    return hours


def rollup_doc(records: Iterable[dict[str, Any]], day: str, tz: dt.tzinfo) -> dict[str, Any]:
    return rollup_facts(map(fact_of, records), day, tz)


@dataclass
class Chunk:
    """Aggregate rows in columns: one row per (day, model, project, user, billing)."""

    day: np.ndarray  # int32 ordinals
    model: np.ndarray
    project: np.ndarray
    user: np.ndarray
    billing: np.ndarray  # 0 premium, 1 byok
    m: np.ndarray  # float64 (METRIC_COUNT, n): one contiguous row per metric, for fast bincounts

    @staticmethod
    def empty() -> Chunk:
        z = np.zeros(0, dtype=np.int32)
        return Chunk(z, z, z, z, np.zeros(0, dtype=np.int8), np.zeros((METRIC_COUNT, 0)))

    def __len__(self) -> int:
        return len(self.day)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.day, self.model, self.project, self.user, self.billing, self.m))

    def take(self, sel: Any) -> Chunk:
        return Chunk(
            self.day[sel], self.model[sel], self.project[sel], self.user[sel], self.billing[sel], self.m[:, sel]
        )

    def day_slice(self, lo: int, hi: int) -> Chunk:
        """Rows with lo <= day <= hi (rows are sorted by day)."""
        a = int(np.searchsorted(self.day, lo, "left"))
        b = int(np.searchsorted(self.day, hi, "right"))
        return self if (a == 0 and b == len(self.day)) else self.take(slice(a, b))

    @staticmethod
    def concat(chunks: list[Chunk]) -> Chunk:
        chunks = [c for c in chunks if len(c)]
        if not chunks:
            return Chunk.empty()
        if len(chunks) == 1:
            return chunks[0]
        return Chunk(
            np.concatenate([c.day for c in chunks]),
            np.concatenate([c.model for c in chunks]),
            np.concatenate([c.project for c in chunks]),
            np.concatenate([c.user for c in chunks]),
            np.concatenate([c.billing for c in chunks]),
            np.concatenate([c.m for c in chunks], axis=1),
        )


class Names(NamedTuple):
    """The interned model, project and user names of one process (or of one file being written)."""

    models: Dims
    projects: Dims
    users: Dims

    @staticmethod
    def fresh() -> Names:
        return Names(Dims(), Dims(), Dims())


def combine_rollups(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """One day's rollup from rollups of disjoint sets of its records."""
    if len(docs) == 1:
        return docs[0]
    acc: dict[tuple[Any, ...], list[Any]] = {}
    hours = [[0.0] * 25, [0.0] * 25]
    for doc in docs:
        for row in doc["rows"]:
            key = tuple(row[:4])
            have = acc.get(key)
            if have is None:
                acc[key] = list(row[4:])
            else:
                for i, v in enumerate(row[4:]):
                    have[i] += v
        for h in range(2):
            for i, v in enumerate(doc["hours"][h]):
                hours[h][i] += v
    return {"rows": [[*key, *vals] for key, vals in acc.items()], "hours": hours}


def rollup_chunk(table: dict[str, Any], names: Names) -> tuple[Chunk, dict[str, np.ndarray]]:
    """Rows and hourly totals of a rollup file's "days" table."""
    days_col: list[int] = []
    cols: tuple[list[int], list[int], list[int], list[int]] = ([], [], [], [])
    metrics: list[list[float]] = []
    mid, pid, uid = names.models.id, names.projects.id, names.users.id
    hours = {}
    for day in sorted(table):
        rows = table[day].get("rows") or []
        if isinstance(table[day].get("hours"), list) and len(table[day]["hours"]) == 2:
            hours[day] = np.array(table[day]["hours"], dtype=np.float64)
        ordinal = days.ordinal(day)
        for row in rows:
            days_col.append(ordinal)
            cols[0].append(mid(row[0]))
            cols[1].append(pid(row[1]))
            cols[2].append(uid(row[2]))
            cols[3].append(billing_code(row[3]))
            metrics.append(row[4 : 4 + METRIC_COUNT])
    if not days_col:
        return Chunk.empty(), hours
    chunk = Chunk(
        np.array(days_col, dtype=np.int32),
        np.array(cols[0], dtype=np.int32),
        np.array(cols[1], dtype=np.int32),
        np.array(cols[2], dtype=np.int32),
        np.array(cols[3], dtype=np.int8),
        np.ascontiguousarray(np.array(metrics, dtype=np.float64).reshape(len(days_col), METRIC_COUNT).T),
    )
    return chunk, hours


def rollup_to_bytes(chunk: Chunk, hours: dict[str, np.ndarray], source: Iterable[Any], names: Names) -> bytes:
    """A month's rows and hourly totals as one `pack` file; names travel in its header (each
    process interns them to ids of its own)."""
    listed, codes = [], []
    for col, interned in zip((chunk.model, chunk.project, chunk.user), names):
        used, inverse = np.unique(col, return_inverse=True)
        listed.append([interned.names[int(i)] for i in used])
        codes.append(inverse.reshape(-1))
    hour_days = sorted(hours)
    arrays = {
        "day": chunk.day,
        "dims": np.array(codes, dtype=np.int32).reshape(3, len(chunk)),
        "billing": chunk.billing,
        "m": chunk.m,
        "hour_days": np.array([days.ordinal(d) for d in hour_days], dtype=np.int32),
        "hours": np.array([hours[d] for d in hour_days], dtype=np.float64).reshape(len(hour_days), 2, 25),
    }
    return pack(arrays, {"source": list(source), "n": len(chunk), "names": listed})


def rollup_columns(table: dict[str, Any], source: Iterable[Any]) -> bytes:
    """`rollup_to_bytes(*rollup_chunk(table, names), source, names)` with fresh `names`, byte for
    byte, without numpy: what a bulk import writes beside each month's rollup file."""
    names = Names.fresh()
    mid, pid, uid = names.models.id, names.projects.id, names.users.id
    day_col, billing, hour_days = array("i"), array("b"), array("i")
    dims: tuple[array[int], array[int], array[int]] = (array("i"), array("i"), array("i"))
    metrics: list[array[float]] = [array("d") for _ in range(METRIC_COUNT)]
    hours = array("d")
    for day in sorted(table):
        rows = table[day].get("rows") or []
        ordinal = days.ordinal(day)
        day_hours = table[day].get("hours")
        if isinstance(day_hours, list) and len(day_hours) == 2:
            if len(day_hours[0]) != 25 or len(day_hours[1]) != 25:
                raise ValueError(f"rollup of {day}: hours are not 2 x 25")
            hour_days.append(ordinal)
            hours.extend(map(float, day_hours[0]))
            hours.extend(map(float, day_hours[1]))
        for row in rows:
            day_col.append(ordinal)
            dims[0].append(mid(row[0]))
            dims[1].append(pid(row[1]))
            dims[2].append(uid(row[2]))
            billing.append(billing_code(row[3]))
            vals = row[4 : 4 + METRIC_COUNT]
            if len(vals) != METRIC_COUNT:
                raise ValueError(f"rollup of {day}: a row of {len(vals)} metrics")
            for col, v in zip(metrics, vals):
                col.append(float(v))
    n = len(day_col)
    # names interned in order of first use, so each name's code is its id (np.unique's inverse)
    listed = [list(interned.names) for interned in names]
    m = array("d")
    for col in metrics:
        m.extend(col)
    for a in (day_col, billing, hour_days, *dims, m, hours):
        if sys.byteorder == "big":
            a.byteswap()
    arrays = [
        ("day", "<i4", [n], day_col.tobytes()),
        ("dims", "<i4", [3, n], b"".join(d.tobytes() for d in dims)),
        ("billing", "|i1", [n], billing.tobytes()),
        ("m", "<f8", [METRIC_COUNT, n], m.tobytes()),
        ("hour_days", "<i4", [len(hour_days)], hour_days.tobytes()),
        ("hours", "<f8", [len(hour_days), 2, 25], hours.tobytes()),
    ]
    return pack_raw(arrays, {"source": list(source), "n": n, "names": listed})


def rollup_from_bytes(data: bytes, names: Names) -> tuple[list[Any], Chunk, dict[str, np.ndarray]]:
    """(source signature, rows, hourly totals) of `rollup_to_bytes`; ValueError when damaged."""
    header, arrays = unpack(data)
    try:
        n, listed, source = int(header["n"]), header["names"], header["source"]
        day, codes, billing, m = arrays["day"], arrays["dims"], arrays["billing"], arrays["m"]
        hour_days, hours = arrays["hour_days"], arrays["hours"]
        if (
            day.shape != (n,)
            or codes.shape != (3, n)
            or billing.shape != (n,)
            or m.shape != (METRIC_COUNT, n)
            or len(listed) != 3
            or hours.shape != (len(hour_days), 2, 25)
            or any(n and (row.min() < 0 or row.max() >= len(ns)) for row, ns in zip(codes, listed))
        ):
            raise ValueError("inconsistent rollup columns")
        dims = [
            np.array([interned.id(str(name)) for name in ns], dtype=np.int32)[row] if n else np.zeros(0, dtype=np.int32)
            for row, ns, interned in zip(codes, listed, names)
        ]
        by_day = {days.from_ordinal(o): hours[i].copy() for i, o in enumerate(hour_days.tolist())}
    except (KeyError, TypeError, IndexError, OverflowError) as exc:
        raise ValueError(f"bad header: {exc!r}") from None
    return source, Chunk(day.copy(), dims[0], dims[1], dims[2], billing.copy(), m.copy()), by_day
