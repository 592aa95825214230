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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from genai_prices import Usage, data_snapshot
from genai_prices.types import TieredPrices

from usage_ls.config import Config

_UTC = dt.timezone.utc


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

    def __init__(self, model_price):
        self.model_price = model_price
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

    def _probe(self, total: int) -> Rates:
        calc = self.model_price.calc_price

        def price(**kw) -> Decimal:
            return calc(Usage(**kw))["total_price"]

        request = price(input_tokens=0, output_tokens=0)
        base = price(input_tokens=total, output_tokens=0)
        r_in = (base - request) / total
        r_out = price(input_tokens=total, output_tokens=1) - base
        # moving one input token into a cache kind keeps the tier (total input unchanged)
        r_cr = price(input_tokens=total, output_tokens=0, cache_read_tokens=1) - base + r_in
        r_cw = price(input_tokens=total, output_tokens=0, cache_write_tokens=1) - base + r_in
        r_cw1h = (
            price(input_tokens=total, output_tokens=0, cache_write_tokens=1, cache_write_1h_tokens=1) - base + r_in
        )
        return Rates(float(request), float(r_in), float(r_out), float(r_cr), float(r_cw), float(r_cw1h))


@dataclass(frozen=True)
class Match:
    """How a model name resolved in the price table."""

    model_id: str
    provider_id: str
    source: str  # "genai-prices" or "config"


_MISS = object()


class Pricer:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self._snapshot = data_snapshot.get_snapshot()
        self._lookup: dict[tuple[str, str | None], tuple | None] = {}
        self._by_price: dict[int, _TieredModel] = {}
        self._model_price: dict[tuple[int, str], object] = {}
        self._by_day: dict[tuple, object] = {}
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
        self._provider_ids = {p.id for p in self._snapshot.providers}

    # -- model resolution ---------------------------------------------------------------

    def split_ref(self, model: str, provider: str | None) -> tuple[str, str | None]:
        """`openai/gpt-4.1-mini` -> (`gpt-4.1-mini`, `openai`) when the prefix is a known provider."""
        if "/" in model:
            prefix, rest = model.split("/", 1)
            if prefix.lower() in self._provider_ids and rest:
                return rest, provider or prefix.lower()
        return model, provider

    def _resolve(self, model: str, provider: str | None):
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
        found = self._by_day.get(key, _MISS)
        if found is _MISS:
            found = self._by_day[key] = self._day_rates(model, provider, ts_ms)
        if found is None or type(found) is Rates:
            return found
        return found.rates_for(total_input)

    def _day_rates(self, model: str, provider: str | None, ts_ms: int):
        override = self._override(model)
        if override is not None:
            return override
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

    def cost(self, rec: dict) -> float | None:
        """List-price cost in USD of one stored record, or None when the model is unknown."""
        cr, cw = rec["cacheReadTokens"], rec["cacheWriteTokens"]
        total_input = rec["inputTokens"] + cr + cw
        rates = self.rates(rec["model"], rec.get("provider"), rec["ts"], total_input)
        if rates is None:
            return None
        return rates.cost(rec["inputTokens"], rec["outputTokens"], cr, cw, rec["cacheWrite1hTokens"])

    def apply(self, rec: dict) -> dict:
        """Fill costUsd, costSource and credits of a validated record (in place)."""
        if rec["costUsd"] is not None:
            rec["costSource"] = "reported"
        else:
            cost = self.cost(rec)
            if cost is None:
                rec["costSource"] = "unpriced"
            else:
                rec["costUsd"] = round(cost, 10)
                rec["costSource"] = "computed"
        if rec["credits"] is None:
            rec["credits"] = self.credits(rec)
        return rec

    def credits(self, rec: dict) -> float | None:
        if rec["billing"] == "byok":
            return 0.0  # paid with the user's own key, in dollars: no plan credits
        per_request = self.cfg.credits_per_request
        if per_request:
            model = rec["model"]
            value = per_request.get(model)
            if value is None:
                value = per_request.get(model.split("/", 1)[-1])
            if value is not None:
                return value
        if rec["costUsd"] is None:
            return None
        return round(rec["costUsd"] / self.cfg.usd_per_credit, 10)
