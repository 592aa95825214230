"""`usage-ls report weekly|monthly|blocks` and `--breakdown`, through the CLI as a user runs them.

Weeks and months add up to their days; weeks start on the configured day; periods follow the
configured time zone; the estimated 5-hour blocks equal ccusage 20.0.24 `blocks --json` on the
same Claude Code logs (the sample files and generated ones), and an active block's burn rate
and projection are ccusage's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

sys.path.insert(0, str(Path(__file__).parent / "importers"))

from ccusage_compare import FIXTURES, ccusage_binary, clean_env, import_json, write_config
from synth_logs import claude_logs

from usage_ls import blocks

SAMPLES = FIXTURES / "samples"
MODELS = ("claude-sonnet-4-5", "gpt-4.1-mini", "gemini-2.5-pro")


def _run(data_dir: Path, *args: str, stdin: str | None = None, env: dict | None = None):
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=600)


def _cli(data_dir: Path, *args: str, env: dict | None = None) -> str:
    done = _run(data_dir, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _json(data_dir: Path, *args: str, env: dict | None = None) -> dict:
    return json.loads(_cli(data_dir, *args, "--json", env=env))


def _record(data_dir: Path, records: list[dict]) -> None:
    lines = "\n".join(orjson.dumps(r).decode() for r in records) + "\n"
    done = _run(data_dir, "record", stdin=lines)
    assert done.returncode == 0 and f"recorded {len(records)}" in done.stdout, done.stderr


def _config(data_dir: Path, text: str) -> None:
    write_config(data_dir, text)


def _spread(days: int, start: str = "2026-10-20") -> list[dict]:
    """Records over `days` days: several a day at different hours, models, projects, billing."""
    base = dt.datetime.fromisoformat(start + "T00:00:00+00:00")
    out = []
    for d in range(days):
        if d % 9 == 4:
            continue  # a quiet day now and then
        for k in range(1 + d % 4):
            t = base + dt.timedelta(days=d, hours=(3 + 7 * k + d) % 24, minutes=13 * k)
            out.append(
                {
                    "id": f"r{d}-{k}",
                    "timestamp": t.isoformat().replace("+00:00", "Z"),
                    "model": MODELS[(d + k) % 3],
                    "project": ("widget", "api")[k % 2],
                    "billing": ("premium", "byok")[(d + k) % 2],
                    "inputTokens": 1000 + 37 * d + k,
                    "outputTokens": 200 + 11 * d,
                    "cacheReadTokens": 5000 * (k % 2),
                    "cacheWriteTokens": 300 * (d % 3),
                }
            )
    return out


TOKENS = ("messages", "inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "totalTokens")


def _assert_sums(periods: list[dict], daily: list[dict]) -> None:
    """Each period's totals (and each model's in it) are the sum of its days'."""
    for p in periods:
        inside = [d for d in daily if p["from"] <= d["date"] <= p["to"]]
        assert inside, p
        for key in TOKENS:
            assert p[key] == sum(d[key] for d in inside), (p["from"], key)
        for key in ("costUsd", "credits"):
            assert p[key] == pytest.approx(sum(d[key] for d in inside), abs=1e-9), (p["from"], key)
        models = {m for d in inside for m in d["byModel"]}
        assert set(p["byModel"]) == models
        for m in models:
            days_m = [d["byModel"][m] for d in inside if m in d["byModel"]]
            assert p["byModel"][m]["totalTokens"] == sum(x["totalTokens"] for x in days_m)
            assert p["byModel"][m]["messages"] == sum(x["messages"] for x in days_m)
            assert p["byModel"][m]["costUsd"] == pytest.approx(sum(x["costUsd"] for x in days_m), abs=1e-9)


def _fits(text: str) -> None:
    wide = [line for line in text.splitlines() if len(line) > 80]
    assert not wide, wide
    assert "\x1b[" not in text  # no colour when not on a terminal


