"""Plans (`[plans]` in config.toml): AI Credits of the month's allowance, the plan's value,
estimated 5-hour windows and the alerts told once, through the service, the real server and
the CLI (docs/limits.md)."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys

import orjson
import pytest
from editor import Editor, rec, write_config

from usage_ls.config import load_config
from usage_ls.service import Usage

PLAN_KEYS = {
    "tool",
    "plan",
    "label",
    "monthlyPriceUsd",
    "periodStart",
    "periodEnd",
    "listPriceUsd",
    "valueRatio",
    "credits",
}
CREDIT_KEYS = {"allowance", "base", "flex", "used", "remaining", "resetsAt"}


def ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def test_plans_config_and_its_errors_name_the_key(data_dir):
    write_config(
        data_dir,
        """
[plans]
claude-code = "max5"
codex = "pro"
copilot = { plan = "pro+", monthly_price_usd = 0 }
gemini = { plan = "custom", monthly_price_usd = 20, credits = 2000, flex_credits = 100, label = "Gemini Pro" }
cursor = "max5"
aider = { plan = "custom" }
cline = { plan = "custom", monthly_price_usd = "20" }
codex-cloud = { plan = "custom", monthly_price_usd = 5, flex_credits = 10 }
continue = { plan = "custom", monthly_price_usd = 5, seats = 3 }
"Bad Tool" = "pro"
opencode = 3
[limits]
thresholds = [90, 0]
pace_alert = "yes"
""",
    )
    cfg = load_config(data_dir)
    assert {
        t: (p.plan, p.label, p.monthly_price_usd, p.base_credits, p.flex_credits) for t, p in cfg.plans.items()
    } == {
        "claude-code": ("max5", "Claude Max 5×", 100.0, None, 0.0),
        "codex": ("pro", "ChatGPT Pro", 200.0, None, 0.0),
        "copilot": ("pro+", "Copilot Pro+", 0.0, 3900.0, 3100.0),
        "gemini": ("custom", "Gemini Pro", 20.0, 2000.0, 100.0),
        "continue": ("custom", "continue plan", 5.0, None, 0.0),
    }
    assert cfg.plans["copilot"].utc_month and not cfg.plans["claude-code"].utc_month
    assert cfg.errors == [
        'plans.cursor: unknown plan "max5" (known for cursor: custom)',
        "plans.aider: a custom plan needs monthly_price_usd (USD a month)",
        "plans.cline.monthly_price_usd: expected a number, got a string",
        "plans.codex-cloud.flex_credits: needs credits (the base allowance, used first)",
        "plans.continue.seats: unknown key (known: plan, label, monthly_price_usd, credits, flex_credits, block_tokens)",
        "plans.Bad Tool: expected a tool name such as claude-code, codex or copilot",
        'plans.opencode: expected a plan name such as "max5" or a table, got a number',
        "limits.thresholds: expected a list of percentages from 1 to 100 like [75, 90], got an array with an item that is not one",
        "limits.pace_alert: expected true or false, got a string",
    ]
    assert (cfg.limit_thresholds, cfg.limit_pace_alert) == ((75.0, 90.0), True)  # the defaults kept
    write_config(data_dir, '[plans]\ncopilot = "Pro+"\nclaude-code = "max10"\n')
    cfg = load_config(data_dir)
    assert list(cfg.plans) == ["copilot"]
    assert cfg.errors == ['plans.claude-code: unknown plan "max10" (known for claude-code: max20, max5, pro, custom)']


def test_copilot_credits_follow_the_utc_month_in_los_angeles(data_dir):
    """Late on Nov 30 in Los Angeles it is already December in UTC: Copilot's allowance has
    reset (00:00 UTC on the 1st), Claude's plan month (local) has not."""
    write_config(data_dir, 'timezone = "America/Los_Angeles"\n[plans]\ncopilot = "pro"\nclaude-code = "max5"\n')
    svc = Usage(data_dir=data_dir).open()
    try:
        # $1 of list price = 100 credits
        svc.record(
            [
                rec("gpt-4.1", feature="copilot-chat", costUsd=9.0, id="c1", timestamp="2026-11-30T22:30:00Z"),
                rec("gpt-4.1", feature="copilot-chat", costUsd=12.0, id="c2", timestamp="2026-12-01T01:00:00Z"),
                rec("gpt-4.1", feature="copilot-cli", costUsd=1.5, id="c3", timestamp="2026-12-01T02:00:00Z"),
                rec("claude-opus-4-1", feature="claude-code", costUsd=600.0, id="a1", timestamp="2026-11-02T18:00:00Z"),
                rec(
                    "claude-opus-4-1",
                    feature="claude-code agent=x",
                    costUsd=640.0,
                    id="a2",
                    timestamp="2026-12-01T02:30:00Z",
                ),
                rec("claude-opus-4-1", feature="claude-code", costUsd=50.0, id="a3", timestamp="2026-10-31T12:00:00Z"),
                rec("gpt-4.1", feature="aider", costUsd=7.0, id="x1", timestamp="2026-12-01T01:30:00Z"),
            ]
        )
        # Nov 30, 19:00 in Los Angeles = Dec 1, 03:00 UTC
        now = ms("2026-11-30T19:00:00-08:00")
        copilot, claude = svc.limits(now_ms=now)["plans"]
        assert set(copilot) == PLAN_KEYS and set(copilot["credits"]) == CREDIT_KEYS
        assert (copilot["periodStart"], copilot["periodEnd"]) == ("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")
        assert copilot["credits"] == {
            "allowance": 1500.0,
            "base": 1000.0,
            "flex": 500.0,
            "used": 1350.0,  # c2 + c3; c1 was November in UTC
            "remaining": 150.0,
            "resetsAt": "2027-01-01T00:00:00Z",
        }
        assert (copilot["listPriceUsd"], copilot["valueRatio"]) == (13.5, 1.35)
        assert claude["label"] == "Claude Max 5×" and claude["credits"] is None
        assert (claude["periodStart"], claude["periodEnd"]) == (
            "2026-11-01T00:00:00-07:00",
            "2026-12-01T00:00:00-08:00",
        )
        assert (claude["listPriceUsd"], claude["valueRatio"]) == (1240.0, 12.4)  # a1 + a2, not October's a3

        # an hour earlier (Nov 30 18:00 PST = Dec 1 02:00 UTC) c3 is not yet and c1 is November's
        svc.forget_results()
        before = svc.limits(now_ms=ms("2026-11-30T14:59:00-08:00"))["plans"][0]  # 22:59 UTC, Nov 30
        assert before["periodStart"] == "2026-11-01T00:00:00Z" and before["credits"]["used"] == 900.0
        assert before["credits"]["remaining"] == 600.0
    finally:
        svc.close()


