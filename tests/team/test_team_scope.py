"""`scope: "team"` beyond the rollup's totals: interactions, sessions, attribution, insights,
weeks and months, through the language server's protocol and the CLI, against one ledger
holding every record once; and the sync state in the status-bar tooltip."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from raw_server import RawServer
from team_helpers import cli, machine, record, rounded, team_answer, three_machines

from usage_ls.service import Usage
from usage_ls.team import push

SPAN = {"from": "2026-11-10", "to": "2026-11-20"}
FEATURES = ("claude-code", "claude-code agent=code-reviewer query=subagent", "codex", None)


def rich(prefix: str, n: int, day: str, big: bool = False, **fields) -> list[dict]:
    """Records with sessions and features; `big` ones cost dollars each (a spike day)."""
    models = ("claude-sonnet-4-5", "gpt-4.1-mini", "no-such-model-x")
    out = []
    for i in range(n):
        rec = {
            "id": f"{prefix}-{i}",
            "timestamp": f"{day}T{8 + i % 12:02d}:{(7 * i) % 60:02d}:{i % 60:02d}Z",
            "model": "claude-sonnet-4-5" if big else models[i % 3],
            "inputTokens": (200_000 if big else 900) + 13 * i,
            "outputTokens": 100 + 3 * i,
            "cacheReadTokens": 40 * (i % 5),
            "cacheWriteTokens": 10 * (i % 3),
            "project": "widget" if big else ("widget", "docs")[i % 2],
            "session": f"{prefix}-s{i % 4}" if i % 5 else None,
            **fields,
        }
        if FEATURES[i % 4] is not None:
            rec["feature"] = FEATURES[i % 4]
        out.append({k: v for k, v in rec.items() if v is not None})
    return out


@pytest.fixture(scope="module")
def team(cluster, tmp_path_factory):
    """Alice's laptop and desktop (sharing 12 records: the same ids on both), Bob's machine,
    all pushed to one database; and `union`: one ledger with every record once."""
    team = three_machines(cluster, tmp_path_factory.mktemp("team"), "scope")
    pg, laptop, desktop, bob, union = (team[k] for k in ("pg", "laptop", "desktop", "bob", "union"))
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    history = [
        r for k in range(30) for r in rich(f"h{k}", 2, f"2026-10-{17 + k:02d}" if k < 15 else f"2026-11-{k - 14:02d}")
    ]
    shared = rich("shared", 12, "2026-11-15")
    own = {
        laptop: history + shared + rich("lap", 30, "2026-11-17"),
        desktop: shared + rich("desk", 20, "2026-11-18"),
        bob: rich("bob", 25, "2026-11-16", big=True)
        + [{**rich("now", 1, "2026-01-01")[0], "timestamp": now.isoformat()}],
    }
    for d, recs in own.items():
        record(d, recs)
    record(union, history + shared + own[laptop][len(history) + 12 :] + own[desktop][12:])
    record(union, [{**r, "user": "bob"} for r in own[bob]])
    for d in (laptop, desktop, bob):
        push.push(d, Usage(data_dir=d).tz, pg)
    import psycopg

    with psycopg.connect(pg) as conn:  # schema version 3: interactions page by time
        assert conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'records_ts'").fetchone()[0] == 1
    return team


def _rows(answer: dict) -> list[dict]:
    return sorted(rounded(answer["rows"]), key=lambda r: r["id"])


def test_every_scope_team_method_adds_up_once_through_the_protocol(team):
    truth = Usage(data_dir=team["union"]).open()
    server = RawServer(team["desktop"])
    try:
        server.initialize()

        def ask(method: str, params: dict) -> dict:
            return team_answer(server, method, params)

        # interactions: every record once (the 12 shared ones too), in the local shape, paged and sorted
        whole = ask("usage/interactions", {**SPAN, "limit": 10_000})
        want = truth.interactions({**SPAN, "limit": 10_000})
        assert whole["total"] == want["total"] == 6 * 2 + 12 + 30 + 20 + 25  # history: 11-10 .. 11-15
        assert _rows(whole) == _rows(want)
        for params in (
            {"sort": "-costUsd", "offset": 5, "limit": 7},
            {"sort": "project", "limit": 15, "user": "alice"},
            {"sort": "-totalTokens", "limit": 10, "billing": "premium", "model": "claude-sonnet-4-5"},
        ):
            got, local = ask("usage/interactions", {**SPAN, **params}), truth.interactions({**SPAN, **params})
            column = params["sort"].lstrip("-")
            assert got["total"] == local["total"]
            assert [r[column] for r in got["rows"]] == [r[column] for r in local["rows"]], params
        one = ask("usage/interactions", {**SPAN, "session": "shared-s1"})
        assert one["total"] == truth.interactions({**SPAN, "session": "shared-s1"})["total"] == 2

        # sessions: every conversation once, the page in the local order
        for params in (
            {"limit": 100},
            {"sort": "-costUsd", "limit": 5, "offset": 2},
            {"sort": "messages", "user": "bob"},
        ):
            assert rounded(ask("usage/sessions", {**SPAN, **params})) == rounded(truth.sessions({**SPAN, **params}))

        # where the money went: agents, query sources
        for params in ({}, {"by": "agent"}, {"tool": "claude-code", "user": "alice"}):
            assert rounded(ask("usage/attribution", {**SPAN, **params})) == rounded(
                truth.attribution({**SPAN, **params})
            )

        # by tool: from the records (test_team_by_tool.py); the insights are not asked by tool
        refused = server.request("usage/insights", {**SPAN, "scope": "team", "tool": "codex"}, timeout=60)
        assert refused["error"]["code"] == -32602 and "tool" in refused["error"]["message"], refused
        split = server.request("usage/summary", {**SPAN, "scope": "team", "byTool": True}, timeout=60)
        assert split["error"]["code"] == -32602 and "byTool" in split["error"]["message"], split

        # insights: Bob's big day is a spike against the team's previous 28 days; the burn rate
        # and today's projection count his record of ten minutes ago
        got = ask("usage/insights", SPAN)
        local = truth.insights(SPAN)
        assert got["scope"] == "team" and got["budgets"] == []
        spikes = [
            (s["date"], round(s["value"], 6), round(s["median"], 6), s["topProject"]["name"]) for s in got["spikes"]
        ]
        assert spikes == [
            (s["date"], round(s["value"], 6), round(s["median"], 6), s["topProject"]["name"]) for s in local["spikes"]
        ]
        assert spikes and spikes[0][0] == "2026-11-16"
        assert got["spikes"][0]["topUser"]["name"] == "bob" and got["spikes"][0]["topUser"]["share"] == 1.0
        assert rounded(got["tips"]) == rounded(local["tips"])
        now = ask("usage/insights", {})
        here = truth.insights({})
        assert now["burnRate"]["costUsd"] > 0
        for key in ("credits", "costUsd", "byokUsd"):
            assert round(now["burnRate"][key], 9) == round(here["burnRate"][key], 9)
            assert round(now["projection"]["today"][key], 9) == round(here["projection"]["today"][key], 9)
            assert round(now["projection"]["monthToDate"][key], 9) == round(here["projection"]["monthToDate"][key], 9)

        bar = server.request("usage/statusBar", {})["result"]["tooltip"]
        assert "**Team sync**" in bar and "0 record(s) queued" in bar and "last push: " in bar
        assert "last push: never" not in bar
    finally:
        server.close()
        truth.close()


def test_cli_reports_with_team(team, main):
    truth = Usage(data_dir=team["union"]).open()
    span = ["--from", SPAN["from"], "--to", SPAN["to"]]
    try:
        for what, kind in (("weekly", "week"), ("monthly", "month")):
            got = json.loads(main(team["bob"], "report", what, "--team", "--json", *span).stdout)
            assert rounded(got) == rounded(truth.periods(kind, SPAN)), what
        assert rounded(
            json.loads(main(team["bob"], "report", "daily", "--breakdown", "--team", "--json", *span).stdout)
        )
        rows = json.loads(
            main(team["bob"], "report", "interactions", "--team", "--json", "--limit", "500", *span).stdout
        )
        assert _rows(rows) == _rows(truth.interactions({**SPAN, "limit": 500}))
        sessions = json.loads(main(team["bob"], "report", "sessions", "--team", "--json", *span).stdout)
        assert rounded(sessions) == rounded(truth.sessions({**SPAN, "limit": 10_000}))
        table = main(team["laptop"], "report", "weekly", "--breakdown", "--team", *span).stdout
        assert "scope=team" in table and "gpt-4.1-mini" in table
        ins = json.loads(main(team["laptop"], "insights", "--team", "--json", *span).stdout)
        assert ins["scope"] == "team" and ins["spikes"][0]["date"] == "2026-11-16"
        out = team["bob"] / "team.html"  # usage/dashboard with scope team: a snapshot of the team's page
        assert main(team["bob"], "dashboard", "--team", "--out", str(out), *span).returncode == 0
        html = out.read_text()
        boot = json.loads(html.split('id="usage-data">', 1)[1].split("</script>", 1)[0])
        assert boot["scope"] == "team" and boot["filter"]["billing"] == "premium"
        premium = {**SPAN, "billing": "premium"}
        assert rounded(boot["data"]["summary"]) == rounded(truth.summary(premium))
        assert sorted(boot["data"]["options"]["users"]) == ["alice", "bob"]
        assert boot["data"]["interactions"]["total"] == truth.interactions(premium)["total"]
    finally:
        truth.close()
    refused = main(team["bob"], "report", "limits", "--team")
    assert refused.returncode == 2 and "--team: does not apply to `report limits`" in refused.stderr


def test_the_tooltip_says_when_the_last_push_failed_without_the_password(tmp_path):
    d = machine(tmp_path, "away", "alice", "postgresql://alice:Pw-x9Secret@127.0.0.1:1/none?connect_timeout=2")
    record(d, rich("away", 3, "2026-11-16"))
    failed = cli(d, "sync", check=False)
    assert failed.returncode == 1 and "Pw-x9Secret" not in failed.stderr
    server = RawServer(d)
    try:
        server.initialize()
        tip = server.request("usage/statusBar", {})["result"]["tooltip"]
    finally:
        server.close()
    assert "3 record(s) queued" in tip and "last push: never" in tip
    assert "last error" in tip and "cannot connect to the team database" in tip and "Pw-x9Secret" not in tip


def test_an_unreachable_database_is_said_at_once_to_the_next_questions(monkeypatch):
    """A page asks about ten questions; each would wait for the connect timeout of a database
    that does not answer: a failed connect is remembered for a few seconds."""
    from usage_ls.queries import Filter
    from usage_ls.team import db, query

    tries = []

    def refuse(conninfo):
        tries.append(conninfo)
        raise db.TeamError("cannot connect to the team database: timeout expired")

    monkeypatch.setattr(db, "connect", refuse)
    reader = query.Reader("host=10.255.255.1 password=Pw-x9Secret")
    for _ in range(5):
        with pytest.raises(db.TeamError, match="cannot connect to the team database: timeout expired"):
            query.summary(reader, Filter("2026-11-01", "2026-11-30"))
    assert len(tries) == 1
    reader.down = (reader.down[0] - query.Reader.DOWN_S, reader.down[1])  # later: tried again
    with pytest.raises(db.TeamError):
        query.summary(reader, Filter("2026-11-01", "2026-11-30"))
    assert len(tries) == 2
