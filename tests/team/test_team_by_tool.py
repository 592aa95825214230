"""`scope: "team"` by tool: the `tool` filter and `byTool` over the team database's records,
through the language server's protocol and the CLI, against one ledger holding every record
once; and what a member's login sees (its own records) against a reader's (everyone's)."""

from __future__ import annotations

import json

import psycopg
from raw_server import RawServer
from team_helpers import machine, record, rounded, team_answer, three_machines

from usage_ls.service import Usage
from usage_ls.team import push

SPAN = {"from": "2026-10-28", "to": "2026-11-20"}  # two months, four weeks
FEATURES = ("claude-code", "claude-code agent=code-reviewer", "codex", None, "agent=x query=main", "codex-cli")
TOOLS = ("claude-code", "codex", "codex-cli", "no-such-tool")


def mixed(prefix: str, n: int, day: str, **fields) -> list[dict]:
    """Records of several tools (and none: no feature, or a first word that is key=value)."""
    models = ("claude-sonnet-4-5", "gpt-4.1-mini", "no-such-model-x")
    out = []
    for i in range(n):
        rec = {
            "id": f"{prefix}-{i}",
            "timestamp": f"{day}T{8 + i % 12:02d}:{(7 * i) % 60:02d}:{i % 60:02d}Z",
            "model": models[i % 3],
            "inputTokens": 900 + 13 * i,
            "outputTokens": 100 + 3 * i,
            "cacheReadTokens": 40 * (i % 5),
            "cacheWriteTokens": 10 * (i % 3),
            "project": ("widget", "docs")[i % 2],
            "session": f"{prefix}-s{i % 4}",
            **fields,
        }
        if FEATURES[i % len(FEATURES)] is not None:
            rec["feature"] = FEATURES[i % len(FEATURES)]
        out.append(rec)
    return out


def _team(cluster, tmp):
    """Alice's laptop and desktop (sharing 12 records), Bob's machine, pushed to one database;
    `union`: one ledger with every record once."""
    team = three_machines(cluster, tmp, "bytool")
    laptop, desktop, bob, union = (team[k] for k in ("laptop", "desktop", "bob", "union"))
    shared = mixed("shared", 12, "2026-11-15")
    own = {
        laptop: shared + mixed("lap", 30, "2026-10-30") + mixed("lap2", 18, "2026-11-17"),
        desktop: shared + mixed("desk", 20, "2026-11-18"),
        bob: mixed("bob", 25, "2026-11-16") + mixed("bob2", 9, "2026-10-29"),
    }
    for d, recs in own.items():
        record(d, recs)
    record(union, own[laptop] + own[desktop][12:])
    record(union, [{**r, "user": "bob"} for r in own[bob]])
    for d in (laptop, desktop, bob):
        push.push(d, Usage(data_dir=d).tz, team["pg"])
    return team


