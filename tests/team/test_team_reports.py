"""`scope: "team"` / `--team` as the local answers: hour spikes and the re-pricing tips in team
insights, `report session <id> --team`, and every report subcommand and query method against
one ledger holding every record once (two machines of one user sharing records, and a
colleague, pushed into one PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from raw_server import RawServer
from team_helpers import record, rounded, three_machines

from usage_ls import days
from usage_ls.service import Usage
from usage_ls.team import push

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)
SPAN = {"from": (YESTERDAY - dt.timedelta(days=27)).isoformat(), "to": TODAY.isoformat()}


def _at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}Z"


def history(k: int) -> list[dict]:
    """Day YESTERDAY - k: three busy hours of two cheap answers each (an ordinary day)."""
    day = YESTERDAY - dt.timedelta(days=k)
    return [
        {
            "id": f"hist-{k}-{h}-{j}",
            "timestamp": _at(day, h, 5 + 20 * j),
            "model": "gpt-4.1-mini",
            "inputTokens": 2_000 + 100 * j,
            "outputTokens": 300,
            "project": ("widget", "docs")[k % 2],
            "session": f"hist-{k}",
            "feature": "codex",
        }
        for h in (9, 13, 16)
        for j in range(2)
    ]


def burst(prefix: str, n: int, session: str, project: str, day: dt.date = YESTERDAY, hour: int = 10) -> list[dict]:
    """Long uncached prompts to Sonnet with short answers, in one hour: an hour spike, and
    what the cheaper-model and prompt-caching tips are about."""
    return [
        {
            "id": f"{prefix}-{i}",
            "timestamp": _at(day, hour, (3 * i) % 60, i % 60),
            "model": "claude-sonnet-4-5",
            "inputTokens": 50_000 + 517 * i,
            "outputTokens": 150 + 10 * i,
            "cacheReadTokens": 1_000 * (i % 3),
            "project": project,
            "session": session,
            "feature": ("claude-code", "claude-code agent=code-reviewer query=subagent")[i % 2],
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def team(cluster, tmp_path_factory):
    """Alice's laptop and desktop (4 records on both: the same ids) and Bob's machine pushed
    to one database; `union`: one ledger with every record once, Bob's under his name."""
    team = three_machines(cluster, tmp_path_factory.mktemp("reports"), "reports", 'timezone = "UTC"\n')
    laptop, desktop, bob, union = (team[k] for k in ("laptop", "desktop", "bob", "union"))
    alice_burst = burst("burst", 16, "burst", "widget")
    earlier = burst("early", 2, "burst", "widget", day=YESTERDAY - dt.timedelta(days=1), hour=20)
    own = {
        laptop: [r for k in range(1, 21, 2) for r in history(k)] + alice_burst[:8] + earlier,
        desktop: alice_burst[:4] + alice_burst[8:],
        bob: [{**r, "id": "b" + r["id"]} for k in range(2, 21, 2) for r in history(k)]
        + burst("bob", 6, "bob-burst", "docs")
        # prompts past Sonnet's 200k-token tier, in the hour and project of six below it
        + [{**r, "inputTokens": 250_000 + r["inputTokens"]} for r in burst("long", 2, "bob-burst", "docs")],
    }
    for d, recs in own.items():
        record(d, recs)
    record(union, own[laptop] + alice_burst[8:])
    record(union, [{**r, "user": "bob"} for r in own[bob]])
    for d in (laptop, desktop, bob):
        push.push(d, Usage(data_dir=d).tz, team["pg"])
    return team


def _spikes(answer: dict) -> list[tuple]:
    return [
        (
            s["kind"],
            s["date"],
            s.get("hour"),
            s.get("start"),
            s.get("calls"),
            round(s["value"], 9),
            round(s["median"], 9),
            round(s["threshold"], 9),
            *(rounded(s[k]) for k in ("topModel", "topProject", "topSession")),
            s["unit"],
        )
        for s in answer["spikes"]
    ]