async def test_limits_carry_plans_estimated_windows_and_alert_once(data_dir):
    write_config(
        data_dir,
        "[plans]\n"
        'claude-code = { plan = "max5", block_tokens = 10000 }\n'
        'copilot = "pro"\n'
        "[limits]\nthresholds = [50]\n",
    )
    now = dt.datetime.now(dt.UTC)
    stamp = (now - dt.timedelta(minutes=1)).isoformat()
    async with Editor(data_dir) as ed:
        # 6,000 tokens in Claude Code's block of 10,000: 60%, estimated; Copilot: 800 of 1,500 credits
        await ed.record(rec("claude-sonnet-4-5", 5000, 1000, feature="claude-code", costUsd=3.0, timestamp=stamp))
        await ed.record(rec("gpt-4.1", 1000, 100, feature="copilot-chat", costUsd=8.0, timestamp=stamp))
        change = await ed.wait_change(lambda c: c["today"]["messages"] == 2 and c["limits"]["plans"])
        limits = await ed.request("usage/limits", {})
        assert change["limits"] == limits
        (window,) = limits["windows"]
        assert (window["source"], window["window"], window["estimated"]) == ("claude-code", "5h", True)
        assert (window["usedPercent"], window["tokens"], window["tokenLimit"], window["level"]) == (
            60.0,
            6000,
            10000,
            "normal",
        )
        claude, copilot = limits["plans"]
        assert [set(p) for p in limits["plans"]] == [PLAN_KEYS, PLAN_KEYS]
        assert (claude["listPriceUsd"], claude["valueRatio"]) == (3.0, 0.03)
        assert copilot["credits"]["used"] == 800.0 and copilot["credits"]["remaining"] == 700.0
        bar = change["statusBar"]
        assert bar["text"].endswith(" · 5h ~60%")  # estimated: marked
        assert "_(estimated)_" in bar["tooltip"] and "60% used" in bar["tooltip"]
        assert "Claude Max 5×: $100; your usage at list price: $3.00, 0.03×" in bar["tooltip"]
        assert "AI Credits 800 of 1,500 used (200 base left, 500 flex left)" in bar["tooltip"]
        # each threshold told once, the window's and the month's credits
        await ed.wait_message(lambda m: "claude-code 5h window (estimated) 60% used (past 50%)" in m)
        await ed.wait_message(lambda m: "Copilot Pro 50% of AI Credits reached: AI Credits 800 of 1,500" in m)
        await ed.record(rec("gpt-4.1", 10, 10, feature="copilot-chat", costUsd=0.01, timestamp=stamp))
        await ed.wait_change(lambda c: c["today"]["messages"] == 3)
        await asyncio.sleep(0.3)  # an alert would be pushed within 0.1 s
        told = [m for m in ed.messages if "(past 50%)" in m or "of AI Credits" in m]
        assert len(told) == 2, told
    async with Editor(data_dir) as again:  # a restart, or a second editor window: nothing repeated
        await again.request("usage/summary")
        await asyncio.sleep(0.5)
        assert not [m for m in again.messages if "(past 50%)" in m or "of AI Credits" in m]
    # the CLI's table
    done = subprocess.run(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), "report", "limits"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.split()[:4] == ["claude-code", "5h", "(estimated)", "60%"] for line in lines)
    assert any(line.startswith("copilot ") and "$8.01" in line and "801 / 1,500" in line for line in lines)
    assert "Copilot Pro: AI Credits 801 of 1,500 used (199 base left, 500 flex left); resets" in done.stdout
    as_json = orjson.loads(
        subprocess.run(
            [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), "report", "limits", "--json"],
            capture_output=True,
            timeout=60,
        ).stdout
    )
    assert [p["plan"] for p in as_json["plans"]] == ["max5", "pro"]