def test_weekly_and_monthly_totals_are_the_sums_of_their_days(data_dir):
    _config(data_dir, 'timezone = "UTC"\n')
    _record(data_dir, _spread(45))  # 2026-10-20 .. 2026-12-03: three months, seven weeks
    span = ("--from", "2026-10-20", "--to", "2026-12-03")
    daily = _json(data_dir, "report", "daily", *span)["days"]
    weekly = _json(data_dir, "report", "weekly", *span)
    monthly = _json(data_dir, "report", "monthly", *span)
    assert weekly["weekStart"] == "monday"
    # every period of the range is there (charts need the zeros too), clipped to the range
    assert [w["week"] for w in weekly["weeks"]] == [
        "2026-10-19",
        "2026-10-26",
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
        "2026-11-23",
        "2026-11-30",
    ]
    assert weekly["weeks"][0]["from"] == "2026-10-20" and weekly["weeks"][0]["start"] == "2026-10-19"
    assert weekly["weeks"][-1]["to"] == "2026-12-03" and weekly["weeks"][-1]["end"] == "2026-12-06"
    assert [m["month"] for m in monthly["months"]] == ["2026-10", "2026-11", "2026-12"]
    assert monthly["months"][1]["from"] == "2026-11-01" and monthly["months"][1]["to"] == "2026-11-30"
    _assert_sums(weekly["weeks"], daily)
    _assert_sums(monthly["months"], daily)
    for result in (weekly, monthly):
        assert result["totals"]["totalTokens"] == sum(d["totalTokens"] for d in daily)
        assert result["totals"]["costUsd"] == pytest.approx(sum(d["costUsd"] for d in daily), abs=1e-9)
    # the filters apply as everywhere else
    byok = _json(data_dir, "report", "monthly", *span, "--billing", "byok", "--project", "api")
    byok_days = _json(data_dir, "report", "daily", *span, "--billing", "byok", "--project", "api")["days"]
    _assert_sums([m for m in byok["months"] if m["messages"]], byok_days)
    assert 0 < byok["totals"]["messages"] < monthly["totals"]["messages"]
    # tables: only the periods with usage, each with its models under --breakdown, in 80 columns
    table = _cli(data_dir, "report", "weekly", "--from", "2026-10-01", "--to", "2026-12-31", "--breakdown")
    _fits(table)
    assert "2026-10-19" in table and "2026-12-07" not in table and "2026-09-28" not in table
    assert "  gemini-2.5-pro" in table and table.rstrip().splitlines()[-1].startswith("Total")
    plain = _cli(data_dir, "report", "monthly", *span)
    _fits(plain)
    assert "2026-11" in plain and "gemini-2.5-pro" not in plain


def test_daily_breakdown_lists_each_days_models(data_dir):
    _config(data_dir, 'timezone = "UTC"\n')
    _record(data_dir, _spread(5))
    table = _cli(data_dir, "report", "daily", "--from", "2026-10-20", "--to", "2026-10-24", "--breakdown")
    _fits(table)
    lines = table.splitlines()
    day = lines.index(next(line for line in lines if line.startswith("2026-10-23")))
    assert lines[day + 1].startswith("  ") and lines[day + 2].startswith("  ")  # 2026-10-23 used two models
    # the JSON stays the protocol's usage/daily
    assert "days" in _json(data_dir, "report", "daily", "--from", "2026-10-20", "--breakdown")


