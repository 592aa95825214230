"""The Plan limits card, in headless Chromium: gauges, pace, reset countdown and local times,
each window's history, the tool picker and the date range, the plans' value, the empty state.

The server's clock (`days.now_ms`) and the page's (`Date`) are both held at NOW, so every number
is exact; the browser runs in Asia/Kolkata (UTC+05:30) while the data directory's zone is UTC,
so a time shown in the browser's zone cannot be the server's by accident. Observations, written
as the status line and the Codex importer write them (`LimitLog.append`), relative to NOW:

- Claude Code 5h, an earlier window (reset 5 h ago): 10% at -9:50, 35% at -8:00, 80% at -6:00;
- Claude Code 5h, now: opened 174 min ago (58.0% of 5 h), resets in 126 min: 5% at -170 min,
  40% at -60 min, 62% at -2 min. Pace 62 / 58 = 106.9%: the limit is reached at
  start + 300 min x 100 / 106.9 = 106.6 min from now, before the reset; level error (pace past
  100% with half used);
- Claude Code weekly: 12% a day ago, 20% 10 min ago, resets in 74 h: 94 of 168 h passed (56%),
  pace 20 / 55.95 = 35.7%;
- Codex weekly: 1.5%, resets in 164 h: 4 of 168 h passed (2.4%), too early for a pace;
- a source named like markup, 30% of a 5h window resetting in an hour;
- Claude Code 5h twenty days ago: 50%, only in a 30-day range.

Plans and estimated 5-hour blocks (not in usage/limits on this branch yet) are fed in the shape
the plans work gives them, through a static page built from a `Usage` whose `limits` returns
them; and `plans` absent altogether, as from an older server.
"""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
from dashboard_known import XSS_PROJECT, seed

from usage_ls import days
from usage_ls.dashboard import build_page
from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage
from usage_ls.store.limits import LimitLog, Observation

MIN = 60_000
H = 60 * MIN
NOW_MS = days.now_ms() // MIN * MIN
NOW = dt.datetime.fromtimestamp(NOW_MS / 1000, dt.UTC)
BROWSER_TZ = "Asia/Kolkata"
XSS_SOURCE = XSS_PROJECT
S5 = NOW_MS - 174 * MIN  # the open 5-hour window's start
R5 = S5 + 5 * H
R_OLD = NOW_MS - 5 * H
OLD = NOW_MS - 20 * 24 * H


def observations() -> list[Observation]:
    cc = "claude-code"
    return [
        Observation(cc, "5h", 50.0, OLD + 3 * H, OLD),
        Observation(cc, "7d", 12.0, NOW_MS + 74 * H, NOW_MS - 24 * H),
        Observation(cc, "5h", 10.0, R_OLD, NOW_MS - 590 * MIN),
        Observation(cc, "5h", 35.0, R_OLD, NOW_MS - 480 * MIN),
        Observation(cc, "5h", 80.0, R_OLD, NOW_MS - 360 * MIN),
        Observation(cc, "5h", 5.0, R5, NOW_MS - 170 * MIN),
        Observation(cc, "5h", 40.0, R5, NOW_MS - 60 * MIN),
        Observation(XSS_SOURCE, "5h", 30.0, NOW_MS + H, NOW_MS - 30 * MIN),
        Observation(cc, "7d", 20.0, NOW_MS + 74 * H, NOW_MS - 10 * MIN),
        Observation("codex", "7d", 1.5, NOW_MS + 164 * H, NOW_MS - 5 * MIN),
        Observation(cc, "5h", 62.0, R5, NOW_MS - 2 * MIN),
    ]


def local(ms: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, zoneinfo.ZoneInfo(BROWSER_TZ))


