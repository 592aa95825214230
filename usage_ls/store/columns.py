"""A day's records in columns: what the interactions table sorts and pages.

Holding records as dicts costs ~1 KB each; as numpy columns ~115 bytes, and a sort of a
month's 60,000 rows is one `lexsort` instead of a Python sort. The per-record strings (id,
date, provider, feature, session) are not Python objects either: each column holds indexes
into one `Strings` pool (a UTF-8 blob with offsets, each distinct string once), decoded only
for the rows a page shows.

The same columns are what a checkpoint writes beside each day file (`to_bytes`, see
`StoreFiles.day_columns`): a day loads from them in a fraction of a millisecond, where parsing
the day file's JSON and building the columns from dicts takes ~8 ms per 2,000 records.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from usage_ls import lazy
from usage_ls.model import BILLINGS, TOKEN_FIELDS
from usage_ls.stored import COST_SOURCES

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)

SOURCES = COST_SOURCES
TEXT_COLUMNS = ("id", "date", "provider", "feature", "session")  # rows of RecordColumns.text
MAGIC = b"USAGECOLS\x00\x01\n"  # `pack` files, format 1


class Dims:
    """Interning of model, project and user names to small ints for the numpy columns."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.index: dict[str, int] = {}

    def id(self, name: str) -> int:
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = len(self.names)
            self.names.append(name)
        return i

    def lookup(self, name: str) -> int:
        return self.index.get(name, -1)


class Strings:
    """Strings packed in one UTF-8 blob: string j is blob[offsets[j]:offsets[j + 1]]."""

    __slots__ = ("blob", "offsets")

    def __init__(self, blob: bytes, offsets: np.ndarray):
        self.blob = blob
        self.offsets = offsets

    @staticmethod
    def of(values: Iterable[str]) -> Strings:
        encoded = [v.encode("utf-8", "surrogatepass") for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        if encoded:
            np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
        return Strings(b"".join(encoded), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, j: int) -> str:
        off = self.offsets
        return self.blob[int(off[j]) : int(off[j + 1])].decode("utf-8", "surrogatepass")

    def get(self, j: int) -> str | None:
        return None if j < 0 else self[j]

    @property
    def nbytes(self) -> int:
        return len(self.blob) + self.offsets.nbytes


class _Text:
    """One text column as a read-only sequence of str (None where absent)."""

    __slots__ = ("refs", "strings")

    def __init__(self, refs: np.ndarray, strings: Strings):
        self.refs, self.strings = refs, strings

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i: int) -> str | None:
        return self.strings.get(int(self.refs[i]))

    def __iter__(self) -> Iterator[str | None]:
        get = self.strings.get
        return (get(j) for j in self.refs.tolist())


class _Extra:
    """(date, provider, feature, session) per row, decoded on access."""

    __slots__ = ("cols",)

    def __init__(self, cols: RecordColumns):
        self.cols = cols

    def __len__(self) -> int:
        return len(self.cols)

    def __getitem__(self, i: int) -> tuple[str | None, ...]:
        get = self.cols.strings.get
        return tuple(get(j) for j in self.cols.text[1:, i].tolist())