def test_a_daily_report_over_a_year_lists_the_days_with_usage_in_80_columns(data_dir):
    """A year's `report daily` is the days with usage (not 365 rows of zeros; the JSON keeps
    every day for charts) and a total, in 80 columns; BYOK-only usage has no Credits column of
    zeros, and long model names stay whole in `report models`."""
    _config(data_dir, 'timezone = "UTC"\n')
    records = [r | {"billing": "byok", "model": "claude-sonnet-4-5-20250929"} for r in _spread(12)]
    records += [
        r | {"id": "o" + r["id"], "billing": "byok", "model": "claude-opus-4-1-20250805", "inputTokens": 123_456_789}
        for r in _spread(3)
    ]
    _record(data_dir, records)
    year = ("--from", "2026-01-01", "--to", "2026-12-31")
    used = [d for d in _json(data_dir, "report", "daily", *year)["days"] if d["messages"]]
    assert len(_json(data_dir, "report", "daily", *year)["days"]) == 365
    table = _cli(data_dir, "report", "daily", *year)
    _fits(table)
    rows = table.splitlines()[3:]
    assert [r.split()[0] for r in rows] == [d["date"] for d in used] + ["Total"]
    assert "Credits" not in table.splitlines()[1] and "sonnet-4-5" in table  # top models, without vendor and date
    models = _cli(data_dir, "report", "models", *year)
    _fits(models)
    assert "claude-sonnet-4-5-20250929" in models and "claude-opus-4-1-20250805" in models
    assert "Credits" not in models
    # Premium credits in the range: the column is back
    _record(data_dir, [_spread(1)[0] | {"id": "p1", "billing": "premium", "timestamp": "2026-11-02T10:00:00Z"}])
    assert "Credits" in _cli(data_dir, "report", "daily", *year).splitlines()[1]
    assert "no usage in this range" in _cli(data_dir, "report", "daily", "--from", "2026-01-01", "--to", "2026-01-31")
    # a day with unpriced messages beside priced ones: its cost is marked and said once below,
    # so the models still fit (they left the table when the cost read "$1.16 +2 unpriced")
    _record(
        data_dir,
        [
            _spread(1)[0] | {"id": f"u{i}", "model": "acme-coder-v2", "timestamp": f"2026-11-02T1{i}:00:00Z"}
            for i in range(2)
        ],
    )
    marked = _cli(data_dir, "report", "daily", *year)
    _fits(marked)
    assert marked.splitlines()[1].rstrip().endswith("Top models")
    day = next(line for line in marked.splitlines() if line.startswith("2026-11-02"))
    assert "$0.0060* " in day and "acme-coder" in day  # its top model: the unpriced one has more tokens
    total = next(line for line in marked.splitlines() if line.startswith("Total"))
    assert marked.splitlines()[-1].endswith(f"2 of {total.split()[1]}") and "unpriced" in marked.splitlines()[-1]
    # the interactions: 80 columns, each charged in its own currency, no User column for one user
    rows = _cli(data_dir, "report", "interactions", *year, "--limit", "500")
    _fits(rows)
    head = rows.splitlines()[1].split()
    assert head == ["Time", "Project", "Model", "Input", "Output", "Cache", "Charge"]
    assert " cr" in rows and "$" in rows and "claude-opus-4-1-20250805" in rows