def test_team_answers_by_tool_equal_one_ledgers_through_the_protocol(cluster, tmp_path, main):
    team = _team(cluster, tmp_path)
    truth = Usage(data_dir=team["union"]).open()
    server = RawServer(team["desktop"])
    try:
        server.initialize()

        def ask(method: str, params: dict) -> dict:
            return team_answer(server, method, params)

        assert ask("usage/tools", SPAN) == truth.tools(SPAN) == {"tools": ["claude-code", "codex", "codex-cli"]}
        assert (
            ask("usage/tools", {"from": "2026-10-28", "to": "2026-10-31"})["tools"]
            == truth.tools({"from": "2026-10-28", "to": "2026-10-31"})["tools"]
        )
        for tool in TOOLS:
            for extra in ({}, {"user": "bob"}, {"project": "docs", "billing": "premium"}, {"model": "gpt-4.1-mini"}):
                p = {**SPAN, "tool": tool, **extra}
                assert rounded(ask("usage/summary", p)) == rounded(truth.summary(p)), p
                assert rounded(ask("usage/tokenSplit", p)) == rounded(truth.token_split(p)), p
                assert rounded(ask("usage/projects", p)) == rounded(truth.projects(p)), p
                assert rounded(ask("usage/users", p)) == rounded(truth.users(p)), p
                assert rounded(ask("usage/daily", p)) == rounded(truth.daily(p)), p
            p = {**SPAN, "tool": tool}
            got = ask("usage/interactions", {**p, "limit": 10_000})
            want = truth.interactions({**p, "limit": 10_000})
            assert sorted(r["id"] for r in got["rows"]) == sorted(r["id"] for r in want["rows"]), tool
            assert rounded(ask("usage/sessions", p)) == rounded(truth.sessions(p)), tool
        codex = ask("usage/summary", {**SPAN, "tool": "codex"})
        assert codex["messages"] == truth.interactions({**SPAN, "tool": "codex"})["total"] > 0
        # (codex-cli is its own tool: "codex" is not a prefix of it)
        assert codex["messages"] < ask("usage/summary", SPAN)["messages"]

        # byTool: each day's (week's, month's) tools, records without one as "(no tool)"
        for p in ({**SPAN, "byTool": True}, {**SPAN, "byTool": True, "user": "alice", "tool": "codex"}):
            assert rounded(ask("usage/daily", p)) == rounded(truth.daily(p)), p
        busy = next(d for d in ask("usage/daily", {**SPAN, "byTool": True})["days"] if d["date"] == "2026-11-16")
        assert set(busy["byTool"]) == {"claude-code", "codex", "codex-cli", "(no tool)"}

        # still refused, naming the field: insights by tool, byTool where nothing is split
        for method, params, field in (
            ("usage/insights", {**SPAN, "tool": "codex"}, "tool"),
            ("usage/summary", {**SPAN, "byTool": True}, "byTool"),
            ("usage/daily", {**SPAN, "byTool": "yes"}, "byTool"),
        ):
            refused = server.request(method, {**params, "scope": "team"}, timeout=60)
            assert refused["error"]["code"] == -32602 and field in refused["error"]["message"], refused

        # the Team page through the language server (built off its loop, usage/tools too):
        # the team's tools in the picker, the page's numbers those of the tool chosen
        page = ask("usage/dashboard", {**SPAN, "tool": "codex", "billing": "all"})
        boot = json.loads(page["html"].split('id="usage-data">', 1)[1].split("</script>", 1)[0])
        assert boot["scope"] == "team" and boot["filter"]["tool"] == "codex"
        assert boot["data"]["options"]["tools"] == ["claude-code", "codex", "codex-cli"]
        flt = {**SPAN, "tool": "codex", "billing": boot["filter"]["billing"]}
        assert rounded(boot["data"]["summary"]) == rounded(truth.summary(flt))
        assert rounded(boot["data"]["daily"]) == rounded(truth.daily(flt))
        assert boot["data"]["insights"] is None  # (asked by the page: refused, naming tool)
    finally:
        server.close()

    # the CLI: JSON as the protocol's, and the terminal's tables
    span = ["--from", SPAN["from"], "--to", SPAN["to"]]
    try:
        got = json.loads(main(team["bob"], "report", "daily", "--team", "--tool", "codex", "--json", *span).stdout)
        assert rounded(got) == rounded(truth.daily({**SPAN, "tool": "codex"}))
        for what, kind in (("weekly", "week"), ("monthly", "month")):  # (weeks and months: the CLI's only)
            for extra, p in (
                (["--tool", "codex"], {"tool": "codex"}),
                (["--tool", "claude-code", "--user", "alice"], {"tool": "claude-code", "user": "alice"}),
                (["--by-tool"], {"byTool": True}),
                (
                    ["--by-tool", "--tool", "codex-cli", "--project", "docs"],
                    {"byTool": True, "tool": "codex-cli", "project": "docs"},
                ),
            ):
                done = main(team["bob"], "report", what, "--team", "--json", *extra, *span)
                assert done.returncode == 0, done.stderr
                assert rounded(json.loads(done.stdout)) == rounded(truth.periods(kind, {**SPAN, **p})), (what, extra)
        # the terminal's tables: the union's own, under a heading that says team and tool
        for extra in (["--tool", "codex"], ["--by-tool"], ["--tool", "claude-code", "--by-tool"]):
            for what in ("daily", "weekly"):
                table = main(team["laptop"], "report", what, "--team", *extra, *span)
                assert table.returncode == 0, table.stderr
                local = main(team["union"], "report", what, *extra, *span).stdout
                head, _, rows = table.stdout.partition("\n")
                assert "scope=team" in head and rows == local.partition("\n")[2], (what, extra)
                assert ("tool=" in head) == ("--tool" in extra)
                if "--by-tool" in extra:
                    assert "claude-code" in rows and ("(no tool)" in rows) == ("--tool" not in extra)
    finally:
        truth.close()


