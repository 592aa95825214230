"""The per-model rollup (`daily_models`, schema version 4): an older team database is upgraded by
the next push, and team answers read from it add up as the records do."""

from __future__ import annotations

import psycopg
from team_helpers import machine, record, records, rounded

from usage_ls.service import Usage
from usage_ls.team import push, schema

SPAN = {"from": "2026-11-14", "to": "2026-11-20"}


def test_an_older_database_is_upgraded_and_team_answers_still_add_up(tmp_path, pg, monkeypatch):
    alice, bob = machine(tmp_path, "alice", "alice", pg), machine(tmp_path, "bob", "bob", pg)
    union = machine(tmp_path, "union", "alice", None)  # every record once: what the team must show
    first, later, bobs = records("a", 60), records("a2", 20, day="2026-11-18"), records("b", 45, day="2026-11-17")
    record(alice, first)
    record(union, first + later + [{**r, "user": "bob"} for r in bobs])

    # the previous version made the database, its roles, and pushed alice's first records
    monkeypatch.setattr(schema, "LATEST", 1)
    assert push.push(alice, Usage(data_dir=alice).tz, pg).inserted == 60
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(schema.roles_sql().replace("GRANT SELECT ON usage_ls.daily_models", "-- "))
        assert conn.execute("SELECT to_regclass('usage_ls.daily_models')").fetchone()[0] is None
    monkeypatch.setattr(schema, "LATEST", max(schema.MIGRATIONS))

    record(alice, later)
    record(bob, bobs)
    assert push.push(alice, Usage(data_dir=alice).tz, pg).inserted == 20  # migrates, then pushes
    assert push.push(bob, Usage(data_dir=bob).tz, pg).inserted == 45

    with psycopg.connect(pg, autocommit=True) as conn:
        per_model = conn.execute(
            "SELECT day, model, billing, messages, input_tokens, cost_usd, credits, unpriced_messages "
            "FROM usage_ls.daily_models ORDER BY 1, 2, 3"
        ).fetchall()
        from_daily = conn.execute(
            "SELECT day, model, billing, sum(messages), sum(input_tokens), sum(cost_usd), sum(credits), "
            "sum(unpriced_messages) FROM usage_ls.daily GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
        assert per_model == [tuple(int(v) if i in (3, 4, 7) else v for i, v in enumerate(r)) for r in from_daily]
        assert sum(r[3] for r in per_model) == 125
        conn.execute("SET ROLE usage_ls_reader")  # roles made before the upgrade read the new table
        assert conn.execute("SELECT sum(messages) FROM usage_ls.daily_models").fetchone()[0] == 125

    team, truth = Usage(data_dir=alice).open(), Usage(data_dir=union).open()
    try:
        for method in ("summary", "daily", "token_split", "users"):
            for extra in ({}, {"model": "gpt-4.1-mini"}, {"billing": "premium"}, {"user": "bob"}, {"project": "docs"}):
                got = getattr(team, method)({**SPAN, **extra, "scope": "team"})
                assert rounded(got) == rounded(getattr(truth, method)({**SPAN, **extra})), (method, extra)
    finally:
        team.close()
        truth.close()