def test_week_start_is_honoured(tmp_path):
    # Saturday 2026-11-21 and Sunday 2026-11-22: one week from Monday, two from Sunday
    records = [
        {
            "id": "sat",
            "timestamp": "2026-11-21T12:00:00Z",
            "model": "gpt-4.1-mini",
            "inputTokens": 10,
            "outputTokens": 1,
        },
        {
            "id": "sun",
            "timestamp": "2026-11-22T12:00:00Z",
            "model": "gpt-4.1-mini",
            "inputTokens": 20,
            "outputTokens": 2,
        },
    ]
    span = ("--from", "2026-11-15", "--to", "2026-11-28")
    monday, sunday = tmp_path / "monday", tmp_path / "sunday"
    _config(monday, 'timezone = "UTC"\n')
    _config(sunday, 'timezone = "UTC"\nweek_start = "Sunday"\n')
    for d in (monday, sunday):
        _record(d, records)
    weeks = {w["week"]: w["inputTokens"] for w in _json(monday, "report", "weekly", *span)["weeks"]}
    assert weeks == {"2026-11-09": 0, "2026-11-16": 30, "2026-11-23": 0}
    result = _json(sunday, "report", "weekly", *span)
    assert result["weekStart"] == "sunday"
    assert {w["week"]: w["inputTokens"] for w in result["weeks"]} == {"2026-11-15": 10, "2026-11-22": 20}
    assert "weeks start on Sunday" in _cli(sunday, "report", "weekly", *span)
    # a bad value is named, and the default used
    _config(tmp_path / "bad", 'week_start = "funday"\n')
    done = _run(tmp_path / "bad", "report", "weekly", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["weekStart"] == "monday"
    assert "week_start: expected a day name" in done.stderr and "'funday'" in done.stderr


def test_weeks_and_months_follow_the_configured_time_zone(tmp_path):
    # 2026-11-29 23:30 UTC is Sunday night in New York and Monday 30 November in Tokyo;
    # 2026-11-30 23:30 UTC is still November in New York and already December in Tokyo
    records = [
        {
            "id": "a",
            "timestamp": "2026-11-29T23:30:00Z",
            "model": "gpt-4.1-mini",
            "inputTokens": 100,
            "outputTokens": 1,
        },
        {"id": "b", "timestamp": "2026-11-30T23:30:00Z", "model": "gpt-4.1-mini", "inputTokens": 10, "outputTokens": 1},
    ]
    span = ("--from", "2026-11-01", "--to", "2026-12-31")
    seen = {}
    for tz in ("America/New_York", "Asia/Tokyo"):
        d = tmp_path / tz.replace("/", "_")
        _config(d, f'timezone = "{tz}"\n')
        _record(d, records)
        weeks = {w["week"]: w["inputTokens"] for w in _json(d, "report", "weekly", *span)["weeks"] if w["inputTokens"]}
        months = {m["month"]: m["inputTokens"] for m in _json(d, "report", "monthly", *span)["months"]}
        seen[tz] = (weeks, months)
    assert seen["America/New_York"] == ({"2026-11-23": 100, "2026-11-30": 10}, {"2026-11": 110, "2026-12": 0})
    assert seen["Asia/Tokyo"] == ({"2026-11-30": 110}, {"2026-11": 100, "2026-12": 10})


# -- estimated 5-hour blocks -------------------------------------------------------------------


@pytest.fixture
def ccusage():
    binary = ccusage_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("ccusage is not installed (scripts/setup.d/40-ccusage.sh); the comparison must run in CI")
        pytest.skip("the ccusage binary is not installed: run scripts/setup.d/40-ccusage.sh")
    return binary


def _ccusage_blocks(binary: Path, env: dict, tz: str, since: str | None = None) -> list[dict]:
    args = [str(binary), "blocks", "--json", "--offline", "--timezone", tz]
    if since:
        args += ["--since", since.replace("-", "")]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout)["blocks"]


SAME = ("id", "startTime", "endTime", "isGap", "isActive", "tokenCounts", "totalTokens")


def _assert_same_blocks(ours: list[dict], theirs: list[dict]) -> None:
    assert [b["id"] for b in ours] == [b["id"] for b in theirs]
    for o, t in zip(ours, theirs):
        for key in SAME:
            assert o[key] == t[key], (o["id"], key, o[key], t[key])
        assert sorted(o["models"]) == sorted(t["models"]), o["id"]
        # both price these models alike (see docs/importers.md); tokens are what must be exact
        assert o["costUSD"] == pytest.approx(t["costUSD"], rel=1e-6, abs=1e-9), o["id"]
        # ccusage also counts zero-usage lines (<synthetic> API errors), which record nothing here
        assert o["entries"] <= t["entries"]


