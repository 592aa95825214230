"""Prices and credits for one record at a time.

Source of truth: `genai-prices` (bundled data, offline, historical and tiered prices), with
user overrides from `config.toml`. Each record is priced on its own (tiers depend on the
record's own input size), never aggregated totals.

Speed: genai-prices takes ~100 µs per call, too slow for 20k records/s. A model's price is
linear in the token counts within one tier (tiers switch on total input tokens), so for each
(model price, tier) we ask genai-prices itself for the per-token rates, with a handful of probe
calls, and then price records with five multiplications. `tests/test_pricing.py` checks this
against `calc_price` for every model in the table, across tier boundaries.

An unknown model is *unpriced* (cost None), never $0. A cost the feature reports wins and is
marked `reported`.

Start-up: importing genai-prices and building its table takes ~0.2 s (pydantic models), more
than the rest of a CLI command. So it is imported only when a price is needed, and what it
said for each (model, provider, UTC day) — the per-token rates of every tier, or "unpriced" —
is kept in a small cache file (`prices.json` in the user cache folder), keyed by the installed
genai-prices data file: an upgrade of genai-prices starts a new cache. Config overrides are
never cached (they are read from config.toml each time).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from usage_ls import fileio
from usage_ls.config import Config

if TYPE_CHECKING:  # imported where used: genai-prices loads in ~0.2 s
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import ModelPrice

_UTC = dt.UTC


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


class _TieredModel:
    """Rates of one genai-prices ModelPrice, per tier bucket, derived from genai-prices itself."""

    def __init__(self, model_price: ModelPrice) -> None:
        self.model_price = model_price
        from genai_prices.types import TieredPrices

        starts: set[int] = set()
        for value in model_price.__dict__.values():
            if isinstance(value, TieredPrices):
                starts.update(t.start for t in value.tiers)
        self.starts = sorted(starts)
        self._rates: dict[int, Rates] = {}

    def rates_for(self, total_input: int) -> Rates:
        bucket = 0
        for start in self.starts:  # genai-prices: a tier applies when total input > start
            if total_input > start:
                bucket += 1
        rates = self._rates.get(bucket)
        if rates is None:
            rates = self._rates[bucket] = self._probe(1 if bucket == 0 else self.starts[bucket - 1] + 1)
        return rates

    def all_rates(self) -> list[Rates]:
        """The rates of every tier bucket (what the price cache keeps)."""
        return [self.rates_for(1 if b == 0 else self.starts[b - 1] + 1) for b in range(len(self.starts) + 1)]

    def _probe(self, total: int) -> Rates:
        from genai_prices import Usage

        calc = self.model_price.calc_price

        def price(**kw: int) -> Decimal:
            total: Decimal = calc(Usage(**kw))["total_price"]
            return total

        request = price(input_tokens=0, output_tokens=0)
        base = price(input_tokens=total, output_tokens=0)
        r_in = (base - request) / total
        r_out = price(input_tokens=total, output_tokens=1) - base
        # moving one input token into a cache kind keeps the tier (total input unchanged)
        r_cr = price(input_tokens=total, output_tokens=0, cache_read_tokens=1) - base + r_in
        r_cw = price(input_tokens=total, output_tokens=0, cache_write_tokens=1) - base + r_in
        r_cw1h = price(input_tokens=total, output_tokens=0, cache_write_tokens=1, cache_write_1h_tokens=1) - base + r_in
        return Rates(float(request), float(r_in), float(r_out), float(r_cr), float(r_cw), float(r_cw1h))


class _Tiers:
    """`_TieredModel` as the price cache holds it: tier starts and every bucket's rates."""

    __slots__ = ("rates", "starts")

    def __init__(self, starts: list[int], rates: list[Rates]):
        self.starts, self.rates = starts, rates

    def rates_for(self, total_input: int) -> Rates:
        bucket = 0
        for start in self.starts:
            if total_input > start:
                bucket += 1
        return self.rates[bucket]


CACHE_VERSION = 1


def cache_path() -> Path:
    import platformdirs

    return (
        Path(os.environ.get("USAGE_LS_CACHE_DIR") or platformdirs.user_cache_dir("usage-ls", appauthor=False))
        / "prices.json"
    )


def _table_signature() -> str:
    """Which genai-prices data is installed (its data file's size and mtime), without importing it."""
    try:
        spec = importlib.util.find_spec("genai_prices")
        if spec is None or spec.origin is None:
            return ""
        st = os.stat(Path(spec.origin).with_name("data.py"))
        return f"{CACHE_VERSION}:{st.st_size}:{st.st_mtime_ns}"
    except (AttributeError, TypeError, OSError, ImportError, ValueError):
        return ""