@dataclass
class RecordColumns:
    ts: np.ndarray  # int64 epoch ms
    model: np.ndarray  # int32 ids (the ledger's Dims)
    project: np.ndarray
    user: np.ndarray
    billing: np.ndarray  # int8: 0 premium, 1 byok
    tokens: np.ndarray  # int64 (5, n) in TOKEN_FIELDS order
    cost: np.ndarray  # float64, NaN when unpriced
    credits: np.ndarray  # float64, NaN when unknown
    source: np.ndarray  # int8 index into SOURCES
    text: np.ndarray  # int32 (5, n): indexes into `strings`, in TEXT_COLUMNS order; -1 for None
    strings: Strings

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def ids(self) -> _Text:
        return _Text(self.text[0], self.strings)

    @property
    def sessions(self) -> _Text:
        return _Text(self.text[4], self.strings)

    @property
    def extra(self) -> _Extra:
        return _Extra(self)

    @property
    def nbytes(self) -> int:
        arrays = (
            self.ts,
            self.model,
            self.project,
            self.user,
            self.billing,
            self.tokens,
            self.cost,
            self.credits,
            self.source,
            self.text,
        )
        return sum(a.nbytes for a in arrays) + self.strings.nbytes

    @staticmethod
    def build(records: Sequence[dict[str, Any]], models: Dims, projects: Dims, users: Dims) -> RecordColumns:
        n = len(records)
        ints = np.array(
            [
                (
                    r["ts"],
                    r["inputTokens"],
                    r["outputTokens"],
                    r["cacheReadTokens"],
                    r["cacheWriteTokens"],
                    r["cacheWrite1hTokens"],
                )
                for r in records
            ],
            dtype=np.int64,
        ).reshape(n, 6)
        money = np.array([(r["costUsd"], r["credits"]) for r in records], dtype=np.float64).reshape(n, 2)  # None: NaN
        texts = [[r[k] for r in records] for k in TEXT_COLUMNS[:2]] + [
            [r.get(k) for r in records] for k in TEXT_COLUMNS[2:]
        ]
        pool = dict.fromkeys(itertools.chain.from_iterable(texts))  # each distinct string once
        pool.pop(None, None)
        index = {s: i for i, s in enumerate(pool)}
        index[None] = -1
        return RecordColumns(
            ts=np.ascontiguousarray(ints[:, 0]),
            model=np.fromiter((models.id(r["model"]) for r in records), dtype=np.int32, count=n),
            project=np.fromiter((projects.id(r["project"]) for r in records), dtype=np.int32, count=n),
            user=np.fromiter((users.id(r["user"]) for r in records), dtype=np.int32, count=n),
            billing=np.array([r["billing"] != "premium" for r in records], dtype=np.int8),
            tokens=np.ascontiguousarray(ints[:, 1:].T),
            cost=np.ascontiguousarray(money[:, 0]),
            credits=np.ascontiguousarray(money[:, 1]),
            source=np.array([SOURCES.index(r.get("costSource") or "computed") for r in records], dtype=np.int8),
            text=np.array([list(map(index.__getitem__, column)) for column in texts], dtype=np.int32).reshape(5, n),
            strings=Strings.of(pool),
        )

    def records(self, models: Dims, projects: Dims, users: Dims) -> list[dict[str, Any]]:
        """The stored records the columns were built from, field for field (`build` keeps every
        field of the stored form: a NaN cost or credits is None, a record stored without a
        costSource comes back "computed"). What rebuilds a damaged day file."""
        ts, cost, credits = self.ts.tolist(), self.cost.tolist(), self.credits.tolist()
        tokens = list(zip(*self.tokens.tolist())) if len(self) else []
        get = self.strings.get
        ids, dates, providers, features, sessions = ([get(j) for j in row] for row in self.text.tolist())
        model, project, user = (
            [dims.names[i] for i in col.tolist()]
            for col, dims in ((self.model, models), (self.project, projects), (self.user, users))
        )
        billing, source = self.billing.tolist(), self.source.tolist()
        return [
            {
                "id": ids[i],
                "ts": ts[i],
                "date": dates[i],
                "model": model[i],
                "provider": providers[i],
                "billing": BILLINGS[billing[i]],
                "project": project[i],
                "user": user[i],
                **dict(zip(TOKEN_FIELDS, tokens[i])),
                "costUsd": None if cost[i] != cost[i] else cost[i],
                "costSource": SOURCES[source[i]],
                "credits": None if credits[i] != credits[i] else credits[i],
                "feature": features[i],
                "session": sessions[i],
            }
            for i in range(len(self))
        ]

    def take(self, idx: Any) -> RecordColumns:
        """The rows at `idx` (indexes or a boolean mask); the string pool is shared, not copied."""
        if getattr(idx, "dtype", None) == bool:  # noqa: E721 (a numpy dtype compares equal to bool; `is` would not match)
            idx = np.nonzero(idx)[0]
        return RecordColumns(
            ts=self.ts[idx],
            model=self.model[idx],
            project=self.project[idx],
            user=self.user[idx],
            billing=self.billing[idx],
            tokens=self.tokens[:, idx],
            cost=self.cost[idx],
            credits=self.credits[idx],
            source=self.source[idx],
            text=self.text[:, idx],
            strings=self.strings,
        )

    @staticmethod
    def concat(parts: list[RecordColumns]) -> RecordColumns:
        parts = [p for p in parts if len(p)]
        if not parts:
            return RecordColumns.build([], Dims(), Dims(), Dims())
        if len(parts) == 1:
            return parts[0]
        # one pool: each part's strings after the previous parts', its indexes shifted
        texts, offsets, shift, base = [], [np.zeros(1, dtype=np.int64)], 0, 0
        for p in parts:
            texts.append(np.where(p.text >= 0, p.text + shift, -1).astype(np.int32))
            offsets.append(p.strings.offsets[1:] + base)
            shift += len(p.strings)
            base += len(p.strings.blob)
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
            text=np.concatenate(texts, axis=1),
            strings=Strings(b"".join(p.strings.blob for p in parts), np.concatenate(offsets)),
        )

    # -- on disk: one `pack` file. Its header holds the signature of the day file the columns
    # were built from, the row count, and the model, project and user names the rows refer to
    # (each process interns names to ids of its own).

    def to_bytes(self, models: Dims, projects: Dims, users: Dims, source: Iterable[Any]) -> bytes:
        names, dims = [], []
        for col, interned in ((self.model, models), (self.project, projects), (self.user, users)):
            used, inverse = np.unique(col, return_inverse=True)
            names.append([interned.names[int(i)] for i in used])
            dims.append(inverse.reshape(-1))
        arrays = {
            "ts": self.ts,
            "dims": np.array(dims, dtype=np.int32).reshape(3, len(self)),
            "billing": self.billing,
            "tokens": self.tokens,
            "cost": self.cost,
            "credits": self.credits,
            "source": self.source,
            "text": self.text,
            "offsets": self.strings.offsets,
            "blob": np.frombuffer(self.strings.blob, dtype=np.uint8),
        }
        return pack(arrays, {"source": list(source), "n": len(self), "names": names})

    @staticmethod
    def from_bytes(data: bytes, models: Dims, projects: Dims, users: Dims) -> tuple[list[Any], RecordColumns]:
        """(the source signature stored with them, the columns); ValueError when the bytes are
        not intact columns."""
        header, arrays = unpack(data)
        try:
            n, names, source = int(header["n"]), header["names"], header["source"]
            blob, offsets, text, dims = (
                arrays["blob"].tobytes(),
                arrays["offsets"].copy(),
                arrays["text"],
                arrays["dims"],
            )
            k = len(offsets) - 1
            if (
                text.shape != (5, n)
                or dims.shape != (3, n)
                or k < 0
                or offsets[0] != 0
                or offsets[-1] != len(blob)
                or (k and np.any(np.diff(offsets) < 0))
                or (n and (text.min() < -1 or text.max() >= k))
                or any(arrays[c].shape != (n,) for c in ("ts", "billing", "cost", "credits", "source"))
                or arrays["tokens"].shape != (5, n)
                or len(names) != 3
                or any(n and (row.min() < 0 or row.max() >= len(ns)) for row, ns in zip(dims, names))
            ):
                raise ValueError("inconsistent columns")
            mapped = [
                np.array([interned.id(str(name)) for name in ns], dtype=np.int32)[row]
                if n
                else np.zeros(0, dtype=np.int32)
                for row, ns, interned in zip(dims, names, (models, projects, users))
            ]
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"bad header: {exc!r}") from None
        return source, RecordColumns(
            ts=arrays["ts"].copy(),
            model=mapped[0],
            project=mapped[1],
            user=mapped[2],
            billing=arrays["billing"].copy(),
            tokens=arrays["tokens"].copy(),
            cost=arrays["cost"].copy(),
            credits=arrays["credits"].copy(),
            source=arrays["source"].copy(),
            text=text.copy(),
            strings=Strings(blob, offsets),
        )


