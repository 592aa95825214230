"""Prices of our own, dated, for models genai-prices lacks; and the models the tools usage-ls
reads commonly write, with where each one's price comes from.

`ENTRIES` prices a model that has a public list price which genai-prices does not have under
the provider the tool uses. Each entry names the vendor's price page and the day the price was
read there. An entry is added only from the vendor's own page: another provider's price for
the same model (a reseller's, OpenRouter's) is not the vendor's list price, and a price that
cannot be checked is not entered: the model stays unpriced and is in `UNPRICED` with why.

Precedence (pricing.Pricer): a cost the tool recorded, then `[prices]` in config.toml, then
genai-prices, then these entries, then unpriced. genai-prices comes first so that newer price
data (a genai-prices upgrade or `usage-ls prices update`) takes over from an entry here.

`COMMON` lists, per tool, the model names it commonly writes (its defaults and the popular
choices, as its importer stores them: the name and the provider) and where the price comes
from today. `tests/test_common_models.py` checks every one against the installed price data,
so a price-data upgrade that prices one, or a change that unprices one, is noticed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from usage_ls.price_cache import Rates, Tiers

__all__ = ["COMMON", "ENTRIES", "UNPRICED", "Common", "PriceEntry", "Tier", "find", "unpriced_reason"]


@dataclass(frozen=True)
class Tier:
    """The prices of a request whose total input is above `above` tokens (USD per million)."""

    above: int
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None


@dataclass(frozen=True)
class PriceEntry:
    """A vendor's list price for one model, USD per million tokens, from its price page."""

    model: str  # the name as tools write it (matched without case)
    providers: tuple[str, ...]  # the provider ids tools record with it; () = any or none
    input: float
    output: float
    url: str  # the vendor's price page
    checked: str  # YYYY-MM-DD: the day the price was read on that page
    cache_read: float | None = None  # None: not published (billed as input)
    cache_write: float | None = None
    since: str = "1970-01-01"  # the first day (UTC) the price applies
    tiers: tuple[Tier, ...] = ()  # higher prices for requests with more input, when published

    def applies(self, model: str, provider: str | None, day: str) -> bool:
        name = model.lower()
        names = {name, name.split("/", 1)[-1]}
        if self.model.lower() not in names or day < self.since:
            return False
        return not self.providers or provider is None or provider.lower() in self.providers

    def priced(self) -> Rates | Tiers:
        """What pricing.Pricer prices a record with: flat rates, or rates per input tier."""
        base = _rates(self.input, self.output, self.cache_read, self.cache_write)
        if not self.tiers:
            return base
        rates = [base] + [_rates(t.input, t.output, t.cache_read, t.cache_write) for t in self.tiers]
        return Tiers([t.above for t in self.tiers], rates)

    def describe(self) -> str:
        return f"usage-ls's price list: {self.url}, checked {self.checked}"


def _rates(inp: float, out: float, cache_read: float | None, cache_write: float | None) -> Rates:
    read = inp if cache_read is None else cache_read
    write = inp if cache_write is None else cache_write
    return Rates(0.0, inp / 1e6, out / 1e6, read / 1e6, write / 1e6, write / 1e6)


# No entry yet: for every model below that genai-prices 0.2.5 leaves unpriced, the vendor's
# own price page could not be read and checked here (see UNPRICED). An entry looks like:
#   PriceEntry("model-name", ("provider",), input=1.0, output=5.0, cache_read=0.2,
#              url="https://vendor.example/pricing", checked="2026-12-06")
ENTRIES: tuple[PriceEntry, ...] = ()


def find(model: str, provider: str | None, ts_ms: int) -> PriceEntry | None:
    """Our entry that prices this model (as recorded, with its provider) on the record's day."""
    if not ENTRIES:
        return None
    day = dt.datetime.fromtimestamp(ts_ms / 1000, dt.UTC).date().isoformat()
    for entry in ENTRIES:
        if entry.applies(model, provider, day):
            return entry
    return None