def test_team_insights_have_hour_spikes_and_the_repricing_tips_of_every_machine(team):
    truth = Usage(data_dir=team["union"]).open()
    server = RawServer(team["bob"])
    try:
        server.initialize()
        for params in (
            {},
            {"user": "alice"},
            {"model": "claude-sonnet-4-5"},
            {"project": "docs"},
            {"billing": "premium"},
        ):
            got = server.request("usage/insights", {**SPAN, **params, "scope": "team"}, timeout=60)["result"]
            local = truth.insights({**SPAN, **params})
            assert _spikes(got) == _spikes(local), params
            assert rounded(got["tips"]) == rounded(local["tips"]), params
        got = server.request("usage/insights", {**SPAN, "scope": "team"}, timeout=60)["result"]
    finally:
        server.close()
        truth.close()
    # yesterday's 10 o'clock: Alice's 16 answers (4 of them pushed by both her machines, counted
    # once) and Bob's 8, against the team's ordinary hours
    hour = [s for s in got["spikes"] if s["kind"] == "hour"]
    assert [(s["date"], s["hour"], s["calls"]) for s in hour] == [(YESTERDAY.isoformat(), 10, 24)]
    assert hour[0]["topUser"]["name"] == "bob" and hour[0]["topSession"]["name"] == "bob-burst"  # his long prompts
    day = [s for s in got["spikes"] if s["kind"] == "day"]
    assert [s["date"] for s in day] == [YESTERDAY.isoformat()] and day[0]["topSession"]["name"] == "bob-burst"
    kinds = {(t["kind"], t.get("model") or t.get("project")) for t in got["tips"]}
    assert {("cheaperModel", "claude-sonnet-4-5"), ("promptCaching", "widget"), ("promptCaching", "docs")} <= kinds
    swap = next(t for t in got["tips"] if t["kind"] == "cheaperModel")
    assert swap["records"] == 16 + 2 + 8 and swap["alternative"] == "claude-haiku-4-5"


def test_insights_text_with_team(team, main):
    text = main(team["desktop"], "insights", "--team", "--from", SPAN["from"], "--to", SPAN["to"]).stdout
    assert "scope=team" in text and "not in the team's insights: [budgets] are this machine's" in text
    assert "use claude-haiku-4-5 instead of claude-sonnet-4-5 for short answers" in text
    assert "cache the long prompts of project widget" in text
    assert f"Unusual spend 10:00-11:00 on {YESTERDAY.isoformat()}" in text and ", by bob (" in text


def test_the_dashboards_team_view_has_the_hour_spikes_and_tips(team, main):
    out = team["laptop"] / "team.html"
    span = ["--from", SPAN["from"], "--to", SPAN["to"]]
    assert main(team["laptop"], "dashboard", "--team", "--out", str(out), *span).returncode == 0
    boot = json.loads(out.read_text().split('id="usage-data">', 1)[1].split("</script>", 1)[0])
    assert boot["scope"] == "team"
    shown = boot["data"]["insights"]
    truth = Usage(data_dir=team["union"]).open()
    try:
        local = truth.insights({**SPAN, "billing": boot["filter"]["billing"]})
    finally:
        truth.close()
    assert _spikes(shown) == _spikes(local) and rounded(shown["tips"]) == rounded(local["tips"])
    assert {s["kind"] for s in shown["spikes"]} == {"day", "hour"}
    assert {t["kind"] for t in shown["tips"]} == {"cheaperModel", "promptCaching", "spikeSource"}


def test_report_session_with_team_is_every_machines_records_once(team, main):
    """Bob's machine has none of Alice's session: with --team it shows the session as one
    ledger holding her laptop's and desktop's records once; text and JSON."""
    span = ["--from", (YESTERDAY - dt.timedelta(days=1)).isoformat(), "--to", TODAY.isoformat()]
    want = json.loads(main(team["union"], "report", "session", "burst", "--json", *span).stdout)
    got = json.loads(main(team["bob"], "report", "session", "burst", "--team", "--json", *span).stdout)
    assert rounded(got) == rounded(want)
    assert got["messages"] == 18 and got["features"] == ["claude-code"] and got["projects"] == ["widget"]
    alone = json.loads(main(team["laptop"], "report", "session", "burst", "--json", *span).stdout)
    assert alone["messages"] == 10  # the laptop's own ledger: 8 of the hour and the 2 earlier ones
    text = main(team["bob"], "report", "session", "burst", "--team", *span).stdout
    assert "scope=team" in text and "claude-sonnet-4-5" in text and "18" in text
    default = json.loads(main(team["desktop"], "report", "session", "burst", "--team", "--json").stdout)
    assert default["messages"] == 18 and default["to"] == days.today(Usage(data_dir=team["desktop"]).tz)
    nothing = json.loads(main(team["bob"], "report", "session", "no-such-session", "--team", "--json").stdout)
    assert nothing["models"] == [] and nothing["messages"] == 0