@pytest.mark.parametrize("used", [1100.0, 1600.0])
def test_base_credits_first_then_flex(used):
    from usage_ls.render.limits import credits_text

    plan = {
        "credits": {
            "allowance": 1500.0,
            "base": 1000.0,
            "flex": 500.0,
            "used": used,
            "remaining": max(0.0, 1500.0 - used),
            "resetsAt": "2027-01-01T00:00:00Z",
        }
    }
    expected = {
        1100.0: "AI Credits 1,100 of 1,500 used (base spent, 400 flex left); resets Jan 1 00:00 UTC",
        1600.0: "AI Credits 1,600 of 1,500 used (base spent, 0 flex left); resets Jan 1 00:00 UTC",
    }
    assert credits_text(plan) == expected[used]


def test_window_alerts_once_per_window_and_again_for_the_next(tmp_path):
    from usage_ls import limit_alerts

    H = 3_600_000
    reset = 1_796_590_800_000

    def window(used: float, resets_at: int, projected: float | None = None) -> dict:
        return {
            "source": "codex",
            "window": "5h",
            "label": "5h",
            "limitId": None,
            "usedPercent": used,
            "resetsAt": resets_at,
            "projectedPercent": projected,
            "estimated": False,
        }

    def due(*shown: dict) -> list:
        found = limit_alerts.due(tmp_path, {"windows": list(shown), "plans": []}, (75.0, 90.0), True)
        return [(kind, w["usedPercent"], crossed) for kind, w, crossed in found]

    assert due(window(40.0, reset, projected=120.0)) == [("pace", 40.0, None)]  # running ahead
    assert due(window(41.0, reset, projected=121.0)) == []  # told once
    assert due(window(80.0, reset)) == [("window", 80.0, 75.0)]
    assert due(window(82.0, reset + 45_000)) == []  # the same window, its reset rounded otherwise
    assert due(window(95.0, reset)) == [("window", 95.0, 90.0)]
    assert due(window(99.0, reset, projected=130.0)) == []
    # the next window: told again, both thresholds passed together as one message
    assert due(window(91.0, reset + 5 * H, projected=150.0)) == [("window", 91.0, 90.0)]
