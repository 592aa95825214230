"""Insights: what is left of the budgets, how fast credits burn, where the day and month are
heading, unusual spikes, and advice with a price on it.

Pure functions over plain numbers, the ledger's record columns (`RecordColumns`) and the
price table (`Pricer`); no LSP, no files. `service.Usage.insights` feeds them and caches the
result per ledger version; the status bar, the CLI and the dashboard show what they return.

What each computation is, and why:

- **Budget left** = limit − used, for the period the budget counts (today, this month); its
  *projection* is used + today's pace × the hours left in that period.
- **Burn rate**: spend of the records whose timestamp falls in the last 60 minutes, per hour.
  A rate over a fixed recent window answers "is something burning now?" better than a
  daily average.
- **Projection** at *today's pace*: today's spend ÷ hours elapsed today (at least one hour,
  so the first minutes of a day don't extrapolate a single request into a fortune), times
  the hours left today (end of day) or this month (end of month), plus what is spent already.
- **Spikes**: days and hours far above the user's own comparable periods (active days, busy
  hours) of the previous 28 days, allowing for the heavy tail of what single answers cost:
  the rule is in `usage_ls/spikes.py`, its method and measured false-alarm rate in
  docs/insights.md. Each spike names the model and project that contributed most.
- **Tips** (each with an estimated saving and the arithmetic behind it; none without data):
  - *cheaper model of the same family for short answers*: the period's records of a costly
    model with at most 400 output tokens, re-priced record by record at the cheaper model's
    genai-prices rates (same tokens, same date and tier); saving = what they cost − that.
  - *prompt caching*: a project whose long prompts (≥ 4,000 uncached input tokens) are
    rarely cache reads (< 30% of their input); saving = half of those uncached input tokens
    priced at the model's input rate minus its cache-read rate (an assumption, said so).
  - *spike concentration*: a spike day where one project or session caused at least half
    of the spend; saving = the spend above a typical day (the baseline median).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from usage_ls import days, spikes
from usage_ls.spikes import BASELINE_DAYS
from usage_ls.store.columns import TEXT_COLUMNS, RecordColumns

HOUR_MS = 3_600_000

SHORT_OUTPUT_TOKENS = 400
LONG_PROMPT_TOKENS = 4_000
LOW_CACHE_SHARE = 0.30
CACHEABLE_SHARE = 0.5  # assumed share of uncached input a cache could have served
MIN_TIP_USD = 0.10
MIN_TIP_RECORDS = 3

# a costly model (genai-prices id) -> a cheaper one of the same family and vendor
SWAPS = {
    "claude-opus-4-0": "claude-sonnet-4-5",
    "claude-opus-4-1": "claude-sonnet-4-5",
    "claude-opus-4-5": "claude-sonnet-4-5",
    "claude-sonnet-4-0": "claude-haiku-4-5",
    "claude-sonnet-4-5": "claude-haiku-4-5",
    "claude-3-7-sonnet-latest": "claude-3-5-haiku-latest",
    "claude-3-5-sonnet": "claude-3-5-haiku-latest",
    "gpt-4.1": "gpt-4.1-mini",
    "gpt-4o": "gpt-4o-mini",
    "gpt-5": "gpt-5-mini",
    "o3": "o4-mini",
    "gemini-2.5-pro": "gemini-2.5-flash",
}


# -- hours and shares --------------------------------------------------------------------


def hour_sums(ts: np.ndarray, weights: np.ndarray, day_start_ms: int, keep=None) -> np.ndarray:
    """`weights` summed per hour since `day_start_ms` (25 bins: a DST day can have 25 hours)."""
    idx = (ts - day_start_ms) // HOUR_MS
    inside = (idx >= 0) & (idx < 25)
    if keep is not None:
        inside &= keep
    return np.bincount(idx[inside].astype(np.int64), weights=weights[inside], minlength=25)[:25]


def hour_bins(cols: RecordColumns, values: np.ndarray, day_start_ms: int, mask=None) -> np.ndarray:
    """Spend per hour since `day_start_ms` (25 bins: a DST day can have 25 hours)."""
    return hour_sums(cols.ts, values, day_start_ms, mask)


def hour_calls(cols: RecordColumns, values: np.ndarray, day_start_ms: int, mask=None) -> np.ndarray:
    """Priced calls (spend > 0) per hour since `day_start_ms`, in the same 25 bins."""
    priced = values > 0
    return hour_sums(
        cols.ts, priced.astype(np.float64), day_start_ms, priced if mask is None else priced & mask
    ).astype(np.int64)


def recent_hour_spikes(
    f_start: str,
    f_end: str,
    today: str,
    tz,
    floor: float,
    hours_of: Callable[[str], tuple[np.ndarray, np.ndarray]],
    history: Callable[[str, bool], np.ndarray],
) -> list[dict]:
    """Spike hours of yesterday and today (those in f_start..f_end), each with its `start`.
    `hours_of(day)`: the day's spend and priced calls per hour (25 bins each); `history(day,
    calls)`: the previous 28 days' spend (or, with `calls`, priced calls) per hour (28 x 25),
    asked only when an hour of the day is above `floor` (it costs reading those days)."""
    out = []
    for day in (days.shift(today, -1), today):
        if not f_start <= day <= f_end:
            continue
        hours, calls = hours_of(day)
        if hours.max(initial=0.0) <= floor:
            continue  # no hour can be a spike: skip loading the history
        found = spikes.hour_spikes(
            day,
            hours,
            calls,
            spikes.hour_baseline(history(day, False)),
            floor,
            lambda day=day: spikes.calls_limit(history(day, True)),
        )
        start = days.midnight_ms(day, tz)
        for spike in found:
            spike["start"] = days.iso_timestamp(start + spike["hour"] * HOUR_MS, tz)
        out += found
    return out


def top_share(amounts: dict[str, float]) -> dict | None:
    """The largest contributor and its share of the total."""
    total = sum(v for v in amounts.values() if v > 0)
    if total <= 0:
        return None
    name, value = max(amounts.items(), key=lambda kv: (kv[1], kv[0]))
    return {"name": name, "value": value, "share": value / total}


def contributions(names: list[str], ids: np.ndarray, values: np.ndarray) -> dict[str, float]:
    """Spend per name (model, project or session ids)."""
    if not len(ids):
        return {}
    sums = np.bincount(ids.astype(np.int64), weights=values)
    return {names[i]: float(sums[i]) for i in np.nonzero(sums)[0]}


# -- burn rate and projection ----------------------------------------------------------------


def burn_rate(cols: RecordColumns, values: np.ndarray, now_ms: int, mask=None) -> float:
    """Spend per hour over the last hour: records with now − 1 h < ts ≤ now."""
    keep = (cols.ts > now_ms - HOUR_MS) & (cols.ts <= now_ms)
    if mask is not None:
        keep &= mask
    return float(values[keep].sum())


def pace(spent_today: float, hours_elapsed: float) -> float:
    """Today's pace per hour (at least one elapsed hour counted)."""
    return spent_today / max(hours_elapsed, 1.0)


def project(spent: float, per_hour: float, hours_left: float) -> float:
    return spent + per_hour * max(hours_left, 0.0)


# -- budgets ------------------------------------------------------------------------------


def budget_left(b: dict, pace_per_hour: float, hours_left: float) -> dict:
    """A budget row with `left`, and where it ends the period at today's pace."""
    projected = project(b["used"], pace_per_hour, hours_left)
    return {
        **b,
        "left": max(0.0, b["limit"] - b["used"]),
        "projected": projected,
        "projectedPercent": 100.0 * projected / b["limit"],
    }


# -- tips ---------------------------------------------------------------------------------


def _nan0(x: float) -> float:
    return 0.0 if x != x else x


def _counts(cols: RecordColumns, counts: np.ndarray | None) -> np.ndarray:
    """Records per row: 1, or (`counts`) rows that are groups of records alike in everything a
    tip reads but their tokens, cost and credits (summed): the same model, provider, billing,
    project, UTC day (a price's date), tier and side of each threshold (team/insights.py)."""
    return np.ones(len(cols), dtype=np.int64) if counts is None else counts


def swap_tips(
    cols: RecordColumns,
    model_names: list[str],
    pricer,
    usd_per_credit: float,
    per_request: dict,
    counts: np.ndarray | None = None,
) -> list[dict]:
    """Cheaper model of the same family for short answers (see the module docstring)."""
    out = []
    per_row = _counts(cols, counts)
    short = cols.tokens[1] <= SHORT_OUTPUT_TOKENS * per_row
    priced = ~np.isnan(cols.cost)
    for mid in np.unique(cols.model[short & priced]) if len(cols) else []:
        name = model_names[int(mid)]
        match = pricer.match(name)
        if match is None or match.source != "genai-prices" or match.model_id not in SWAPS:
            continue
        alt = SWAPS[match.model_id]
        rows = np.nonzero((cols.model == mid) & short & priced)[0]
        records = int(per_row[rows].sum())
        spent = alt_cost = credits_now = credits_alt = 0.0
        # (plain lists: indexing numpy arrays one element at a time was most of the time)
        for (inp, out_t, cr, cw, cw1h), ts, was, billing, credits, n in zip(
            cols.tokens[:, rows].T.tolist(),
            cols.ts[rows].tolist(),
            cols.cost[rows].tolist(),
            cols.billing[rows].tolist(),
            cols.credits[rows].tolist(),
            per_row[rows].tolist(),
        ):
            rates = pricer.rates(alt, match.provider_id, ts, inp + cr + cw if n == 1 else (inp + cr + cw) / n)
            if rates is None:
                break
            cost = rates.cost(inp, out_t, cr, cw, cw1h) + rates.request * (n - 1)
            spent += was
            alt_cost += cost
            if billing == 0:
                credits_now += _nan0(credits)
                credits_alt += per_request[alt] * n if alt in per_request else cost / usd_per_credit
        else:
            saving = spent - alt_cost
            if saving >= MIN_TIP_USD and records >= MIN_TIP_RECORDS:
                out.append(
                    {
                        "kind": "cheaperModel",
                        "model": name,
                        "alternative": alt,
                        "records": records,
                        "costUsd": spent,
                        "alternativeCostUsd": alt_cost,
                        "savingUsd": saving,
                        "savingCredits": max(0.0, credits_now - credits_alt),
                        "how": (
                            f"{records} answers of {name} had at most {SHORT_OUTPUT_TOKENS} output tokens and "
                            f"cost ${spent:,.2f}; the same tokens at {alt}'s prices (genai-prices, each record "
                            f"on its own date and tier) come to ${alt_cost:,.2f}."
                        ),
                    }
                )
    return out


def cache_tips(
    cols: RecordColumns,
    model_names: list[str],
    project_names: list[str],
    pricer,
    usd_per_credit: float,
    per_request: dict,
    counts: np.ndarray | None = None,
) -> list[dict]:
    """Projects whose long prompts are rarely cache reads (see the module docstring)."""
    out: list[dict] = []
    if not len(cols):
        return out
    per_row = _counts(cols, counts)
    inp, cr, cw = cols.tokens[0], cols.tokens[2], cols.tokens[3]
    long_prompt = inp >= LONG_PROMPT_TOKENS * per_row
    for pid in np.unique(cols.project[long_prompt]):
        rows = np.nonzero(long_prompt & (cols.project == pid))[0]
        records = int(per_row[rows].sum())
        if records < MIN_TIP_RECORDS:
            continue
        sent = float(inp[rows].sum() + cr[rows].sum() + cw[rows].sum())
        share = float(cr[rows].sum()) / sent if sent else 0.0
        if share >= LOW_CACHE_SHARE:
            continue
        saving = credits = 0.0
        providers = cols.text[TEXT_COLUMNS.index("provider"), rows].tolist()
        for model, provider, ts, uncached, total, billing, n in zip(
            cols.model[rows].tolist(),
            map(cols.strings.get, providers),
            cols.ts[rows].tolist(),
            inp[rows].tolist(),
            (inp[rows] + cr[rows] + cw[rows]).tolist(),
            cols.billing[rows].tolist(),
            per_row[rows].tolist(),
        ):
            name = model_names[model]
            rates = pricer.rates(name, provider, ts, total if n == 1 else total / n)
            if rates is None or rates.cache_read >= rates.input:
                continue
            s = CACHEABLE_SHARE * uncached * (rates.input - rates.cache_read)
            saving += s
            if billing == 0 and name not in per_request:
                credits += s / usd_per_credit
        if saving < MIN_TIP_USD:
            continue
        project_name = project_names[int(pid)]
        out.append(
            {
                "kind": "promptCaching",
                "project": project_name,
                "records": records,
                "cacheReadShare": share,
                "savingUsd": saving,
                "savingCredits": credits,
                "how": (
                    f"{records} prompts in {project_name} sent at least {LONG_PROMPT_TOKENS:,} uncached input tokens; "
                    f"only {share:.0%} of their input was read from cache. If half of the uncached input had been "
                    f"cache reads, each model's input rate minus its cache-read rate gives ${saving:,.2f} (cache "
                    f"writes not counted)."
                ),
            }
        )
    return out


def spike_tips(spikes: list[dict], unit: str, usd_per_credit: float) -> list[dict]:
    """Spike days where one project or session caused at least half of the spend."""
    out = []
    for s in spikes:
        if s["kind"] != "day":
            continue
        for what in ("project", "session"):
            top = s.get("top" + what.capitalize())
            if not top or top["share"] < 0.5:
                continue
            excess = s["value"] - s["median"]
            usd_value = excess if unit == "usd" else excess * usd_per_credit
            amount = f"${s['value']:,.2f}" if unit == "usd" else f"{s['value']:,.1f} credits"
            typical = f"${s['median']:,.2f}" if unit == "usd" else f"{s['median']:,.1f} credits"
            out.append(
                {
                    "kind": "spikeSource",
                    what: top["name"],
                    "date": s["date"],
                    "share": top["share"],
                    "savingUsd": usd_value,
                    "savingCredits": excess if unit == "credits" else 0.0,
                    "how": (
                        f"On {s['date']} spend was {amount} against a typical day of {typical} (median of the "
                        f"active days among the previous {BASELINE_DAYS}); {what} {top['name']} accounted for {top['share']:.0%} of it. "
                        f"Saving: the spend above a typical day."
                    ),
                }
            )
            break  # a project explains it; a session inside it would say the same
    return out


def tips(
    cols: RecordColumns,
    model_names: list[str],
    project_names: list[str],
    pricer,
    usd_per_credit: float,
    per_request: dict,
    unusual: list[dict],
    unit: str,
    counts: np.ndarray | None = None,
) -> list[dict]:
    """Every tip of a period's records (`cols`, `*_names` what their ids stand for; `counts`:
    see _counts) and its spikes, the largest saving first."""
    found = swap_tips(cols, model_names, pricer, usd_per_credit, per_request, counts)
    found += cache_tips(cols, model_names, project_names, pricer, usd_per_credit, per_request, counts)
    found += spike_tips(unusual, unit, usd_per_credit)
    return rank_tips(found)


def rank_tips(tips: list[dict]) -> list[dict]:
    for t in tips:
        t["savingUsd"] = round(t["savingUsd"], 6)
        t["savingCredits"] = round(t["savingCredits"], 4)
    return sorted(tips, key=lambda t: -t["savingUsd"])


def finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0
