"""Prices and credits for one record at a time.

Source of truth: `genai-prices` (its bundled table, or newer data the user fetched with
`usage-ls prices update`: price_data.py; offline, historical and tiered prices), with user
overrides from `config.toml`, and our own dated entries for models it lacks (price_extra.py,
after genai-prices: newer price data takes over from them). Each record is priced on its own
(tiers depend on the record's own input size), never aggregated totals.

Speed: genai-prices takes ~100 µs per call, too slow for 20k records/s. A model's price is
linear in the token counts within one tier (tiers switch on total input tokens), so for each
(model price, tier) we ask genai-prices itself for the per-token rates, with a handful of probe
calls, and then price records with five multiplications. `tests/test_pricing.py` checks this
against `calc_price` for every model in the table, across tier boundaries.

An unknown model is *unpriced* (cost None), never $0. A cost the feature reports wins and is
marked `reported`.

Start-up: importing genai-prices and building its table takes ~0.2 s (pydantic models), more
than the rest of a CLI command. So it is imported only when a price is needed, and what it
said per (model, provider, UTC day) is kept in a small cache file (price_cache.py), stamped
with the signature of the price data in use: new price data starts a new cache. Config
overrides are never cached (they are read from config.toml each time).

Time of day: a price can change within a day (DeepSeek's off-peak hours, a
`TimeOfDateConstraint` in genai-prices). Such a model's day is kept as windows (`Windows`:
each window's start and its tiers), and a record is priced by the window of its own time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from usage_ls import price_data, price_extra
from usage_ls.config import Config
from usage_ls.price_cache import MISS, PriceCache, Rates, Windows

if TYPE_CHECKING:  # imported where used: genai-prices loads in ~0.2 s
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import ModelInfo, ModelPrice, Provider

__all__ = ["Match", "Pricer", "Rates"]

_UTC = dt.UTC


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


def _window_starts(info: ModelInfo) -> list[int]:
    """Where a model's price may change within a UTC day, in ms after 00:00 UTC (0 first):
    the starts and ends of its time-of-day conditions. [0] for a price that holds all day."""
    from genai_prices.types import ModelPrice, TimeOfDateConstraint

    starts = {0}
    if not isinstance(info.prices, ModelPrice):
        for conditional in info.prices:
            c = conditional.constraint
            if isinstance(c, TimeOfDateConstraint):
                for t in (c.start_time, c.end_time):
                    if t.tzinfo is not None:  # genai-prices compares in UTC
                        t = dt.datetime.combine(dt.date(1970, 1, 1), t).astimezone(_UTC).timetz()
                    starts.add(((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000)
    return sorted(starts)


@dataclass(frozen=True)
class Match:
    """How a model name resolved in the price table."""

    model_id: str
    provider_id: str
    source: str  # "genai-prices", "config" or "usage-ls" (our dated entries: price_extra.py)
    detail: str = ""  # usage-ls: the entry's price page and the day it was checked


def _priceless(info: ModelInfo) -> bool:
    """A model genai-prices lists as deprecated with no price at all (cerebras'
    qwen-3-coder-480b in 0.2.5): its price is unknown; computing it would say $0."""
    if not getattr(info, "deprecated", False):
        return False
    from genai_prices.types import ModelPrice

    sets = [info.prices] if isinstance(info.prices, ModelPrice) else [c.prices for c in info.prices]
    return all(value is None for prices in sets for value in vars(prices).values())


class Pricer:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self._forget()
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

    def _forget(self) -> None:
        """No price data loaded, nothing derived from it."""
        self._sig: str | None = None  # price_data.signature of the data in use, once any is used
        self._snap: DataSnapshot | None = None  # genai-prices' table, loaded on first use (~0.2 s: pydantic models)
        self._providers: set[str] | None = None
        self._cache: PriceCache | None = None
        self._lookup: dict[tuple[str, str | None], tuple[Any, Any] | None] = {}
        self._by_price: dict[int, _TieredModel] = {}
        self._model_price: dict[tuple[int, int], ModelPrice] = {}
        self._by_day: dict[tuple[str, str | None, int], object] = {}

    def warm(self) -> None:
        """Load the price table now (a server does it when idle, not on its first hover)."""
        self._snapshot  # noqa: B018

    def follow_data(self) -> bool:
        """Start over if the price data changed since it was first used (`usage-ls prices
        update` in another process): new records are then priced with the new data. A few
        `stat` calls; a running server calls this every second. True when it started over."""
        if self._sig is None or price_data.signature(self.cfg.data_dir) == self._sig:
            return False
        self.save_cache()
        self._forget()
        return True

    @property
    def signature(self) -> str:
        if self._sig is None:
            self._sig = price_data.signature(self.cfg.data_dir)
        return self._sig

    @property
    def _snapshot(self) -> DataSnapshot:
        if self._snap is None:
            self.signature  # noqa: B018  (the data as of now: what the cache is stamped with)
            self._snap, _info = price_data.load(self.cfg.data_dir)
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
        bare, prov = self.split_ref(model, provider)
        if bare != model:
            attempts += [(bare, prov), (bare, None)]
        found = None
        for ref, provider_id in attempts:
            try:
                found = self._snapshot.find_provider_model(ref, None, provider_id, None)
                break
            except LookupError:
                continue
        if found is None:
            found = self._only_match(model) or (self._only_match(bare) if bare != model else None)
        if found is not None and _priceless(found[1]):
            found = None  # listed as retired without any price: unknown, not free
        self._lookup[key] = found
        return found

    def _only_match(self, ref: str) -> tuple[Provider, ModelInfo] | None:
        """The one model, of any provider, whose own match rule takes this name; None when none
        or several do. genai-prices first picks a provider by the name (`glm-` -> zhipuai) and
        looks only there: `glm-4.6` is Z.AI's (provider `zai`), so it would stay unpriced."""
        ref = ref.lower()
        hits = [(p, m) for p in self._snapshot.providers for m in p.models if m.is_match(ref)]
        return hits[0] if len(hits) == 1 else None

    def match(self, model: str, provider: str | None = None) -> Match | None:
        """The price-table entry a model name resolves to, or None (unpriced)."""
        override = self._override(model)
        if override is not None:
            return Match(model, provider or "", "config")
        found = self._resolve(model, provider)
        if found is None:
            entry = price_extra.find(model, provider, int(dt.datetime.now(_UTC).timestamp() * 1000))
            return Match(entry.model, provider or "", "usage-ls", entry.describe()) if entry else None
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
        found: Any = self._by_day.get(key, MISS)
        if found is MISS:
            found = self._by_day[key] = self._day_rates(model, provider, ts_ms)
        if found is None or type(found) is Rates:
            return found
        if type(found) is Windows:
            found = found.at(ts_ms)
        rates: Rates = found.rates_for(total_input)
        return rates

    def _day_rates(self, model: str, provider: str | None, ts_ms: int) -> Any:
        override = self._override(model)
        if override is not None:
            return override
        cache = self.cache
        key = cache.key(model, provider, ts_ms // 86_400_000)
        tiered = cache.get(key)
        if tiered is MISS:
            tiered = self._genai_day_rates(model, provider, ts_ms)
            try:
                cache.put(key, tiered)  # asks genai-prices for every tier's rates
            except (ArithmeticError, LookupError, TypeError, ValueError):
                # a price genai-prices cannot compute for tokens (fetched data is checked for
                # form, not for this): unpriced rather than a failed record
                tiered = None
                cache.put(key, None)
        if tiered is None:  # not in genai-prices: our dated entries (never cached: they are code)
            entry = price_extra.find(model, provider, ts_ms)
            return entry.priced() if entry else None
        return tiered

    def save_cache(self) -> None:
        if self._cache is not None:
            self._cache.save()

    @property
    def cache(self) -> PriceCache:
        if self._cache is None:
            self._cache = PriceCache(self.signature)
        return self._cache

    def _genai_day_rates(self, model: str, provider: str | None, ts_ms: int) -> _TieredModel | Windows | None:
        found = self._resolve(model, provider)
        if found is None:
            return None
        _, info = found
        day_ms = ts_ms - ts_ms % 86_400_000
        starts = _window_starts(info)
        tiers = [self._tiered(info, day_ms + start) for start in starts]
        # windows whose price is the same object (genai-prices' price for the same condition)
        # are one window
        kept = [i for i in range(len(starts)) if i == 0 or tiers[i] is not tiers[i - 1]]
        if len(kept) == 1:
            return tiers[0]
        return Windows([starts[i] for i in kept], [tiers[i] for i in kept])

    def _tiered(self, info: ModelInfo, at_ms: int) -> _TieredModel:
        key = (id(info), at_ms)
        model_price = self._model_price.get(key)
        if model_price is None:
            when = dt.datetime.fromtimestamp(at_ms / 1000, _UTC)
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
            found = self._by_day.get((model, provider, ts // 86_400_000), MISS)
            if found is MISS or (found is not None and type(found) is not Rates):
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