class PriceCache:
    """What genai-prices said per (model, provider, UTC day), on disk between runs."""

    def __init__(self, path: Path | None = None):
        self.path = path or cache_path()
        self.sig = _table_signature()
        self.entries: dict[str, object] = {}  # key -> None (unpriced) or [starts, [[6 rates]...]]
        self.new: dict[str, object] = {}
        if not self.sig:
            return
        try:
            doc = orjson.loads(self.path.read_bytes())
            if type(doc) is dict and doc.get("sig") == self.sig and type(doc.get("days")) is dict:
                self.entries = doc["days"]
        except (OSError, orjson.JSONDecodeError):
            pass

    @staticmethod
    def key(model: str, provider: str | None, day: int) -> str:
        return f"{model}\x1f{provider or ''}\x1f{day}"

    def get(self, key: str) -> Any:
        """_MISS, None (unpriced) or `_Tiers`."""
        raw: Any = self.entries.get(key, _MISS)
        if raw is _MISS or raw is None:
            return raw
        try:
            starts, rates = raw
            return _Tiers([int(x) for x in starts], [Rates(*map(float, r)) for r in rates])
        except (TypeError, ValueError):
            return _MISS

    def put(self, key: str, found: _TieredModel | None) -> None:
        raw = (
            None
            if found is None
            else [
                found.starts,
                [
                    [r.request, r.input, r.output, r.cache_read, r.cache_write, r.cache_write_1h]
                    for r in found.all_rates()
                ],
            ]
        )
        self.entries[key] = self.new[key] = raw

    def absorb(self, new: dict[str, Any]) -> None:
        """Entries another process (an import worker) found."""
        self.entries.update(new)
        self.new.update(new)

    def save(self) -> None:
        """Write the new entries (added to what is on disk now); a cache: failures are ignored."""
        if not self.new or not self.sig:
            return
        try:
            merged = dict(PriceCache(self.path).entries) if self.path.exists() else {}
            merged.update(self.entries)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fileio.atomic_write(self.path, orjson.dumps({"sig": self.sig, "days": merged}))
            self.new = {}
        except OSError:
            pass


@dataclass(frozen=True)
class Match:
    """How a model name resolved in the price table."""

    model_id: str
    provider_id: str
    source: str  # "genai-prices" or "config"


_MISS: Any = object()  # not looked up yet (None means unpriced)


