"""The per-user and per-project rollups (`daily_users`, `daily_projects`, schema version 5): an
older team database is upgraded and they are filled from `daily`; pushes after keep them equal
to the records' sums (duplicates counted once); team `usage/daily` filtered by a user, a project
or both, asked of a real server over the protocol, adds up to the unfiltered answer and equals
one ledger holding every record once."""

from __future__ import annotations

import psycopg
from raw_server import RawServer
from team_helpers import machine, record, records, rounded

from usage_ls.service import Usage
from usage_ls.team import push, schema

SPAN = {"from": "2026-11-14", "to": "2026-11-20"}
RAW = (
    "count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), "
    "coalesce(sum(cost_usd), 0), coalesce(sum(credits), 0), count(*) FILTER (WHERE cost_usd IS NULL)"
)
ROLLUPS = {  # table: its key
    "daily_models": "day, model, billing",
    "daily_users": '"user", day, model, billing',
    "daily_projects": "project, day, model, billing",
}


def _rollups_equal_the_records(conn) -> int:
    """Every rollup row equals the records' sums (every column, exactly); the rows compared."""
    compared = 0
    for table, key in {**ROLLUPS, "daily": 'day, "user", project, model, billing'}.items():
        raw = conn.execute(f"SELECT {key}, {RAW} FROM usage_ls.records GROUP BY {key} ORDER BY {key}").fetchall()
        rolled = conn.execute(
            f"SELECT {key}, {', '.join(schema.ROLLUP_COLUMNS)} FROM usage_ls.{table} ORDER BY {key}"
        ).fetchall()
        assert [tuple(r) for r in rolled] == [tuple(r) for r in raw], table
        compared += len(raw)
    return compared


def _machines(tmp_path, pg):
    """Alice's laptop and desktop (sharing 15 records: the same ids on both), Bob's and Carol's
    machines, on three projects over several days; and `union`: every record once."""
    laptop, desktop = machine(tmp_path, "laptop", "alice", pg), machine(tmp_path, "desktop", "alice", pg)
    bob, carol = machine(tmp_path, "bob", "bob", pg), machine(tmp_path, "carol", "carol", pg)
    union = machine(tmp_path, "union", "alice", None)
    shared = records("shared", 15, day="2026-11-15", project="api")
    first = {
        laptop: records("lap", 40) + shared,
        desktop: shared + records("desk", 25, day="2026-11-17"),
        bob: records("bob", 30, day="2026-11-15") + records("bob-api", 12, day="2026-11-19", project="api"),
        carol: records("carol", 18, day="2026-11-16", project="docs"),
    }
    later = {
        laptop: records("lap2", 22, day="2026-11-16"),  # the same cells as before: added to them
        bob: records("bob2", 9, day="2026-11-20", project="widget"),
        carol: records("carol2", 14, day="2026-11-16", project="api"),
    }
    return (laptop, desktop, bob, carol), union, shared, first, later


def test_user_and_project_rollups_are_filled_by_the_migration_and_kept_by_the_trigger(tmp_path, pg, monkeypatch):
    (laptop, desktop, bob, carol), union, shared, first, later = _machines(tmp_path, pg)
    for d, recs in first.items():
        record(d, recs)

    # schema version 4 made the database and its roles; everything first is pushed into it
    monkeypatch.setattr(schema, "LATEST", 4)
    for d in first:
        push.push(d, Usage(data_dir=d).tz, pg)
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(schema.roles_sql().replace(", usage_ls.daily_users, usage_ls.daily_projects", ""))
        assert conn.execute("SELECT to_regclass('usage_ls.daily_users')").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM usage_ls.records").fetchone()[0] == 40 + 15 + 25 + 42 + 18
    monkeypatch.setattr(schema, "LATEST", max(schema.MIGRATIONS))

    # the next push migrates (the new rollups filled from `daily`), then the trigger adds to them
    for d, recs in later.items():
        record(d, recs)
    pushed = {d: push.push(d, Usage(data_dir=d).tz, pg).inserted for d in later}
    assert pushed == {laptop: 22, bob: 9, carol: 14}
    record(desktop, records("desk-again", 3, day="2026-11-17") + records("lap2", 5, day="2026-11-16"))
    assert push.push(desktop, Usage(data_dir=desktop).tz, pg).inserted == 3  # the laptop's 5 ids: counted once

    with psycopg.connect(pg, autocommit=True) as conn:
        assert conn.execute("SELECT max(version) FROM usage_ls.schema_version").fetchone()[0] == schema.LATEST
        assert _rollups_equal_the_records(conn) > 0
        users = dict(conn.execute('SELECT "user", sum(messages) FROM usage_ls.daily_users GROUP BY 1').fetchall())
        assert users == {"alice": 40 + 15 + 25 + 22 + 3, "bob": 30 + 12 + 9, "carol": 18 + 14}
        projects = dict(conn.execute("SELECT project, sum(messages) FROM usage_ls.daily_projects GROUP BY 1"))
        assert sum(projects.values()) == sum(users.values()) and set(projects) == {"widget", "docs", "api"}
        conn.execute("SET ROLE usage_ls_reader")  # roles made before the upgrade read the new tables
        for table in ("daily_users", "daily_projects"):
            assert conn.execute(f"SELECT sum(messages) FROM usage_ls.{table}").fetchone()[0] == sum(users.values())

    # the truth: one ledger holding every record once
    record(
        union,
        first[laptop] + first[desktop][len(shared) :] + later[laptop] + records("desk-again", 3, day="2026-11-17"),
    )
    for d, user in ((bob, "bob"), (carol, "carol")):
        record(union, [{**r, "user": user} for r in first[d] + later[d]])
    team, truth = Usage(data_dir=laptop).open(), Usage(data_dir=union).open()
    try:
        for method in ("summary", "daily", "token_split", "users", "projects"):
            for extra in (
                {"user": "carol"},
                {"project": "api"},
                {"user": "alice", "project": "api"},
                {"user": "bob", "model": "gpt-4.1-mini"},
                {"project": "widget", "billing": "premium"},
                {"user": "nobody"},
            ):
                got = getattr(team, method)({**SPAN, **extra, "scope": "team"})
                assert rounded(got) == rounded(getattr(truth, method)({**SPAN, **extra})), (method, extra)
    finally:
        team.close()
        truth.close()


