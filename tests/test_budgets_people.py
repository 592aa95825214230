"""Budgets per user and for the team, from this ledger (no team database configured): through
the real server (usage/insights, the status bar's tooltip and level, the alerts told once)."""

from __future__ import annotations

import datetime as dt

import pytest
from editor import Editor, rec, write_config

from usage_ls.config import load_config

NOW = dt.datetime.now(dt.UTC)


def minutes_ago(n: int) -> str:
    midnight = dt.datetime.combine(NOW.date(), dt.time(0, 0), dt.UTC)
    return max(NOW - dt.timedelta(minutes=n), midnight + dt.timedelta(seconds=max(0, 1000 - n))).isoformat()


async def test_budgets_per_user_and_for_the_team_from_this_ledger(data_dir):
    write_config(
        data_dir,
        'user = "alice"\ntimezone = "UTC"\n[budgets]\nthresholds = [50, 80, 100]\n'
        '[budgets.users."alice"]\ndaily_credits = 10\n[budgets.users."bob"]\nmonthly_credits = 100\n'
        "[budgets.team]\nmonthly_credits = 1000\n",
    )
    async with Editor(data_dir) as ed:
        await ed.record(
            rec("gpt-4o", costUsd=0.06, id="a1", timestamp=minutes_ago(5)),  # alice, this machine's user: 6 credits
            rec("gpt-4o", costUsd=0.85, id="b1", user="bob", timestamp=minutes_ago(4)),  # bob: 85 credits
        )
        ins = await ed.request("usage/insights")
        by = {(b["user"], b["team"], b["budget"]): b for b in ins["budgets"]}
        assert set(by) == {
            ("alice", False, "daily_credits"),
            ("bob", False, "monthly_credits"),
            (None, True, "monthly_credits"),
        }
        alice, bob, team = (
            by[("alice", False, "daily_credits")],
            by[("bob", False, "monthly_credits")],
            by[(None, True, "monthly_credits")],
        )
        assert (alice["used"], alice["left"], alice["source"]) == (pytest.approx(6), pytest.approx(4), "local")
        assert (bob["used"], bob["percent"]) == (pytest.approx(85), pytest.approx(85))
        assert team["used"] == pytest.approx(91) and team["label"] == "Team · This month"
        sb = await ed.request("usage/statusBar")
        assert "alice · Today: 4.0 of 10.0 credits left (60% used)" in sb["tooltip"]
        assert "bob · This month: 15.0 of 100 credits left (85% used)" in sb["tooltip"]
        assert "Team · This month: 909 of 1,000 credits left (9% used)" in sb["tooltip"]
        assert sb["level"] == "warning"  # bob's 85% is past the 80% threshold
        await ed.wait_message(lambda m: "alice · Today 50% of budget reached" in m)
        await ed.wait_message(lambda m: "bob · This month 80% of budget reached" in m)
        alerts = [m for m in ed.messages if "of budget reached" in m]
        assert len(alerts) == 2, alerts  # once each: bob's 50% and 80% crossed together are one
        await ed.record(rec("gpt-4o", costUsd=0.01, id="a2", timestamp=minutes_ago(1)))
        await ed.wait_change(lambda c: c["today"]["messages"] == 3)
        assert len([m for m in ed.messages if "of budget reached" in m]) == 2


def test_bad_user_and_team_budgets_are_named(data_dir):
    write_config(
        data_dir, '[budgets]\nteam = 5\n[budgets.users."bob"]\nweekly = 3\nmonthly_credits = -1\ndaily_credits = 2\n'
    )
    cfg = load_config(data_dir)
    assert any("budgets.team: expected a table of budgets" in e and "got a number" in e for e in cfg.errors)
    assert any('budgets.users."bob".weekly: unknown budget' in e for e in cfg.errors)
    assert any('budgets.users."bob".monthly_credits: must be > 0' in e for e in cfg.errors)
    assert cfg.user_budgets == {"bob": {"daily_credits": 2.0}} and cfg.team_budgets == {}