class Pricer:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self._snap: DataSnapshot | None = None  # genai-prices' table, loaded on first use (~0.2 s: pydantic models)
        self._providers: set[str] | None = None
        self._cache: PriceCache | None = None
        self._lookup: dict[tuple[str, str | None], tuple[Any, Any] | None] = {}
        self._by_price: dict[int, _TieredModel] = {}
        self._model_price: dict[tuple[int, str], ModelPrice] = {}
        self._by_day: dict[tuple[str, str | None, int], object] = {}
        self._overrides: dict[str, Rates] = {
            name.lower(): Rates(
                0.0,
                p["input"] / 1e6,
                p["output"] / 1e6,
                p.get("cache_read", p["input"]) / 1e6,
                p.get("cache_write", p["input"]) / 1e6,
                p.get("cache_write_1h", p.get("cache_write", p["input"])) / 1e6,
            )
            for name, p in cfg.prices.items()
        }

    def warm(self) -> None:
        """Load the price table now (a server does it when idle, not on its first hover)."""
        self._snapshot  # noqa: B018

    @property
    def _snapshot(self) -> DataSnapshot:
        if self._snap is None:
            from genai_prices import data_snapshot

            self._snap = data_snapshot.get_snapshot()
        return self._snap

    @property
    def _provider_ids(self) -> set[str]:
        if self._providers is None:
            self._providers = {p.id for p in self._snapshot.providers}
        return self._providers

    # -- model resolution ---------------------------------------------------------------

    def split_ref(self, model: str, provider: str | None) -> tuple[str, str | None]:
        """`openai/gpt-4.1-mini` -> (`gpt-4.1-mini`, `openai`) when the prefix is a known provider."""
        if "/" in model:
            prefix, rest = model.split("/", 1)
            if prefix.lower() in self._provider_ids and rest:
                return rest, provider or prefix.lower()
        return model, provider

    def _resolve(self, model: str, provider: str | None) -> tuple[Any, Any] | None:
        key = (model, provider)
        if key in self._lookup:
            return self._lookup[key]
        # the name as given first (some providers' own ids contain a slash), then without a
        # provider prefix (`openai/gpt-4.1-mini`)
        attempts = [(model, provider)] + ([(model, None)] if provider else [])
        ref, prov = self.split_ref(model, provider)
        if ref != model:
            attempts += [(ref, prov), (ref, None)]
        found = None
        for ref, provider_id in attempts:
            try:
                found = self._snapshot.find_provider_model(ref, None, provider_id, None)
                break
            except LookupError:
                continue
        self._lookup[key] = found
        return found

    def match(self, model: str, provider: str | None = None) -> Match | None:
        """The price-table entry a model name resolves to, or None (unpriced)."""
        override = self._override(model)
        if override is not None:
            return Match(model, provider or "", "config")
        found = self._resolve(model, provider)
        if found is None:
            return None
        prov, info = found
        return Match(info.id, prov.id, "genai-prices")

    def _override(self, model: str) -> Rates | None:
        if not self._overrides:
            return None
        name = model.lower()
        return self._overrides.get(name) or self._overrides.get(name.split("/", 1)[-1])

    # -- pricing ------------------------------------------------------------------------

    def rates(self, model: str, provider: str | None, ts_ms: int, total_input: int) -> Rates | None:
        # what a (model, provider, UTC day) prices by, remembered: an override, the model's
        # tiers that day, or None (unpriced)
        key = (model, provider, ts_ms // 86_400_000)
        found: Any = self._by_day.get(key, _MISS)
        if found is _MISS:
            found = self._by_day[key] = self._day_rates(model, provider, ts_ms)
        if found is None or type(found) is Rates:
            return found
        rates: Rates = found.rates_for(total_input)
        return rates

    def _day_rates(self, model: str, provider: str | None, ts_ms: int) -> Any:
        override = self._override(model)
        if override is not None:
            return override
        cache = self.cache
        key = cache.key(model, provider, ts_ms // 86_400_000)
        known = cache.get(key)
        if known is not _MISS:
            return known
        tiered = self._genai_day_rates(model, provider, ts_ms)
        cache.put(key, tiered)
        return tiered

    def save_cache(self) -> None:
        if self._cache is not None:
            self._cache.save()

    @property
    def cache(self) -> PriceCache:
        if self._cache is None:
            self._cache = PriceCache()
        return self._cache

    def _genai_day_rates(self, model: str, provider: str | None, ts_ms: int) -> _TieredModel | None:
        found = self._resolve(model, provider)
        if found is None:
            return None
        _, info = found
        day = str(ts_ms // 86_400_000)
        key = (id(info), day)
        model_price = self._model_price.get(key)
        if model_price is None:
            when = dt.datetime.fromtimestamp(ts_ms / 1000, _UTC)
            model_price = self._model_price[key] = info.get_prices(when)
        tiered = self._by_price.get(id(model_price))
        if tiered is None:
            tiered = self._by_price[id(model_price)] = _TieredModel(model_price)
        return tiered

    def cost(self, rec: dict[str, Any]) -> float | None:
        """List-price cost in USD of one stored record, or None when the model is unknown."""
        cr, cw = rec["cacheReadTokens"], rec["cacheWriteTokens"]
        total_input = rec["inputTokens"] + cr + cw
        rates = self.rates(rec["model"], rec.get("provider"), rec["ts"], total_input)
        if rates is None:
            return None
        return rates.cost(rec["inputTokens"], rec["outputTokens"], cr, cw, rec["cacheWrite1hTokens"])

    def apply(self, rec: dict[str, Any]) -> dict[str, Any]:
        """Fill costUsd, costSource and credits of a validated record (in place)."""
        rec["costUsd"], rec["costSource"], rec["credits"] = self.price(
            rec["model"],
            rec.get("provider"),
            rec["ts"],
            rec["inputTokens"],
            rec["outputTokens"],
            rec["cacheReadTokens"],
            rec["cacheWriteTokens"],
            rec["cacheWrite1hTokens"],
            rec["costUsd"],
            rec["credits"],
            rec["billing"],
        )
        return rec

    def price(
        self,
        model: str,
        provider: str | None,
        ts: int,
        inp: int,
        out: int,
        cr: int,
        cw: int,
        w1h: int,
        cost: float | None,
        credits: float | None,
        billing: str,
    ) -> tuple[float | None, str, float | None]:
        """(costUsd, costSource, credits) of a validated record with these values: `apply`
        without the record (an import's fast path has the values at hand)."""
        if cost is not None:
            source = "reported"
        else:
            # `rates`, its common case written out: an import runs this per record
            found = self._by_day.get((model, provider, ts // 86_400_000), _MISS)
            if found is _MISS or (found is not None and type(found) is not Rates):
                rates = self.rates(model, provider, ts, inp + cr + cw)
            else:
                rates = found
            if rates is None:
                source = "unpriced"
            else:
                cost = round(rates.cost(inp, out, cr, cw, w1h), 10)
                source = "computed"
        if credits is None:
            credits = 0.0 if billing == "byok" else self._credits(model, cost)
        return cost, source, credits

    def credits(self, rec: dict[str, Any]) -> float | None:
        if rec["billing"] == "byok":
            return 0.0  # paid with the user's own key, in dollars: no plan credits
        return self._credits(rec["model"], rec["costUsd"])

    def _credits(self, model: str, cost: float | None) -> float | None:
        """Plan credits of a premium record: per request where the plan counts requests, else
        its cost in credits."""
        per_request = self.cfg.credits_per_request
        if per_request:
            value = per_request.get(model)
            if value is None:
                value = per_request.get(model.split("/", 1)[-1])
            if value is not None:
                return value
        if cost is None:
            return None
        return round(cost / self.cfg.usd_per_credit, 10)