def _by_hand(answers: list[dict]) -> dict:
    """Several `usage/daily` answers added up day by day and model by model: what the unfiltered
    answer must be when the filters split the team (money rounded: each answer rounds its own)."""
    days: dict[str, dict] = {}
    for answer in answers:
        for day in answer["days"]:
            into = days.setdefault(day["date"], {"messages": 0, "totalTokens": 0, "credits": 0.0, "byModel": {}})
            for k in ("messages", "totalTokens", "credits"):
                into[k] += day[k]
            for name, m in day["byModel"].items():
                cell = into["byModel"].setdefault(name, {"messages": 0, "totalTokens": 0, "credits": 0.0})
                for k in cell:
                    cell[k] += m[k]
    return rounded_to(days, 6)


def _shape(answer: dict) -> dict:
    return rounded_to(
        {
            d["date"]: {
                "messages": d["messages"],
                "totalTokens": d["totalTokens"],
                "credits": d["credits"],
                "byModel": {
                    name: {k: m[k] for k in ("messages", "totalTokens", "credits")} for name, m in d["byModel"].items()
                },
            }
            for d in answer["days"]
        },
        6,
    )


def rounded_to(value, digits: int):
    if isinstance(value, dict):
        return {k: rounded_to(v, digits) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, digits)
    return value


def test_filtered_team_daily_adds_up_to_the_whole_team_over_the_protocol(tmp_path, pg):
    (laptop, desktop, bob, carol), union, shared, first, later = _machines(tmp_path, pg)
    for d in first:
        record(d, first[d] + later.get(d, []))
        push.push(d, Usage(data_dir=d).tz, pg)
    record(union, first[laptop] + later[laptop] + first[desktop][len(shared) :])
    for d, user in ((bob, "bob"), (carol, "carol")):
        record(union, [{**r, "user": user} for r in first[d] + later[d]])
    users, projects = ("alice", "bob", "carol"), ("widget", "docs", "api")

    truth = Usage(data_dir=union).open()
    server = RawServer(desktop)
    try:
        server.initialize()

        def daily(**extra) -> dict:
            answer = server.request("usage/daily", {**SPAN, **extra, "scope": "team"}, timeout=60)
            assert "result" in answer, answer
            assert len(answer["result"]["days"]) == 7
            return answer["result"]

        whole = daily()
        assert rounded(whole) == rounded(truth.daily(SPAN))
        assert all(list(d["byModel"]) == sorted(d["byModel"]) for d in whole["days"])  # the same order every day
        assert sum(d["messages"] for d in whole["days"]) == 40 + 15 + 25 + 22 + 42 + 9 + 18 + 14
        by_user = {u: daily(user=u) for u in users}
        by_project = {p: daily(project=p) for p in projects}
        assert _by_hand(list(by_user.values())) == _shape(whole)
        assert _by_hand(list(by_project.values())) == _shape(whole)
        for u in users:
            both = [daily(user=u, project=p) for p in projects]
            assert _by_hand(both) == _shape(by_user[u]), u
            for p, answer in zip(projects, both):
                assert rounded(answer) == rounded(truth.daily({**SPAN, "user": u, "project": p})), (u, p)
            assert rounded(by_user[u]) == rounded(truth.daily({**SPAN, "user": u}))
        for p in projects:
            assert rounded(by_project[p]) == rounded(truth.daily({**SPAN, "project": p}))
        premium = daily(user="alice", billing="premium")
        assert rounded(premium) == rounded(truth.daily({**SPAN, "user": "alice", "billing": "premium"}))
        nobody = daily(user="nobody")
        assert all(d["messages"] == 0 and d["byModel"] == {} for d in nobody["days"])
        assert rounded(nobody) == rounded(truth.daily({**SPAN, "user": "nobody"}))
    finally:
        server.close()
        truth.close()
