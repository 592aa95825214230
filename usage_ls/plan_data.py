"""The subscription plans `[plans]` in config.toml can name: prices and allowances as published.

One table, one place to update when a vendor changes its prices. Checked 2026-12-06.

Sources:
- GitHub Copilot (AI Credits from June 1, 2026): github/docs
  `content/copilot/concepts/billing-and-usage/individuals/billing.md` and
  `data/variables/copilot.yml`; docs.github.com billing reports. 1 AI Credit = $0.01; base
  credits are used first, then the flex allotment; individual allowances reset at 00:00 UTC on
  the 1st of each calendar month and do not carry over. Business and Enterprise credits are
  pooled per organisation (1,900 and 3,900 per user; the promotional 3,000 and 7,000 ran
  June 1 - September 1, 2026 and are over). Free: the allowance exists but no number is
  published (ASSUMED unknown: set `credits` yourself).
- Claude (anthropic.com/pricing): Pro $20 a month billed monthly ($17 billed yearly), Max 5x
  $100, Max 20x $200. Anthropic publishes no token figure for the 5-hour window: the
  estimated block has a limit only when you set `block_tokens` (docs/limits.md).
- ChatGPT (openai.com/chatgpt/pricing): Plus $20, Pro $200 a month; Codex usage is included
  in the plan's windows, which Codex reports itself (docs/limits.md).

The Claude and ChatGPT prices are the vendors' list prices for monthly billing, taken from
their pricing pages as the project knows them (no first-party page was fetched for this
table: ASSUMED current); set `monthly_price_usd` when you pay something else.
"""

from __future__ import annotations

from typing import NamedTuple

CHECKED = "2026-12-06"


class PlanSpec(NamedTuple):
    label: str
    monthly_price_usd: float | None
    base_credits: float | None = None  # AI Credits a month, used first (None: not a credit plan)
    flex_credits: float = 0.0  # used after the base
    utc_month: bool = False  # the period is the calendar month in UTC (Copilot), else local


CLAUDE = {
    "pro": PlanSpec("Claude Pro", 20.0),
    "max5": PlanSpec("Claude Max 5×", 100.0),
    "max20": PlanSpec("Claude Max 20×", 200.0),
}
CHATGPT = {
    "plus": PlanSpec("ChatGPT Plus", 20.0),
    "pro": PlanSpec("ChatGPT Pro", 200.0),
}
COPILOT = {
    "free": PlanSpec("Copilot Free", 0.0, None, 0.0, True),
    "pro": PlanSpec("Copilot Pro", 10.0, 1000.0, 500.0, True),
    "pro+": PlanSpec("Copilot Pro+", 39.0, 3900.0, 3100.0, True),
    "max": PlanSpec("Copilot Max", 100.0, 10000.0, 10000.0, True),
    "business": PlanSpec("Copilot Business", 19.0, 1900.0, 0.0, True),
    "enterprise": PlanSpec("Copilot Enterprise", 39.0, 3900.0, 0.0, True),
}

# which plans each tool can be on (a tool not listed takes a custom plan only)
BY_TOOL: dict[str, dict[str, PlanSpec]] = {"claude-code": CLAUDE, "codex": CHATGPT, "copilot": COPILOT}

CUSTOM = "custom"  # any tool: `monthly_price_usd` and optionally `credits` from the config


class Plan(NamedTuple):
    """One tool's plan as config.toml sets it (`[plans]`): the table's figures, or the user's."""

    tool: str
    plan: str  # the config's id: "max5", "pro+", "custom"
    label: str
    monthly_price_usd: float | None
    base_credits: float | None  # None: no credit allowance
    flex_credits: float = 0.0
    utc_month: bool = False
    block_tokens: int | None = None  # a 5-hour block's token limit (estimated windows)


PLAN_KEYS = ("plan", "label", "monthly_price_usd", "credits", "flex_credits", "block_tokens")


def known_plans(tool: str) -> list[str]:
    return [*sorted(BY_TOOL.get(tool, {})), CUSTOM]
