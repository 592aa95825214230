"""What the price table said, kept between runs: per-token rates per (model, provider, UTC day).

A model whose price changes with the time of day (DeepSeek's off-peak hours in genai-prices)
keeps the day's windows (`Windows`): each window's start and its tiers' rates.

Importing genai-prices and building its table takes ~0.2 s (pydantic models), more than the
rest of a CLI command. So `pricing.Pricer` keeps what the table said for each (model,
provider, UTC day) — the per-token rates of every tier, or "unpriced" — in a small file
(`prices.json` in the user cache folder). The file is stamped with the signature of the price
data in use (`price_data.signature`: the bundled genai-prices table, or a file fetched by
`usage-ls prices update`); a different signature starts a new cache, so new price data is
used at once. Config overrides are never cached (they are read from config.toml each time).
"""

from __future__ import annotations

import os
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

from usage_ls import fileio

CACHE_VERSION = 4  # 2: signed by price_data.signature; 3: a retired model without a price is
# unpriced, not $0; 4: a time-of-day price keeps each window (3 kept the rates of the day's
# first record's time for the whole day)

MISS: Any = object()  # not looked up yet (None means unpriced)


@dataclass(frozen=True)
class Rates:
    """USD per token for each kind, plus a fixed per-request price."""

    request: float
    input: float
    output: float
    cache_read: float
    cache_write: float
    cache_write_1h: float

    def cost(self, inp: int, out: int, cr: int, cw: int, cw1h: int) -> float:
        return (
            self.request
            + self.input * inp
            + self.output * out
            + self.cache_read * cr
            + self.cache_write * (cw - cw1h)
            + self.cache_write_1h * cw1h
        )


class TierSource(Protocol):
    """A model price as the cache stores it: its tier starts and every bucket's rates."""

    starts: list[int]

    def all_rates(self) -> list[Rates]: ...


class Tiers:
    """A `TierSource` read back from the cache."""

    __slots__ = ("rates", "starts")

    def __init__(self, starts: list[int], rates: list[Rates]):
        self.starts, self.rates = starts, rates

    def rates_for(self, total_input: int) -> Rates:
        bucket = 0
        for start in self.starts:  # genai-prices: a tier applies when total input > start
            if total_input > start:
                bucket += 1
        return self.rates[bucket]


class Windows:
    """A day whose price changes with the time of day: the windows' starts (ms after 00:00
    UTC, the first 0) and each window's tiers."""

    __slots__ = ("starts", "tiers")

    def __init__(self, starts: list[int], tiers: list[Any]):
        self.starts, self.tiers = starts, tiers

    def at(self, ts_ms: int) -> Any:
        """The tiers (`rates_for`) at this instant."""
        return self.tiers[bisect_right(self.starts, ts_ms % 86_400_000) - 1]


def _raw(found: TierSource) -> list[Any]:
    return [
        found.starts,
        [[r.request, r.input, r.output, r.cache_read, r.cache_write, r.cache_write_1h] for r in found.all_rates()],
    ]


def _tiers(raw: Any) -> Tiers:
    starts, rates = raw
    return Tiers([int(x) for x in starts], [Rates(*map(float, r)) for r in rates])


def cache_path() -> Path:
    import platformdirs

    return (
        Path(os.environ.get("USAGE_LS_CACHE_DIR") or platformdirs.user_cache_dir("usage-ls", appauthor=False))
        / "prices.json"
    )


class PriceCache:
    """What the price table said per (model, provider, UTC day), on disk between runs, for the
    price data whose signature is `sig` ("" = unknown data: nothing read or written)."""

    def __init__(self, sig: str, path: Path | None = None):
        self.path = path or cache_path()
        self.sig = f"{CACHE_VERSION}:{sig}" if sig else ""
        # key -> None (unpriced), [starts, [[6 rates]...]], or ["w", [[window start, [starts,
        # [[6 rates]...]]]...]] for a price that changes with the time of day
        self.entries: dict[str, object] = {}
        self.new: dict[str, object] = {}
        if self.sig:
            self.entries = _read(self.path, self.sig)

    @staticmethod
    def key(model: str, provider: str | None, day: int) -> str:
        return f"{model}\x1f{provider or ''}\x1f{day}"

    def get(self, key: str) -> Any:
        """MISS, None (unpriced), `Tiers` or `Windows`."""
        raw: Any = self.entries.get(key, MISS)
        if raw is MISS or raw is None:
            return raw
        try:
            if raw[0] == "w":
                return Windows([int(start) for start, _ in raw[1]], [_tiers(t) for _, t in raw[1]])
            return _tiers(raw)
        except (TypeError, ValueError, IndexError):
            return MISS

    def put(self, key: str, found: TierSource | Windows | None) -> None:
        raw: Any
        if found is None:
            raw = None
        elif isinstance(found, Windows):
            raw = ["w", [[start, _raw(t)] for start, t in zip(found.starts, found.tiers, strict=True)]]
        else:
            raw = _raw(found)
        self.entries[key] = self.new[key] = raw

    def absorb(self, new: dict[str, Any]) -> None:
        """Entries another process (an import worker) found."""
        self.entries.update(new)
        self.new.update(new)

    def save(self) -> None:
        """Write the new entries (added to what is on disk now, when it is for the same price
        data); a cache: failures are ignored."""
        if not self.new or not self.sig:
            return
        try:
            merged = _read(self.path, self.sig)
            merged.update(self.entries)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fileio.atomic_write(self.path, orjson.dumps({"sig": self.sig, "days": merged}))
            self.new = {}
        except OSError:
            pass


def _read(path: Path, sig: str) -> dict[str, object]:
    """The entries of the cache file at `path` when it was made from the price data `sig`."""
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if type(doc) is dict and doc.get("sig") == sig and type(doc.get("days")) is dict:
        days: dict[str, object] = doc["days"]
        return days
    return {}