def _same(got: dict, want: dict, what: str) -> None:
    if "rows" in want:  # interactions: ties of the sort are broken by id in the team scope
        got, want = (
            {**a, "rows": sorted(rounded(a["rows"]), key=lambda r: (r["timestamp"], r["id"]))} for a in (got, want)
        )
    assert rounded(got) == rounded(want), what


def test_every_report_and_query_method_with_team_matches_one_ledger(team, main):
    span = ["--from", SPAN["from"], "--to", SPAN["to"]]
    for what in ("today", "daily", "weekly", "monthly", "models", "projects", "interactions", "sessions", "agents"):
        for extra in ([], ["--user", "alice"], ["--model", "claude-sonnet-4-5", "--billing", "premium"]):
            args = ["report", what, "--json", *span, *extra] + (["--limit", "500"] if what == "interactions" else [])
            want = json.loads(main(team["union"], *args).stdout)
            got = main(team["bob"], *args, "--team")
            assert got.returncode == 0, got.stderr
            _same(json.loads(got.stdout), want, f"{what} {extra}")
    for what in ("daily", "weekly", "monthly"):
        want = json.loads(main(team["union"], "report", what, "--breakdown", "--json", *span).stdout)
        assert rounded(
            json.loads(main(team["bob"], "report", what, "--breakdown", "--team", "--json", *span).stdout)
        ) == (rounded(want)), what
    for extra in (["--tool", "all"], ["--tool", "claude-code", "--user", "alice"], ["--tool", "codex"]):
        answers = [
            json.loads(main(d, "report", "blocks", "--json", *span, *extra, *team_flag).stdout)
            for d, team_flag in ((team["union"], []), (team["bob"], ["--team"]))
        ]
        for a in answers:
            del a["now"]  # (each its own)
        assert answers[0]["blocks"] and rounded(answers[1]) == rounded(answers[0]), extra
    for what in ("today", "daily", "weekly", "monthly", "blocks", "models", "projects", "interactions", "sessions"):
        table = main(team["bob"], "report", what, "--team", *span)  # the tables too
        assert table.returncode == 0 and "scope=team" in table.stdout.splitlines()[0], (what, table.stderr)
    agents = main(team["bob"], "report", "agents", "--team", *span)
    assert agents.returncode == 0 and "code-reviewer" in agents.stdout
    refused = main(team["bob"], "report", "limits", "--team")
    assert refused.returncode == 2 and "--team: does not apply to `report limits`" in refused.stderr

    truth = Usage(data_dir=team["union"]).open()
    server = RawServer(team["desktop"])
    try:
        server.initialize()
        for method, name in (
            ("usage/summary", "summary"),
            ("usage/tokenSplit", "token_split"),
            ("usage/projects", "projects"),
            ("usage/users", "users"),
            ("usage/daily", "daily"),
            ("usage/interactions", "interactions"),
            ("usage/sessions", "sessions"),
            ("usage/attribution", "attribution"),
        ):
            for params in ({}, {"user": "bob"}, {"project": "widget", "billing": "premium"}):
                ask = {**SPAN, **params, **({"limit": 1000} if name in ("interactions", "sessions") else {})}
                answer = server.request(method, {**ask, "scope": "team"}, timeout=60)
                assert "result" in answer, answer
                _same(answer["result"], getattr(truth, name)(ask), f"{method} {params}")
        for method in ("usage/limits", "usage/limitHistory"):
            refused = server.request(method, {**SPAN, "scope": "team"}, timeout=60)
            assert refused["error"]["code"] == -32602 and refused["error"]["message"].startswith("scope")
    finally:
        server.close()
        truth.close()