# Why a model these tools commonly write has no price. Keyed by the name as written (lower case).
UNPRICED: dict[str, str] = {
    "qwen3-coder-plus": "Alibaba Model Studio's price; genai-prices has only OpenRouter's resale",
    "qwen3-coder-flash": "Alibaba Model Studio's price; not in genai-prices",
    "qwen3-max": "Alibaba Model Studio's price; not in genai-prices",
    "qwen3.5-plus": "Alibaba Model Studio's price; not in genai-prices",
    "coder-model": "Qwen Code's free Qwen OAuth tier: no list price",
    "qwen3-coder": "a local (Ollama) or free opencode Zen model: no list price",
    "big-pickle": "opencode Zen's free model: no list price",
    "grok-code": "opencode Zen's free model: no list price",
    "composer-1": "Cursor's own model, not in genai-prices (Cursor's CSV has the cost)",
    "auto": "Cursor's automatic choice: no single price (Cursor's CSV has the cost)",
    "hermes-4-405b": "Nous Portal's model, not in genai-prices (Hermes records its cost)",
    "qwen-3-coder-480b": "genai-prices lists it as retired without a price: unknown, not $0",
    "codebuff-unknown": "Codebuff did not record the model",
}


def unpriced_reason(model: str) -> str | None:
    name = model.lower()
    return UNPRICED.get(name) or UNPRICED.get(name.split("/", 1)[-1])


@dataclass(frozen=True)
class Common:
    """A model a tool commonly writes, as its importer stores it, and where its price comes from."""

    tool: str
    model: str
    provider: str | None
    source: str  # "genai-prices", "usage-ls" (ENTRIES) or "unpriced" (UNPRICED says why)
    priced_as: str = ""  # genai-prices: "provider/model id" it resolves to
    reports_cost: bool = False  # the tool records its own cost, which wins when above 0


def _c(tool: str, model: str, provider: str | None, priced_as: str = "", reports: bool = False) -> Common:
    return Common(tool, model, provider, "genai-prices" if priced_as else "unpriced", priced_as, reports)