PW = "T00l-member-pw"


def test_a_members_login_sums_its_own_records_by_tool_a_readers_everyones(tmp_path, pg, cluster, main):
    owner = machine(tmp_path, "owner", "root", pg)
    assert main(owner, "sync", "--init-roles", "--apply").returncode == 0
    with psycopg.connect(pg, autocommit=True) as conn:
        for login, role in (("tool_alice", "usage_ls_writer"), ("tool_bob", "usage_ls_writer")):
            conn.execute(f"DROP ROLE IF EXISTS {login}")
            conn.execute(f"CREATE ROLE {login} LOGIN PASSWORD '{PW}' IN ROLE {role}")
        conn.execute("DROP ROLE IF EXISTS tool_dash")
        conn.execute(f"CREATE ROLE tool_dash LOGIN PASSWORD '{PW}' IN ROLE usage_ls_reader")
    dbname = pg.split("dbname=")[1].split()[0]
    alice = machine(tmp_path, "alice", "tool_alice", cluster.uri(dbname, "tool_alice", PW))
    bob = machine(tmp_path, "bob", "tool_bob", cluster.uri(dbname, "tool_bob", PW))
    dash = machine(tmp_path, "dash", "tool_dash", cluster.uri(dbname, "tool_dash", PW))
    union = machine(tmp_path, "union", "tool_alice", None)
    mine, theirs = mixed("a", 30, "2026-11-16"), mixed("b", 24, "2026-11-16")
    record(alice, mine)
    record(bob, theirs)
    record(union, mine + [{**r, "user": "tool_bob"} for r in theirs])
    for d in (alice, bob):
        assert main(d, "sync").returncode == 0
    day = ["--from", "2026-11-16", "--to", "2026-11-16", "--json"]

    def report(d, *args: str) -> dict:
        done = main(d, "report", *args, *day)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    # without a tool: the rollups, the whole team's for both logins
    assert report(alice, "daily", "--team")["days"][0]["messages"] == 54
    assert report(dash, "daily", "--team")["days"][0]["messages"] == 54
    for tool in ("claude-code", "codex"):
        # a reader's login: everyone's records of the tool, as one ledger holding them all
        assert rounded(report(dash, "daily", "--team", "--tool", tool)) == rounded(
            report(union, "daily", "--tool", tool)
        )
        # a member's login: only its own user's records (row-level security), as its own ledger
        assert rounded(report(alice, "daily", "--team", "--tool", tool)) == rounded(
            report(alice, "daily", "--tool", tool)
        )
        mine_only = report(alice, "projects", "--team", "--tool", tool)
        assert rounded(mine_only) == rounded(report(alice, "projects", "--tool", tool))
    assert rounded(report(alice, "daily", "--team", "--by-tool")) != rounded(
        report(dash, "daily", "--team", "--by-tool")
    )
    assert rounded(report(dash, "daily", "--team", "--by-tool")["days"][0]["byTool"]) == rounded(
        report(union, "daily", "--by-tool")["days"][0]["byTool"]
    )