def when(ms: float) -> str:
    """A moment as the card shows it, in the browser's zone: "16:40", "tomorrow 09:12",
    "Thu 09:12" within six days, else "Dec 12, 09:12"."""
    d, now = local(ms), local(NOW_MS)
    if d.date() == now.date():
        return d.strftime("%H:%M")
    if d.date() == now.date() + dt.timedelta(days=1):
        return d.strftime("tomorrow %H:%M")
    if 0 < ms - NOW_MS < 6 * 24 * H:
        return d.strftime("%a %H:%M")
    return f"{d.strftime('%b')} {d.day}, {d.strftime('%H:%M')}"


def limit_time(start: int, used: float, elapsed: float, projected: float) -> float:
    """When the pace reaches 100% of a 5-hour window: the rate is (projected - used) per
    (100 - elapsed) % of the window's time."""
    at = elapsed + (100 - used) * (100 - elapsed) / (projected - used)
    return start + 5 * H * at / 100


@pytest.fixture(scope="module")
def clock():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(days, "now_ms", lambda: NOW_MS)
        yield


@pytest.fixture(scope="module")
def limited(tmp_path_factory, clock):
    data = tmp_path_factory.mktemp("limits") / "data"
    seed(data, [])
    assert LimitLog(data).append(observations()) == len(observations())
    svc = Usage(data_dir=data, tag="cli", writable=False).open()
    srv = DashboardServer(svc, {})
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    svc.close()


STROKE = "e => [e.dataset.level, getComputedStyle(e.querySelector('path.lg-used')).stroke]"


def gauges(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#limits-gauges .lim-gauge",
        """els => els.map(e => ({
            tool: e.querySelector('.lg-tool').textContent, window: e.querySelector('.lg-win').textContent,
            value: e.querySelector('.lg-value').textContent, pace: e.querySelector('.lg-pace-text').textContent,
            reset: e.querySelector('.lg-reset').textContent, level: e.dataset.level,
            warn: e.querySelector('.lg-warn') ? e.querySelector('.lg-warn').textContent : null,
            estimated: !!e.querySelector('.lg-est'), visible: e.offsetParent !== null }))""",
    )


def history(page) -> dict[str, list[tuple]]:
    sets = page.evaluate("window.usageLimitsCard.datasets")
    return {
        d["label"]: [(p["x"], p["y"], "reset" if p["reset"] else "now" if p["tail"] else "") for p in d["points"]]
        for d in sets
    }


def test_gauges_show_use_pace_countdown_and_local_reset_times(limited, open_page):
    page, _ = open_page(limited.url, timezone_id=BROWSER_TZ, fixed_time=NOW)
    got = {(g["tool"], g["window"]): g for g in gauges(page)}
    assert list(got)[0] == ("Claude Code", "5-hour")  # the most constraining first
    five = got["Claude Code", "5-hour"]
    limit_at = limit_time(S5, 62.0, 58.0, 106.9)  # the shares as the server rounds them
    assert five == {
        "tool": "Claude Code",
        "window": "5-hour",
        "value": "62%",
        "pace": "58% of the time passed · on pace for 107%",
        "reset": "Resets in 2 h 6 min · " + when(R5),
        "level": "error",
        "warn": "At this pace you reach the 5-hour limit at " + when(limit_at),
        "estimated": False,
        "visible": True,
    }
    week = got["Claude Code", "Weekly"]
    assert (week["value"], week["pace"], week["level"], week["warn"]) == (
        "20%",
        "56% of the time passed · on pace for 36%",
        "normal",
        None,
    )
    assert week["reset"] == "Resets in 3 d 2 h · " + when(NOW_MS + 74 * H)
    codex = got["Codex", "Weekly"]
    assert (codex["value"], codex["pace"], codex["reset"]) == (
        "1.5%",
        "2.4% of the time passed · too early for a pace",
        "Resets in 6 d 20 h · " + when(NOW_MS + 164 * H),
    )
    # a source named like markup is text: shown as written, no element made of it
    assert got[XSS_SOURCE, "5-hour"]["value"] == "30%"
    assert page.eval_on_selector_all("#limits img, #limits script", "els => els.length") == 0
    # the marker on each gauge sits at the time passed: 58% of the half circle, from the left
    angle = page.eval_on_selector(
        '.lim-gauge[data-source="claude-code"][data-window="5h"] .lg-pace',
        "l => Math.atan2(60 - l.y2.baseVal.value, l.x2.baseVal.value - 60) * 180 / Math.PI",
    )
    assert angle == pytest.approx(180 * (1 - 0.58), abs=0.01)
    # the level's colour (light theme here; dark in test_level_colours_follow_the_theme)
    light = page.eval_on_selector_all("#limits-gauges .lim-gauge", f"els => els.map({STROKE})")
    assert ["error", "rgb(229, 72, 77)"] in light and ["normal", "rgb(31, 157, 107)"] in light