COMMON: tuple[Common, ...] = (
    # Qwen Code: OPENAI_MODEL / settings `model.name`; the Qwen OAuth tier writes `coder-model`
    _c("qwen", "qwen3-coder-plus", None),
    _c("qwen", "qwen3-coder-flash", None),
    _c("qwen", "qwen3-max", None),
    _c("qwen", "coder-model", None),
    # Kimi CLI: the plan alias is stored as the model behind it (importers/kimi.py)
    _c("kimi", "kimi-k2.5", "moonshotai", "moonshotai/kimi-k2.5"),
    _c("kimi", "kimi-k2.6", "moonshotai", "moonshotai/kimi-k2.6"),
    _c("kimi", "kimi-k2-turbo-preview", "moonshotai", "moonshotai/kimi-k2-turbo-preview"),
    _c("kimi", "kimi-k2-thinking", "moonshotai", "moonshotai/kimi-k2-thinking"),
    _c("kimi", "kimi-k3", "moonshotai", "moonshotai/kimi-k3"),
    # opencode: modelID + providerID; cost recorded when above 0
    _c("opencode", "claude-sonnet-4-5", "anthropic", "anthropic/claude-sonnet-4-5", True),
    _c("opencode", "grok-code-fast-1", "xai", "x-ai/grok-code-fast-1", True),
    _c("opencode", "glm-4.6", "zai-coding-plan", "zai/GLM-4.6", True),
    _c("opencode", "kimi-k2", "moonshotai", "moonshotai/kimi-k2", True),
    _c("opencode", "deepseek-chat", "deepseek", "deepseek/deepseek-chat", True),
    _c("opencode", "deepseek-reasoner", "deepseek", "deepseek/deepseek-reasoner", True),
    _c("opencode", "big-pickle", "opencode", "", True),
    _c("opencode", "grok-code", "opencode", "", True),
    _c("opencode", "qwen3-coder", "opencode", "", True),
    # pi: message.model + message.provider; cost.total recorded (0 re-priced)
    _c("pi", "claude-sonnet-4-5", "anthropic", "anthropic/claude-sonnet-4-5", True),
    _c("pi", "gpt-5.1-codex", "openai", "openai/gpt-5.1", True),
    _c("pi", "gemini-2.5-pro", "google", "google/gemini-2.5-pro", True),
    _c("pi", "grok-code-fast-1", "xai", "x-ai/grok-code-fast-1", True),
    _c("pi", "glm-4.6", "zai", "zai/GLM-4.6", True),
    _c("pi", "qwen-3-coder-480b", "cerebras", "", True),
    # Factory Droid: model without `custom:` and `[Provider]`, lower case; providerLock
    _c("droid", "claude-sonnet-4-5", "anthropic", "anthropic/claude-sonnet-4-5"),
    _c("droid", "claude-opus-4-5-thinking", "anthropic", "anthropic/claude-opus-4-5"),
    _c("droid", "gpt-5-codex", "openai", "openai/gpt-5"),
    _c("droid", "glm-4.6", "fireworks", "zai/GLM-4.6"),
    # Goose: model_config_json.model_name + provider_name
    _c("goose", "gpt-4o", "openai", "openai/gpt-4o", True),
    _c("goose", "claude-sonnet-4-5", "anthropic", "anthropic/claude-sonnet-4-5", True),
    _c("goose", "qwen3-coder", "ollama", "", True),
    # Hermes Agent: sessions.model + billing_provider; actual/estimated cost recorded
    _c("hermes", "claude-sonnet-4-20250514", "anthropic", "anthropic/claude-sonnet-4-0", True),
    _c("hermes", "anthropic/claude-opus-4.6", "openrouter", "openrouter/anthropic/claude-opus-4.6", True),
    _c("hermes", "hermes-4-405b", "nous", "", True),
    # OpenClaw: pi's format; cost.total recorded
    _c("openclaw", "gpt-5.2", "openai-codex", "openai/gpt-5.2", True),
    _c("openclaw", "claude-opus-4-5", "anthropic", "anthropic/claude-opus-4-5", True),
    _c("openclaw", "qwen3.5-plus", "modelstudio", "", True),
    # Amp: usage.model, no provider; credits are not dollars
    _c("amp", "claude-sonnet-4-5", None, "anthropic/claude-sonnet-4-5"),
    _c("amp", "claude-opus-4-5", None, "anthropic/claude-opus-4-5"),
    _c("amp", "gpt-5", None, "openai/gpt-5"),
    # Codebuff: OpenRouter-style ids, no provider
    _c("codebuff", "anthropic/claude-sonnet-4.5", None, "anthropic/claude-sonnet-4-5"),
    _c("codebuff", "x-ai/grok-4-fast", None, "x-ai/grok-4-fast-reasoning"),
    _c("codebuff", "google/gemini-2.5-flash", None, "google/gemini-2.5-flash"),
    _c("codebuff", "openai/gpt-5", None, "openai/gpt-5"),
    _c("codebuff", "codebuff-unknown", None),
    # Kilo Code (OpenRouter-style ids through the Kilo gateway)
    _c("kilo", "anthropic/claude-sonnet-4.5", "kilocode", "anthropic/claude-sonnet-4-5"),
    _c("kilo", "x-ai/grok-code-fast-1", "kilocode", "x-ai/grok-code-fast-1"),
    _c("kilo", "z-ai/glm-4.6", "kilocode", "openrouter/z-ai/glm-4.6"),
    _c("kilo", "minimax/minimax-m2", "kilocode", "minimax/MiniMax-M2"),
    # Cline: modelId + providerId; cost recorded
    _c("cline", "claude-sonnet-4-5", "anthropic", "anthropic/claude-sonnet-4-5", True),
    _c("cline", "x-ai/grok-code-fast-1", "cline", "x-ai/grok-code-fast-1", True),
    _c("cline", "qwen3-coder-plus", "qwen", "", True),
    _c("cline", "deepseek-chat", "deepseek", "deepseek/deepseek-chat", True),
    # GitHub Copilot CLI: copilot_usage_model / model (dotted Claude names), no provider
    _c("copilot-cli", "claude-sonnet-4.5", None, "anthropic/claude-sonnet-4-5"),
    _c("copilot-cli", "claude-haiku-4.5", None, "anthropic/claude-haiku-4-5"),
    _c("copilot-cli", "gpt-5", None, "openai/gpt-5"),
    _c("copilot-cli", "gpt-5-mini", None, "openai/gpt-5-mini"),
    # Cursor's usage CSV: `Model`; `Cost` when Cursor charged. Cursor writes Claude names version
    # first (claude-4.5-sonnet); the importer stores Anthropic's order (importers/cursor.py)
    _c("cursor", "auto", None, "", True),
    _c("cursor", "claude-sonnet-4-5", None, "anthropic/claude-sonnet-4-5", True),
    _c("cursor", "claude-sonnet-4", None, "anthropic/claude-sonnet-4-0", True),
    _c("cursor", "composer-1", None, "", True),
    _c("cursor", "gpt-5", None, "openai/gpt-5", True),
    _c("cursor", "grok-code-fast-1", None, "x-ai/grok-code-fast-1", True),
)