def test_blocks_equal_ccusage_on_the_sample_logs(tmp_path, ccusage):
    data = tmp_path / "data"
    _config(data, 'timezone = "UTC"\n')
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=SAMPLES / "claude", CODEX_HOME=SAMPLES / "codex")
    import_json(data, "all", env=env)  # Codex's records are not Claude's blocks
    ours = _json(data, "report", "blocks", "--from", "2026-11-01", "--to", "2026-11-30", env=env)
    assert ours["estimated"] is True and ours["sessionHours"] == 5 and ours["tool"] == "claude-code"
    theirs = _ccusage_blocks(ccusage, env, "UTC")
    _assert_same_blocks(ours["blocks"], theirs)
    first, gap, second = ours["blocks"]
    assert (first["totalTokens"], gap["isGap"], second["totalTokens"]) == (26_462, True, 24_622)
    assert gap["startTime"] == "2026-11-19T14:00:11.300Z" and gap["endTime"] == "2026-11-20T14:30:02.000Z"
    # the one difference: ccusage's second block also holds the <synthetic> line at 14:33
    assert (second["entries"], theirs[2]["entries"]) == (2, 3)
    assert (second["actualEndTime"], theirs[2]["actualEndTime"]) == (
        "2026-11-20T14:31:40.000Z",
        "2026-11-20T14:33:00.000Z",
    )
    table = _cli(data, "report", "blocks", "--from", "2026-11-01", "--to", "2026-11-30", env=env)
    _fits(table)
    assert "Estimated 5-hour windows" in table and "2026-11-20 14:00" in table and "26,462" in table


def _replay_lines(root: Path) -> list[dict]:
    """Sidechain lines that replay a main-session message (same message id, new request id)."""
    lines = [json.loads(x) for p in root.rglob("*.jsonl") for x in p.read_text().splitlines()]
    parents = {ln["message"]["id"] for ln in lines if not ln.get("isSidechain") and ln.get("type") == "assistant"}
    return [ln for ln in lines if ln.get("isSidechain") and ln.get("message", {}).get("id") in parents]


def _strip_replays(root: Path) -> None:
    replays = {(r["message"]["id"], r["requestId"]) for r in _replay_lines(root)}
    for p in root.rglob("*.jsonl"):
        kept = []
        for text in p.read_text().splitlines():
            line = json.loads(text)
            if (line.get("message", {}).get("id"), line.get("requestId")) not in replays:
                kept.append(text + "\n")
        p.write_text("".join(kept))


@pytest.mark.parametrize(
    ("tz", "since"), [("UTC", None), ("Asia/Kolkata", "2026-11-18"), ("America/Los_Angeles", "2026-11-17")]
)
def test_blocks_equal_ccusage_on_generated_logs(tmp_path, ccusage, tz, since):
    # 60 sessions over a week (sessions across midnight, split responses, resumed sessions,
    # <synthetic> lines, five models); a half-hour zone; a range that starts mid-history, so
    # the blocks before it decide where its first block starts
    root = claude_logs(tmp_path / "claude", seed=5, sessions=60, days=7)
    _strip_replays(root)  # ccusage's blocks count these twice (next test)
    data = tmp_path / "data"
    _config(data, f'timezone = "{tz}"\n')
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    import_json(data, "claude-code", env=env)
    ours = _json(data, "report", "blocks", "--from", since or "2026-11-01", "--to", "2026-11-30", env=env)["blocks"]
    theirs = _ccusage_blocks(ccusage, env, tz, since)
    assert len(ours) > 12 and any(b["isGap"] for b in ours)
    _assert_same_blocks(ours, theirs)