def test_history_points_resets_tool_picker_and_date_range(limited, open_page, act):
    page, _ = open_page(limited.url, timezone_id=BROWSER_TZ, fixed_time=NOW)
    lines = history(page)
    assert set(lines) == {"Claude Code 5-hour", "Claude Code weekly", "Codex weekly", XSS_SOURCE + " 5-hour"}
    # every observation of the range, the drop at the earlier window's reset, the last value held until now
    assert lines["Claude Code 5-hour"] == [
        (NOW_MS - 590 * MIN, 10, ""),
        (NOW_MS - 480 * MIN, 35, ""),
        (NOW_MS - 360 * MIN, 80, ""),
        (R_OLD, 0, "reset"),
        (NOW_MS - 170 * MIN, 5, ""),
        (NOW_MS - 60 * MIN, 40, ""),
        (NOW_MS - 2 * MIN, 62, ""),
        (NOW_MS, 62, "now"),
    ]
    assert lines["Codex weekly"] == [(NOW_MS - 5 * MIN, 1.5, ""), (NOW_MS, 1.5, "now")]
    # as drawn: 35% holds from -8:00 until the next report at -6:00, then 80% until the reset at -5:00
    drawn = "([label, t, y]) => window.usageLimitsCard.drawnAt(label, t, y)"
    assert page.evaluate(drawn, ["Claude Code 5-hour", NOW_MS - 420 * MIN, 35])
    assert not page.evaluate(drawn, ["Claude Code 5-hour", NOW_MS - 420 * MIN, 80])
    assert page.evaluate(drawn, ["Claude Code 5-hour", NOW_MS - 330 * MIN, 80])
    # the tool picker: gauges and lines of Codex only
    page.click('#limits-tools button[data-tool="codex"]')
    assert [(g["tool"], g["window"]) for g in gauges(page)] == [("Codex", "Weekly")]
    assert list(history(page)) == ["Codex weekly"]
    assert (
        page.eval_on_selector('#limits-tools button[data-tool="codex"]', "b => b.getAttribute('aria-pressed')")
        == "true"
    )
    page.click('#limits-tools button[data-tool=""]')
    # the page's date range applies to the history: twenty days back is in the last 30 days only
    assert (OLD, 50, "") not in history(page)["Claude Code 5-hour"]
    act(page, lambda: page.click('#date-presets button[data-preset="30d"]'))
    assert history(page)["Claude Code 5-hour"][:2] == [(OLD, 50, ""), (OLD + 3 * H, 0, "reset")]
    today = dt.date.fromisoformat(days.today(dt.UTC))  # the data directory's zone

    def label(d: dt.date) -> str:
        return f"{d.strftime('%b')} {d.day}"

    assert page.text_content("#limits-history-hint") == (
        f"used share of each window, {label(today - dt.timedelta(days=29))} – {label(today)}"
        " · drops are resets · dashed line: the limit"
    )


def test_level_colours_follow_the_theme(limited, open_page):
    page, _ = open_page(limited.url, scheme="dark", timezone_id=BROWSER_TZ, fixed_time=NOW)
    dark = page.eval_on_selector_all("#limits-gauges .lim-gauge", f"els => els.map({STROKE})")
    assert ["error", "rgb(255, 99, 105)"] in dark and ["normal", "rgb(60, 207, 145)"] in dark


