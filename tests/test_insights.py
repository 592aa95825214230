"""Budgets, burn rate, spikes and advice: known data sets whose right answers are computed by
hand, through the real server (usage/insights, window/showMessage, the status bar) and on
the pure functions of usage_ls.insights."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import subprocess
import sys

import numpy as np
import pytest
import spike_months as sm
from editor import Editor, rec, write_config

from usage_ls import insights, spikes

NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()
T = TODAY.isoformat()


def noon(back: int) -> str:
    return f"{(TODAY - dt.timedelta(days=back)).isoformat()}T12:00:00Z"


def minutes_ago(n: int) -> str:
    """n minutes ago, but never before today's midnight (order kept), so tests that only need
    "today" hold just after midnight too; tests that need the real clock skip there."""
    now = dt.datetime.now(dt.UTC)  # the clock now, not at import: the suite may run for many minutes
    if now.date() != TODAY:  # ... unless the day turned meanwhile: "today" stays the module's
        now = NOW
    midnight = dt.datetime.combine(TODAY, dt.time(0, 0), dt.UTC)
    return max(now - dt.timedelta(minutes=n), midnight + dt.timedelta(seconds=max(0, 1000 - n))).isoformat()


# -- the spike rule, by hand ------------------------------------------------------------------


def test_day_threshold_is_the_largest_of_floor_ratio_and_robust_sigmas():
    # 28 days: nine of $3, ten of $5, nine of $7 -> median 5; |x - 5| is ten 0s and eighteen 2s,
    # so MAD = 2 and sigma = 2.9652; threshold = max(5 + 1, 2.5 * 5, 5 + 3.5 * 2.9652) = 15.3782
    history = [3.0] * 9 + [5.0] * 10 + [7.0] * 9
    base = spikes.day_baseline(history)
    assert base.median == 5.0 and base.sigma == pytest.approx(2.9652)
    assert base.threshold(spikes.DAY_FLOOR_USD) == pytest.approx(15.3782)
    dates = [f"d{i}" for i in range(30)]
    assert spikes.day_spikes(dates, history + [15.3, 15.4], 28, 1.0) == [
        {"kind": "day", "date": "d29", "value": 15.4, "median": 5.0, "threshold": pytest.approx(15.3782)}
    ]


def test_constant_spend_falls_back_to_ratio_and_idle_days_are_not_comparable():
    # every day $3: MAD 0 and mean deviation 0, so 2.5 x median ($7.50) is the threshold
    base = spikes.day_baseline([3.0] * 28)
    assert base.sigma == 0 and base.threshold(1.0) == 7.5
    # a sporadic user (ten $3 days, eighteen idle) is judged on the ten days they worked:
    # the same $7.50; a $5 day is usual, an $8 day is not
    sporadic = spikes.day_baseline([0.0] * 18 + [3.0] * 10)
    assert (sporadic.median, sporadic.samples, sporadic.threshold(1.0)) == (3.0, 10, 7.5)
    assert spikes.day_spikes(["a"] * 29, [0.0] * 18 + [3.0] * 10 + [5.0], 28, 1.0) == []
    assert [s["value"] for s in spikes.day_spikes(["a"] * 29, [0.0] * 18 + [3.0] * 10 + [8.0], 28, 1.0)] == [8.0]


def test_no_history_no_spike():
    # five active days are not enough to know what is usual
    assert spikes.day_spikes(["x"] * 29, [0.0] * 23 + [1.0] * 5 + [50.0], 28, 1.0) == []
    assert spikes.hour_baseline(np.array([0.0] * 100 + [0.5] * 11)) is None  # 11 busy hours


def test_hour_rules_spend_beyond_the_tail_or_many_calls():
    # 100 busy hours of $0.01, $0.02, ... $1.00 (and idle ones, left out): median $0.505, 99th
    # percentile 0.99 + 0.01 x 0.01 = $0.9901 (linear between the 99th and 100th values)
    past = np.zeros((28, 25))
    past.ravel()[:100] = np.arange(1, 101) / 100
    base = spikes.hour_baseline(past)
    assert (base.median, base.high, base.samples) == (pytest.approx(0.505), pytest.approx(0.9901), 100)
    # spend limit max(0.505 + 0.10, 2.5 x 0.9901) = 2.47525; work limit max(0.605, 4 x 0.505) = 2.02
    assert base.spend_limit(0.1) == pytest.approx(2.47525) and base.work_limit(0.1) == pytest.approx(2.02)
    # calls: 50 busy hours of 2 and 50 of 4: max(10, 4 x mean 3, 1.25 x 99th percentile 4) = 12
    past_calls = np.zeros((28, 25))
    past_calls.ravel()[:100] = [2] * 50 + [4] * 50
    assert spikes.calls_limit(past_calls) == 12.0
    hours, calls = np.zeros(25), np.zeros(25, dtype=int)
    hours[9], calls[9] = 2.5, 1  # one answer beyond the tail: a spike by spend
    hours[10], calls[10] = 2.3, 12  # many calls and above the work limit: a spike by work
    hours[11], calls[11] = 2.3, 11  # one call short
    hours[12], calls[12] = 2.0, 300  # many calls, but below the work limit
    asked = []
    found = spikes.hour_spikes("d", hours, calls, base, 0.1, lambda: asked.append(1) or spikes.calls_limit(past_calls))
    assert [(s["hour"], s["calls"], s["threshold"]) for s in found] == [
        (9, 1, pytest.approx(2.47525)),
        (10, 12, pytest.approx(2.02)),
    ]
    assert asked == [1]  # the history's calls are read once, and only for a candidate
    quiet = np.zeros(25)
    quiet[9] = 1.0
    assert spikes.hour_spikes("d", quiet, calls, base, 0.1, lambda: asked.append(2) or 0.0) == [] and asked == [1]


def test_burn_rate_pace_and_projection():
    from usage_ls.store.columns import RecordColumns

    now = 10 * insights.HOUR_MS
    cols = RecordColumns.build([], None, None, None)
    cols.ts = np.array([now - 2 * insights.HOUR_MS, now - insights.HOUR_MS, now - 30 * 60_000, now - 1])
    values = np.array([100.0, 7.0, 3.0, 2.0])
    # the window is (now - 1 h, now]: the record exactly an hour ago is out
    assert insights.burn_rate(cols, values, now) == 5.0
    # 12 credits in 6 hours = 2 an hour; 18 hours left today -> 12 + 36 = 48 by midnight
    assert insights.pace(12.0, 6.0) == 2.0 and insights.project(12.0, 2.0, 18.0) == 48.0
    assert insights.pace(5.0, 0.25) == 5.0  # the first minutes of a day count as an hour


# -- through the real server ------------------------------------------------------------------


async def test_budget_crossed_at_exactly_the_right_record_and_notified_once(data_dir):
    # 10 credits a day; each record reports $0.03 = 3 credits at $0.01/credit:
    # 3 (30%), 6 (60%: 50% crossed), 9 (90%: 80% crossed), 12 (120%: 100% crossed)
    write_config(data_dir, "[budgets]\ndaily_credits = 10\n")
    expected = {1: [], 2: ["50%"], 3: ["50%", "80%"], 4: ["50%", "80%", "100%"], 5: ["50%", "80%", "100%"]}
    async with Editor(data_dir) as ed:
        for n in range(1, 6):
            await ed.record(rec("gpt-4o", costUsd=0.03, id=f"b{n}", timestamp=minutes_ago(6 - n)))
            await ed.wait_change(lambda c, n=n: c["today"]["messages"] == n)
            if expected[n] != expected.get(n - 1, []):
                await ed.wait_message(lambda m, p=expected[n][-1]: f"Today {p} of budget reached" in m)
            await asyncio.sleep(0.3)  # a further alert would be pushed within 0.1 s
            alerts = [m for m in ed.messages if "of budget reached" in m]
            assert [a.split("Today ")[1].split(" ")[0] for a in alerts] == expected[n], (n, alerts)
        sb = await ed.request("usage/statusBar")
        assert sb["level"] == "error"
        assert "Today: 0.0 of 10.0 credits left (150% used)" in sb["tooltip"]
    async with Editor(data_dir) as again:  # another server on the same data: nothing new to say
        await again.request("usage/summary")
        await asyncio.sleep(0.5)
        assert not [m for m in again.messages if "of budget" in m]


async def test_budgets_left_in_insights_tooltip_and_per_project(data_dir):
    write_config(data_dir, '[budgets]\nmonthly_credits = 1500\n[budgets.projects."widget"]\nmonthly_credits = 300\n')
    async with Editor(data_dir) as ed:
        # 1,088 credits this month, 150 of them in widget
        await ed.record(
            rec("gpt-4o", costUsd=9.38, project="api", timestamp=minutes_ago(5)),
            rec("gpt-4o", costUsd=1.50, project="widget", timestamp=minutes_ago(4)),
        )
        ins = await ed.request("usage/insights")
        by = {(b["project"], b["budget"]): b for b in ins["budgets"]}
        month = by[(None, "monthly_credits")]
        assert month["used"] == pytest.approx(1088) and month["left"] == pytest.approx(412)
        assert by[("widget", "monthly_credits")]["left"] == pytest.approx(150)
        nxt = (TODAY.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        sb = await ed.request("usage/statusBar")
        assert f"This month: 412 of 1,500 credits left (73% used), resets {nxt:%b} {nxt.day}" in sb["tooltip"]
        assert "widget · This month: 150 of 300 credits left (50% used)" in sb["tooltip"]
        assert sb["level"] == "normal"  # 73% of the month: below the 80% warning
        # 50% of widget's budget was crossed by its record: one message, naming the project
        await ed.wait_message(lambda m: "widget · This month 50% of budget reached" in m)


async def _thirty_normal_days(ed: Editor, rnd: random.Random, tag: str = "n") -> None:
    """30 ordinary days before today: 2 to 6 answers a day of about $0.50 each (sd $0.15),
    claude-sonnet-4-5 in widget, between 09:00 and 18:00."""
    batch = []
    for back in range(30, 0, -1):
        day = (TODAY - dt.timedelta(days=back)).isoformat()
        for k in range(rnd.randint(2, 6)):
            batch.append(
                rec(
                    "claude-sonnet-4-5",
                    project="widget",
                    id=f"{tag}{back}-{k}",
                    costUsd=round(max(0.05, rnd.gauss(0.5, 0.15)), 4),
                    timestamp=f"{day}T{rnd.randint(9, 17):02d}:{rnd.randint(0, 59):02d}:00Z",
                )
            )
    await ed.record(*batch)


async def test_spike_injected_into_thirty_normal_days_is_found_and_told_once(data_dir):
    if NOW.hour < 1:
        pytest.skip("today's records would fall on yesterday")
    now = minutes_ago(1)  # one instant: the spike's hour and day hold the same records
    async with Editor(data_dir) as ed:
        await _thirty_normal_days(ed, random.Random(7))
        await ed.record(rec("claude-sonnet-4-5", project="widget", costUsd=0.5, timestamp=now))
        ins = await ed.request("usage/insights", {"from": (TODAY - dt.timedelta(days=29)).isoformat(), "to": T})
        assert ins["spikes"] == []
        # the spike: $9 of claude-opus-4-1 in project api, plus $1 of the usual
        await ed.record(
            rec("claude-opus-4-1", project="api", costUsd=9.0, session="loop", timestamp=now),
            rec("claude-sonnet-4-5", project="widget", costUsd=1.0, timestamp=now),
        )
        message = await ed.wait_message(lambda m: "Unusual spend" in m)
        assert "claude-opus-4-1 (86%)" in message and "project api (86%)" in message  # 9 of 10.5
        ins = await ed.request("usage/insights")
        day = [s for s in ins["spikes"] if s["kind"] == "day"]
        assert [s["date"] for s in day] == [T] and day[0]["value"] == pytest.approx(10.5)
        assert day[0]["topProject"]["name"] == "api" and day[0]["topModel"]["name"] == "claude-opus-4-1"
        assert day[0]["topSession"]["name"] == "loop"
        assert 1.0 < day[0]["median"] < 3.5  # 2 to 6 answers of ~$0.50
        hour = [s for s in ins["spikes"] if s["kind"] == "hour"]
        assert len(hour) == 1 and hour[0]["value"] == pytest.approx(10.5)
        tip = [t for t in ins["tips"] if t["kind"] == "spikeSource"][0]
        assert tip["project"] == "api" and tip["savingUsd"] == pytest.approx(10.5 - day[0]["median"])
        sb = await ed.request("usage/statusBar")
        assert "⚠ Unusual spend" in sb["tooltip"] and "project api" in sb["tooltip"]
        await ed.record(rec("claude-opus-4-1", project="api", costUsd=5.0, timestamp=now))
        await ed.wait_change(lambda c: c["today"]["costUsd"] > 15)
        await asyncio.sleep(0.3)
        assert len([m for m in ed.messages if "Unusual spend" in m]) == 1


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_thirty_normal_days_with_noise_raise_no_spike(data_dir, seed):
    rnd = random.Random(seed)
    async with Editor(data_dir) as ed:
        await _thirty_normal_days(ed, rnd)
        # and an ordinary day so far today
        await ed.record(
            *[rec("claude-sonnet-4-5", project="widget", costUsd=0.5, timestamp=minutes_ago(k)) for k in range(2)]
        )
        ins = await ed.request("usage/insights", {"from": (TODAY - dt.timedelta(days=30)).isoformat(), "to": T})
        assert ins["spikes"] == []
        await asyncio.sleep(0.3)
        assert not [m for m in ed.messages if "Unusual" in m]


def _ordinary_month(rng: np.random.Generator) -> list[dict]:
    """30 days before today of the issue's ordinary usage (tests/spike_months.py, reference
    profile: 30-50 answers a day over 09:00-19:00, six models at list price, heavy-tailed
    sizes), as records with their cost."""
    p, out = sm.PROFILES["reference"], []
    for back in range(30, 0, -1):
        midnight = dt.datetime.combine(TODAY - dt.timedelta(days=back), dt.time(0, 0))
        n = int(rng.integers(p.calls[0], p.calls[1] + 1))
        minutes, cost, which = sm.calls_of_models(rng, p, n, p.hours[0] * 60.0, p.hours[1] * 60.0)
        for k, (m, c, w) in enumerate(zip(minutes.tolist(), cost.tolist(), which.tolist())):
            when = (midnight + dt.timedelta(minutes=m)).isoformat(timespec="seconds") + "Z"
            out.append(rec(sm.MODELS[w][0], id=f"o{back}-{k}", costUsd=round(c, 6), timestamp=when))
    return out


@pytest.mark.parametrize("seed", [1, 5])
async def test_ordinary_usage_pops_up_nothing_and_a_runaway_agent_is_told_within_the_hour(data_dir, seed):
    if NOW.hour < 1:
        pytest.skip("the history's last day would be judged as today")
    rng = np.random.default_rng(seed)
    async with Editor(data_dir) as ed:
        await ed.record(*_ordinary_month(rng))
        # today so far: four ordinary answers, then the false spike: two long answers
        # of claude-opus-4-1 (12,000 in, 2,000 out: $0.33 each) in the same hour, which made
        # an hour of $0.65-1.11 against a usual busy hour of ~$0.09 and popped up before
        p = sm.PROFILES["reference"]
        _, cost, which = sm.calls_of_models(rng, p, 4, 0.0, 1.0)
        today = [
            rec(sm.MODELS[w][0], id=f"t{k}", costUsd=round(c, 6), timestamp=minutes_ago(40 - 10 * k))
            for k, (c, w) in enumerate(zip(cost.tolist(), which.tolist()))
        ]
        today += [rec("claude-opus-4-1", 12_000, 2_000, id=f"big{k}", timestamp=minutes_ago(2 - k)) for k in range(2)]
        await ed.record(*today)
        await ed.wait_change(lambda c: c["today"]["messages"] == 6)
        ins = await ed.request("usage/insights", {"from": (TODAY - dt.timedelta(days=29)).isoformat(), "to": T})
        assert ins["spikes"] == []
        await asyncio.sleep(0.3)  # an alert would be pushed within 0.1 s
        assert not [m for m in ed.messages if "Unusual" in m]

        # an agent stuck in a loop: claude-sonnet-4-5 answers of ordinary sizes, reported ten
        # at a time within this hour; the alert comes after a few dozen, long before the hour is out
        now = dt.datetime.now(dt.UTC)
        start = max(now.replace(minute=0, second=0, microsecond=0), now - dt.timedelta(minutes=50))
        _, loop_cost, _ = sm.calls_of_models(rng, p, 300, 0.0, 1.0, model=4)
        told_after = None
        for i in range(0, 300, 10):
            when = (start + (now - start) * (i / 300)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            batch = [
                rec("claude-sonnet-4-5", id=f"loop{i + k}", costUsd=round(c, 6), session="stuck", timestamp=when)
                for k, c in enumerate(loop_cost[i : i + 10].tolist())
            ]
            await ed.record(*batch)
            await ed.wait_change(lambda c, n=i + 16: c["today"]["messages"] == n)
            await asyncio.sleep(0.15)
            if any("Unusual spend" in m for m in ed.messages):
                told_after = i + 10
                break
        assert told_after is not None and told_after <= 50, told_after
        message = await ed.wait_message(lambda m: "Unusual spend" in m)
        hour = start.hour
        assert f"Unusual spend {hour:02d}:00-{(hour + 1) % 24:02d}:00 on {T}" in message
        assert re.search(r": \$\d+\.\d\d in \d+ messages against a typical busy hour of \$0\.\d\d;", message), message
        ins = await ed.request("usage/insights")
        spike = [s for s in ins["spikes"] if s["kind"] == "hour" and s["hour"] == hour][0]
        assert spike["calls"] >= told_after and spike["topSession"]["name"] == "stuck"


async def test_model_swap_saving_equals_price_table_arithmetic(data_dir):
    async with Editor(data_dir) as ed:
        # ten short answers of claude-opus-4-1: 2,000 input and 300 output tokens each
        #   opus ($15/M in, $75/M out):    10 x (2000 x 15e-6 + 300 x 75e-6) = $0.525
        #   sonnet-4-5 ($3/M in, $15/M out): 10 x (2000 x 3e-6  + 300 x 15e-6) = $0.105
        #   saving $0.42 = 42 credits at $0.01 a credit
        await ed.record(
            *[rec("claude-opus-4-1", 2000, 300, id=f"o{i}", timestamp=minutes_ago(30 + i)) for i in range(10)]
        )
        # a long answer is not a "short answer": not in the tip
        await ed.record(rec("claude-opus-4-1", 2000, 3000, id="long", timestamp=minutes_ago(20)))
        # gpt-4o -> gpt-4o-mini would save 4 x (1000 x 2.35e-6 + 100 x 9.4e-6) = $0.01316: too little to say
        await ed.record(*[rec("gpt-4o", 1000, 100, id=f"g{i}", timestamp=minutes_ago(10 + i)) for i in range(4)])
        # a RAG project: 10 prompts of 20,000 uncached input tokens on gpt-4.1 ($2/M in, $0.50/M cache read),
        # long answers; half of it as cache reads: 0.5 x 200,000 x 1.5e-6 = $0.15
        await ed.record(
            *[rec("gpt-4.1", 20_000, 800, project="rag", id=f"r{i}", timestamp=minutes_ago(5 + i)) for i in range(10)]
        )
        ins = await ed.request("usage/insights")
        tips = {t["kind"]: t for t in ins["tips"]}
        swap = tips["cheaperModel"]
        assert (swap["model"], swap["alternative"], swap["records"]) == ("claude-opus-4-1", "claude-sonnet-4-5", 10)
        assert swap["costUsd"] == pytest.approx(0.525) and swap["alternativeCostUsd"] == pytest.approx(0.105)
        assert swap["savingUsd"] == pytest.approx(0.42) and swap["savingCredits"] == pytest.approx(42)
        assert swap["how"].startswith("10 answers of claude-opus-4-1 had at most 400 output tokens")
        assert not [t for t in ins["tips"] if t.get("model") == "gpt-4o"]
        cache = tips["promptCaching"]
        assert cache["project"] == "rag" and cache["cacheReadShare"] == 0
        assert cache["savingUsd"] == pytest.approx(0.15) and cache["savingCredits"] == pytest.approx(15)
        assert [t["kind"] for t in ins["tips"]] == ["cheaperModel", "promptCaching"]  # biggest saving first


async def test_burn_rate_and_projection_through_the_protocol(data_dir):
    async with Editor(data_dir) as ed:
        # 5 credits 90 minutes ago (before the window), 3 + 4 in the last hour
        await ed.record(
            rec("gpt-4o", costUsd=0.05, timestamp=minutes_ago(90)),
            rec("gpt-4o", costUsd=0.03, timestamp=minutes_ago(40)),
            rec("gpt-4o", costUsd=0.04, billing="byok", timestamp=minutes_ago(20)),
        )
        ins = await ed.request("usage/insights")
        if NOW.hour < 2:
            pytest.skip("the records would fall on yesterday")
        burn, proj = ins["burnRate"], ins["projection"]
        assert burn["credits"] == pytest.approx(3) and burn["byokUsd"] == pytest.approx(0.04)
        assert burn["costUsd"] == pytest.approx(0.07)
        hours = proj["hoursElapsed"]
        assert proj["pace"]["credits"] == pytest.approx(8 / hours, rel=1e-3)
        left_today = 24 - hours
        assert proj["endOfDay"]["credits"] == pytest.approx(8 + 8 / hours * left_today, rel=1e-3)
        assert proj["endOfMonth"]["credits"] >= proj["endOfDay"]["credits"]
        sb = await ed.request("usage/statusBar")
        assert "Burn rate: 3.0 credits/h over the last hour" in sb["tooltip"]


async def test_insights_filter_errors_name_the_field(data_dir):
    from pygls.exceptions import JsonRpcException

    async with Editor(data_dir) as ed:
        with pytest.raises(JsonRpcException) as info:
            await ed.request("usage/insights", {"billing": "credits"})
        assert info.value.code == -32602 and "billing" in str(info.value)


async def test_bad_project_budget_key_is_named(data_dir):
    write_config(
        data_dir, '[budgets]\nweekly_credits = 5\n[budgets.projects."widget"]\nmonthly = 300\ndaily_credits = 2\n'
    )
    async with Editor(data_dir) as ed:
        await ed.request("usage/summary")
        assert any("budgets.weekly_credits: unknown key" in m for m in ed.messages)
        assert any("budgets.projects.widget.monthly: unknown budget" in m for m in ed.messages)
        ins = await ed.request("usage/insights")
        assert [(b["project"], b["budget"], b["limit"]) for b in ins["budgets"]] == [("widget", "daily_credits", 2.0)]


def test_cli_insights_human_and_json(data_dir):
    write_config(data_dir, "[budgets]\nmonthly_credits = 100\n")
    env_cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir)]
    subprocess.run(
        env_cmd + ["record", "--model", "claude-opus-4-1", "--input", "2000", "--output", "300", "--cost", "2.0"],
        check=True,
        capture_output=True,
    )
    for i in range(3):
        subprocess.run(
            env_cmd + ["record", "--model", "claude-opus-4-1", "--input", "2000", "--output", "300", "--id", f"c{i}"],
            check=True,
            capture_output=True,
        )
    out = subprocess.run(env_cmd + ["insights"], check=True, capture_output=True, text=True).stdout
    assert "This month: 0.0 of 100 credits left (216% used)" in out  # 200 + 3 x 5.25 = 215.75 credits
    assert "use claude-sonnet-4-5 instead of claude-opus-4-1 for short answers" in out
    js = subprocess.run(env_cmd + ["insights", "--json"], check=True, capture_output=True, text=True).stdout
    import json

    data = json.loads(js)
    assert set(data) >= {"budgets", "burnRate", "projection", "spikes", "tips"}
    swap = data["tips"][0]
    # reported $2.00 + 3 x $0.0525 against 4 x $0.0105 at sonnet's prices
    assert swap["savingUsd"] == pytest.approx(2.0 + 3 * 0.0525 - 4 * 0.0105)
    # the filters asked for are in the heading, as the reports show them
    narrowed = subprocess.run(env_cmd + ["insights", "--model", "claude-opus-4-1"], capture_output=True, text=True)
    assert narrowed.stdout.splitlines()[0].endswith(" · model=claude-opus-4-1")