def test_ccusage_blocks_count_sidechain_replays_that_its_daily_report_drops(tmp_path, ccusage):
    """A sidechain line replaying a main-session message under a new request id is one API
    call: ccusage's `daily` counts it once, its `blocks` twice. Ours count it once in both."""
    root = claude_logs(tmp_path / "claude", seed=5, sessions=60, days=7)
    replays = _replay_lines(root)
    assert len(replays) > 20
    replay_tokens = sum(
        sum(r["message"]["usage"][k] for k in ("input_tokens", "output_tokens", "cache_read_input_tokens"))
        + r["message"]["usage"]["cache_creation_input_tokens"]
        for r in replays
    )
    data = tmp_path / "data"
    _config(data, 'timezone = "UTC"\n')
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root)
    import_json(data, "claude-code", env=env)
    ours = _json(data, "report", "blocks", "--from", "2026-11-01", "--to", "2026-11-30", env=env)["blocks"]
    theirs = _ccusage_blocks(ccusage, env, "UTC")
    # the same blocks (a replay a second after a block's last call only moves the gap after it)
    assert [b["id"] for b in ours if not b["isGap"]] == [b["id"] for b in theirs if not b["isGap"]]
    their_daily = subprocess.run(
        [str(ccusage), "claude", "daily", "--json", "--offline", "--timezone", "UTC"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    daily_total = json.loads(their_daily.stdout)["totals"]["totalTokens"]
    our_total = sum(b["totalTokens"] for b in ours)
    assert our_total == daily_total
    assert sum(b["totalTokens"] for b in theirs) - our_total == replay_tokens


def _claude_line(mid: str, when: dt.datetime, usage: tuple[int, int, int, int]) -> bytes:
    line = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/widget",
        "sessionId": "5e55a0a0-0000-4000-8000-000000000001",
        "version": "2.0.14",
        "type": "assistant",
        "uuid": f"u-{mid}",
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "requestId": f"req_{mid}",
        "message": {
            "id": f"msg_{mid}",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "ok"}],
            "usage": {
                "input_tokens": usage[0],
                "output_tokens": usage[1],
                "cache_read_input_tokens": usage[2],
                "cache_creation_input_tokens": usage[3],
            },
        },
    }
    return orjson.dumps(line) + b"\n"


def test_an_active_blocks_burn_rate_and_projection_are_ccusages(tmp_path):
    # three calls in the last 100 minutes: the block is active; its burn rate is its tokens per
    # minute between the first and last call, its projection adds that rate until the block ends
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    calls = [
        (now - dt.timedelta(minutes=m), u)
        for m, u in ((100, (40, 900, 20_000, 3_000)), (61, (12, 400, 24_000, 0)), (1, (8, 1_500, 30_000, 500)))
    ]
    root = tmp_path / "claude" / "projects" / "-home-dev-widget"
    root.mkdir(parents=True)
    (root / "s.jsonl").write_bytes(b"".join(_claude_line(f"m{i}", t, u) for i, (t, u) in enumerate(calls)))
    data = tmp_path / "data"
    _config(data, 'timezone = "UTC"\n')
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=tmp_path / "claude")
    import_json(data, "claude-code", env=env)
    result = _json(data, "report", "blocks", env=env)
    (block,) = result["blocks"]
    total = sum(sum(u) for _, u in calls)
    minutes = 99.0
    assert block["isActive"] and block["totalTokens"] == total and block["entries"] == 3
    rate = block["burnRate"]
    assert rate["tokensPerMinute"] == pytest.approx(total / minutes, rel=1e-12)
    assert rate["tokensPerMinuteForIndicator"] == pytest.approx(sum(u[0] + u[1] for _, u in calls) / minutes)
    assert rate["costPerHour"] == pytest.approx(block["costUSD"] / minutes * 60)
    projection = block["projection"]
    start = dt.datetime.fromisoformat(block["startTime"].replace("Z", "+00:00"))
    asked = dt.datetime.fromisoformat(result["now"].replace("Z", "+00:00"))
    left = (start + dt.timedelta(hours=5) - asked).total_seconds() / 60
    assert projection["remainingMinutes"] == int(left + 0.5)
    assert projection["totalTokens"] == int(total + rate["tokensPerMinute"] * projection["remainingMinutes"] + 0.5)
    expected_cost = block["costUSD"] + rate["costPerHour"] / 60 * projection["remainingMinutes"]
    assert projection["totalCost"] == pytest.approx(expected_cost, abs=1e-9)
    table = _cli(data, "report", "blocks", env=env)
    _fits(table)
    assert "Active block (estimated)" in table and "projected by" in table and " active" in table
    binary = ccusage_binary()
    if binary is None:
        return
    (theirs,) = _ccusage_blocks(binary, env, "UTC")
    assert theirs["isActive"] and theirs["tokenCounts"] == block["tokenCounts"]
    for key in ("tokensPerMinute", "tokensPerMinuteForIndicator"):
        assert rate[key] == pytest.approx(theirs["burnRate"][key], rel=1e-12)
    assert rate["costPerHour"] == pytest.approx(theirs["burnRate"]["costPerHour"], rel=1e-6)
    # both round the minutes left; a minute may turn between the two commands
    assert abs(projection["remainingMinutes"] - theirs["projection"]["remainingMinutes"]) <= 1
    if projection["remainingMinutes"] == theirs["projection"]["remainingMinutes"]:
        assert projection["totalTokens"] == theirs["projection"]["totalTokens"]
        assert round(projection["totalCost"], 2) == pytest.approx(theirs["projection"]["totalCost"], abs=0.011)