PLANS = [
    {
        "tool": "claude-code",
        "plan": "max5x",
        "label": "Claude Max 5×",
        "monthlyPriceUsd": 100.0,
        "periodStart": "2026-12-01T00:00:00+01:00",  # the configured zone's month
        "periodEnd": "2027-01-01T00:00:00+01:00",
        "listPriceUsd": 1243.27,
        "valueRatio": 12.4327,
        "credits": None,
    },
    {
        "tool": "copilot",
        "plan": "custom",
        "label": "</script><b>Team</b>",
        "monthlyPriceUsd": None,
        "periodStart": "2026-12-01T00:00:00Z",  # AI Credits: the UTC month
        "periodEnd": "2027-01-01T00:00:00Z",
        "listPriceUsd": 58.1,
        "valueRatio": None,
        "credits": {
            "allowance": 1500,
            "base": 1000,
            "flex": 500,
            "used": 1180.5,
            "remaining": 319.5,
            "resetsAt": "2027-01-01T00:00:00Z",
        },
    },
]


# estimated 5-hour blocks as the plans work adds them to `windows`: without a token limit (only
# tokens and cost), and with one (a share, projected at the block's burn rate)
BLOCK_START = NOW_MS - 150 * MIN
ESTIMATED = [
    {
        "source": "gemini",
        "window": "5h",
        "label": "5h",
        "limitId": None,
        "usedPercent": 40.0,
        "resetsAt": BLOCK_START + 5 * H,
        "resetsAtLocal": None,
        "observedAt": NOW_MS,
        "elapsedPercent": 50.0,
        "projectedPercent": 125.0,
        "estimated": True,
        "level": "warning",
        "startsAt": BLOCK_START,
        "tokens": 400_000,
        "costUsd": 1.5,
        "projectedTokens": 1_250_000,
        "projectedCostUsd": 4.7,
        "tokenLimit": 1_000_000,
    },
    {
        "source": "codex",
        "window": "5h",
        "label": "5h",
        "limitId": None,
        "usedPercent": None,
        "resetsAt": NOW_MS + 174 * MIN,
        "resetsAtLocal": None,
        "observedAt": NOW_MS,
        "elapsedPercent": 42.0,
        "projectedPercent": None,
        "estimated": True,
        "level": "normal",
        "startsAt": NOW_MS + 174 * MIN - 5 * H,
        "tokens": 1_234_567,
        "costUsd": 4.2,
        "projectedTokens": 2_500_000,
        "projectedCostUsd": 8.5,
        "tokenLimit": None,
    },
]


class PlansUsage(Usage):
    """`usage/limits` with `plans` and estimated windows in the plans work's shape (this
    branch's server has neither)."""

    plans: list[dict] | None = PLANS
    estimated: list[dict] = ESTIMATED

    def limits(self, params=None):
        result = super().limits(params)
        if self.plans is None:
            return {"windows": result["windows"]}  # an older server: no `plans` at all
        return {"windows": result["windows"] + self.estimated, "plans": self.plans}


def static_page(open_page, data, plans, estimated=ESTIMATED):
    svc = PlansUsage(data_dir=data, tag="cli", writable=False).open()
    svc.plans, svc.estimated = plans, estimated
    try:
        html = build_page(svc, {"mode": "static"})["html"]
    finally:
        svc.close()
    return open_page(html=html, timezone_id=BROWSER_TZ, fixed_time=NOW)[0]