def pack(arrays: dict[str, np.ndarray], header: dict[str, Any]) -> bytes:
    """numpy arrays and a small JSON header in one self-checking file: MAGIC, the header's
    length and a CRC-32 of everything after them (4 bytes each), the header (with each array's
    dtype, shape and offset), the arrays (8-byte aligned)."""
    return pack_raw(
        [(name, arr.dtype.str, list(arr.shape), np.ascontiguousarray(arr).tobytes()) for name, arr in arrays.items()],
        header,
    )


def pack_raw(arrays: list[tuple[str, str, list[int], bytes]], header: dict[str, Any]) -> bytes:
    """`pack` of arrays given as (name, numpy's dtype string, shape, their bytes in C order):
    the same file, written without numpy (`rollup.rollup_columns`)."""
    body, layout, pos = [], [], 0
    for name, dtype, shape, raw in arrays:
        layout.append([name, dtype, shape, pos])
        body.append(raw + b"\0" * (-len(raw) % 8))
        pos += len(body[-1])
    head = orjson.dumps({**header, "arrays": layout, "size": pos})
    head += b" " * (-(len(MAGIC) + 8 + len(head)) % 8)
    rest = head + b"".join(body)
    return MAGIC + len(head).to_bytes(4, "little") + zlib.crc32(rest).to_bytes(4, "little") + rest


def unpack(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(header, read-only arrays over `data`); ValueError when `data` is not an intact file
    written by `pack` (wrong magic, truncated, CRC mismatch)."""
    start = len(MAGIC) + 8
    if len(data) < start or not data.startswith(MAGIC):
        raise ValueError("not a columns file")
    hlen = int.from_bytes(data[start - 8 : start - 4], "little")
    if zlib.crc32(memoryview(data)[start:]) != int.from_bytes(data[start - 4 : start], "little"):
        raise ValueError("truncated or damaged (CRC mismatch)")
    try:
        header = orjson.loads(data[start : start + hlen])
        body = memoryview(data)[start + hlen :]
        if len(body) != header["size"]:
            raise ValueError("truncated")
        arrays = {}
        for name, dtype, shape, pos in header["arrays"]:
            dt = np.dtype(dtype)
            if dt.hasobject:
                raise ValueError("object arrays")
            count = int(np.prod(shape, dtype=np.int64))
            arrays[name] = np.frombuffer(body, dtype=dt, count=count, offset=pos).reshape(shape)
    except (KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise ValueError(f"bad header: {exc!r}") from None
    return header, arrays