# -- the block rules, on the pure module (a fixed "now") ------------------------------------------

H = 3_600_000
T0 = 1_795_000_000_000 - 1_795_000_000_000 % H  # an hour boundary


def _entries(stamps: list[int], tokens: int = 100, cost: float = 0.5) -> blocks.Entries:
    import numpy as np

    n = len(stamps)
    return blocks.Entries(
        ts=np.array(stamps, dtype=np.int64),
        tokens=np.array([[tokens] * n, [tokens] * n, [0] * n, [0] * n], dtype=np.int64),
        cost=np.full(n, cost),
        credits=np.full(n, np.nan),
        model=np.zeros(n, dtype=np.int64),
        names=["m"],
    )


def test_block_boundaries():
    five = 5 * H
    # starts at the UTC hour; a message exactly 5 h after the start still belongs to it
    got = blocks.compute(_entries([T0 + 20 * 60_000, T0 + five]))
    assert [(b.start, b.entries, b.gap) for b in got] == [(T0, 2, False)]
    # one millisecond later it starts the next block (no gap: 4h40m since the last message)
    got = blocks.compute(_entries([T0 + 20 * 60_000, T0 + five + 1]))
    assert [(b.start, b.entries, b.gap) for b in got] == [(T0, 1, False), (T0 + five, 1, False)]
    # more than 5 h of silence: a gap block from the last message + 5 h to the next message
    got = blocks.compute(_entries([T0, T0 + 2 * H, T0 + 2 * H + five + 1]))
    assert [(b.start, b.end, b.gap) for b in got] == [
        (T0, T0 + five, False),
        (T0 + 2 * H + five, T0 + 2 * H + five + 1, True),
        (T0 + 7 * H, T0 + 12 * H, False),
    ]
    # exactly 5 h of silence is not a gap
    got = blocks.compute(_entries([T0, T0 + five - 1, T0 + 2 * five - 1]))
    assert not any(b.gap for b in got)


def test_active_block_projection_with_a_fixed_now():
    got = blocks.compute(_entries([T0 + 10 * 60_000, T0 + 40 * 60_000]))  # 400 tokens, $1 in 30 minutes
    (block,) = got
    now = T0 + 60 * 60_000 + 29_999  # 3h 59m 30.001s left: rounds to 240 minutes
    data = block.json(now)
    assert data["isActive"] and data["burnRate"] == {
        "tokensPerMinute": 400 / 30,
        "tokensPerMinuteForIndicator": 400 / 30,
        "costPerHour": 2.0,
    }
    assert data["projection"] == {"totalTokens": 400 + 3200, "totalCost": 1.0 + 8.0, "remainingMinutes": 240}
    # 5 hours after the last message, or past its end, a block is over
    assert not block.is_active(T0 + 40 * 60_000 + 5 * H)
    assert block.json(T0 + 5 * H)["projection"] is None
    # one message: active, but no rate to project with (as ccusage)
    (single,) = blocks.compute(_entries([T0 + 10 * 60_000]))
    assert single.json(T0 + H)["isActive"] and single.json(T0 + H)["projection"] is None