def test_plan_value_and_ai_credits(limited, open_page, tmp_path):
    data = tmp_path / "data"
    seed(data, [])
    LimitLog(data).append(observations())
    page = static_page(open_page, data, PLANS)
    credit_reset = dt.datetime(2027, 1, 1, tzinfo=dt.UTC).timestamp() * 1000
    plans = page.eval_on_selector_all(
        "#limits-plans .lim-plan", "els => els.map(e => [e.dataset.tool, e.querySelector('.lp-value').textContent])"
    )
    assert plans == [
        ["claude-code", "Claude Max 5×: $100 this month; your usage at list price: $1,243 — 12.4×"],
        ["copilot", "</script><b>Team</b>: your usage at list price: $58.10"],
    ]
    # the period as the plan's own calendar days, wherever the browser is
    assert page.eval_on_selector_all("#limits-plans .lim-plan > .lp-sub", "els => els.map(e => e.textContent)") == [
        "Claude Code · Dec 1 – Dec 31",
        "Copilot · Dec 1 – Dec 31",
    ]
    credits = page.eval_on_selector(
        ".lim-plan[data-tool=copilot] .lp-credits",
        """c => ({num: c.querySelector('.lp-num').textContent, sub: c.querySelector('.lp-sub').textContent,
                 base: c.querySelector('.lp-used-base').style.width, flex: c.querySelector('.lp-used-flex').style.width,
                 flexLeft: c.querySelector('.lp-used-flex').style.left})""",
    )
    # 1,180.5 of 1,500: the 1,000 of the base, then 180.5 of the flex allotment
    assert credits == {
        "num": "1,180.5 / 1,500 · 79%",
        "sub": "319.5 left · base 1,000 + flex 500 · resets " + when(credit_reset),  # 00:00 UTC, shown locally
        "base": "66.67%",
        "flex": "12.03%",
        "flexLeft": "66.67%",
    }
    assert page.eval_on_selector_all("#limits b", "els => els.map(e => e.textContent)").count("Team") == 0
    # the tool picker applies to plans too
    page.click('#limits-tools button[data-tool="copilot"]')
    assert page.eval_on_selector_all("#limits-plans .lim-plan", "els => els.map(e => e.dataset.tool)") == ["copilot"]
    # estimated blocks: with a token limit, a share and its pace; without, tokens and cost
    page.click('#limits-tools button[data-tool=""]')
    got = {g["tool"]: g for g in gauges(page) if g["estimated"]}
    assert got["Gemini CLI"] == {
        "tool": "Gemini CLI",
        "window": "5-hour block",
        "value": "40%",
        "pace": "50% of the time passed · on pace for 125%",
        "reset": "Ends in 2 h 30 min · " + when(BLOCK_START + 5 * H),
        "level": "warning",
        "warn": "At this pace you reach the 5-hour limit at " + when(limit_time(BLOCK_START, 40.0, 50.0, 125.0)),
        "estimated": True,
        "visible": True,
    }
    codex = got["Codex"]
    assert (codex["window"], codex["value"], codex["pace"], codex["warn"]) == (
        "5-hour block",
        "1.2M",
        "42% of the time passed · on pace for 2.5M ($8.50)",
        None,
    )
    assert page.text_content('.lim-gauge[data-source="codex"][data-estimated="true"] .lg-unit') == "tokens · $4.20"
    # the snapshot carries the history of its range: drawn from the embedded data
    assert history(page)["Claude Code 5-hour"][-1] == (NOW_MS, 62, "now")


def test_no_windows_yet_says_how_to_get_them(open_page, tmp_path, clock):
    data = tmp_path / "data"
    seed(data, [])
    page = static_page(open_page, data, None)  # and `plans` absent from usage/limits
    assert page.is_visible("#limits-empty") and not page.is_visible("#limits-gauges")
    text = page.text_content("#limits-empty")
    assert text.startswith("No plan windows known yet.")
    assert "usage-ls statusline --claude-code" in text and "usage-ls import codex" in text
    assert page.eval_on_selector("#limits-error", "e => e.hidden") is True

    # plans but no window yet (a Copilot user, say): the plans, and a word on the windows
    page = static_page(open_page, data, PLANS[1:], estimated=[])
    assert not page.is_visible("#limits-empty") and not page.is_visible("#limits-history")
    assert page.text_content("#limits-gauges-note").startswith("No 5-hour or weekly window reported yet")
    assert page.eval_on_selector_all("#limits-plans .lim-plan", "els => els.map(e => e.dataset.tool)") == ["copilot"]