def _day_columns(stamps: list[int], tz: dt.tzinfo) -> dict[str, object]:
    """{day: RecordColumns} of one record per stamp, as the ledger's day files hold them."""
    from usage_ls import days
    from usage_ls.store.columns import Dims, RecordColumns

    by_day: dict[str, list[dict]] = {}
    for i, ts in enumerate(stamps):
        day = days.day_of(ts, tz)
        record = {"id": f"r{i}", "date": day, "ts": ts, "model": "m", "project": "p", "user": "u"}
        record.update(billing="byok", costUsd=0.25, credits=None, costSource="computed")
        record.update(inputTokens=10 + i, outputTokens=5, cacheReadTokens=0, cacheWriteTokens=0, cacheWrite1hTokens=0)
        by_day.setdefault(day, []).append(record)
    models, projects, users = Dims(), Dims(), Dims()
    models.id("m")
    return {d: RecordColumns.build(rs, models, projects, users) for d, rs in by_day.items()}


def test_a_range_reads_back_to_a_pause_and_on_to_the_next_message():
    """The blocks of a range are those of the whole history that start in it: a block's start
    depends on the blocks before it (read back to a pause of over 5 hours), and a gap block
    starting in the range ends at the next message, however far after the range it is."""
    import random
    from zoneinfo import ZoneInfo

    from usage_ls import days
    from usage_ls.store.columns import Dims, RecordColumns

    tz = ZoneInfo("Asia/Kolkata")
    rng = random.Random(3)
    stamps, t = [], T0
    for _ in range(40):  # stretches of work: bursty days, or days on end without a 5-hour pause
        if rng.random() < 0.4:  # (steady work: each block then starts where the last one ended)
            for _ in range(rng.randint(100, 300)):
                t += rng.randint(5, 40) * 60_000
                stamps.append(t)
        else:
            for _ in range(rng.randint(3, 15)):
                t += rng.choice([rng.randint(1, 170) * 60_000] * 5 + [rng.randint(4, 12) * H])
                stamps.append(t)
        t += rng.choice([rng.randint(6, 40) * H, 9 * 24 * H])
    cols = _day_columns(stamps, tz)
    empty = RecordColumns.build([], Dims(), Dims(), Dims())
    loads = []

    def load(day: str):
        loads.append(day)
        return cols.get(day, empty)

    now = stamps[-1] + 24 * H
    whole = blocks.compute(blocks.Entries.of(list(cols.values()), ["m"]))
    first, last = days.day_of(stamps[0], tz), days.day_of(stamps[-1], tz)
    for start in rng.sample(days.day_range(first, last), 40):
        end = days.shift(start, rng.randint(0, 6))
        expected = [b for b in whole if start <= days.day_of(b.start, tz) <= end]
        loads.clear()
        got = blocks.report(load, start, end, tz, now, ["m"])
        assert [b.json(now) for b in got] == [b.json(now) for b in expected], (start, end)
        assert len(loads) < len(days.day_range(first, last)) or start == first


def _on_a_terminal(data_dir: Path, *args: str, **env: str) -> str:
    """The CLI's output when its stdout is a terminal (a pseudo-terminal)."""
    import pty

    leader, follower = pty.openpty()
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args]
    done = subprocess.run(cmd, stdout=follower, stderr=subprocess.PIPE, env={**os.environ, **env}, timeout=120)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other side is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert done.returncode == 0, done.stderr
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal(data_dir):
    _config(data_dir, 'timezone = "UTC"\n')
    _record(data_dir, _spread(5))
    args = ("report", "weekly", "--from", "2026-10-19", "--to", "2026-10-25", "--breakdown")
    coloured = _on_a_terminal(data_dir, *args, TERM="xterm")
    assert "\x1b[1mWeek" in coloured and "\x1b[2m  " in coloured  # bold header, dim model rows
    assert "\x1b[" not in _on_a_terminal(data_dir, *args, TERM="xterm", NO_COLOR="1")
    assert "\x1b[" not in _cli(data_dir, *args)  # a pipe
