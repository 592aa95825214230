"""Row-level security: a member's login reads and inserts only its own user's records, reads the
whole team's daily totals, changes nothing; a reader reads everything; a login mapped in
`usage_ls.members` pushes as its user; a database made before the policies is migrated."""

from __future__ import annotations

import json

import psycopg
import pytest
from team_helpers import machine, record, records

from usage_ls.team import schema

PW = "Rls-m3mber-pw"


def _logins(pg: str, *pairs: tuple[str, str]) -> None:
    with psycopg.connect(pg, autocommit=True) as conn:
        for login, role in pairs:
            conn.execute(f"DROP ROLE IF EXISTS {login}")
            conn.execute(f"CREATE ROLE {login} LOGIN PASSWORD '{PW}' IN ROLE {role}")


def test_members_see_their_own_records_and_the_whole_teams_totals(tmp_path, pg, cluster, main):
    sql = main(tmp_path, "sync", "--init-roles").stdout
    assert 'INSERT INTO usage_ls.members (login, "user")' in sql
    owner = machine(tmp_path, "owner", "root", pg)
    assert main(owner, "sync", "--init-roles", "--apply").returncode == 0
    _logins(pg, ("rls_alice", "usage_ls_writer"), ("rls_bob_w", "usage_ls_writer"), ("rls_dash", "usage_ls_reader"))
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO usage_ls.members (login, \"user\") VALUES ('rls_bob_w', 'rls_bob')")
    dbname = pg.split("dbname=")[1].split()[0]
    alice_uri, bob_uri = cluster.uri(dbname, "rls_alice", PW), cluster.uri(dbname, "rls_bob_w", PW)

    # two members push through the real path (COPY, record_ids, the rollup trigger)
    alice = machine(tmp_path, "alice", "rls_alice", alice_uri)  # the login's own name
    bob = machine(tmp_path, "bob", "rls_bob", bob_uri)  # mapped in usage_ls.members
    record(alice, records("a", 30))
    record(bob, records("b", 20) + records("b2", 4, day="2027-01-03"))
    assert "30 new to the team database" in main(alice, "sync").stdout
    assert "24 new to the team database" in main(bob, "sync").stdout
    assert "0 new" in main(bob, "sync").stdout or "pushed 0 record(s)" in main(bob, "sync").stdout

    # a member pushing another user's records is refused, and told why; nothing is written
    forger = machine(tmp_path, "forger", "rls_bob", alice_uri)
    record(forger, records("f", 3))
    done = main(forger, "sync")
    assert done.returncode == 1
    assert "row-level security" in done.stderr and "may push only its own user's records" in done.stderr
    assert PW not in done.stderr

    with psycopg.connect(alice_uri, autocommit=True) as w:
        # raw records: only her own; record ids: only those she pushed
        assert w.execute('SELECT count(*), min("user"), max("user") FROM usage_ls.records').fetchone() == (
            30,
            "rls_alice",
            "rls_alice",
        )
        assert w.execute("SELECT count(*) FROM usage_ls.record_ids").fetchone()[0] == 30
        # the team's totals: everyone's
        by_user = dict(w.execute('SELECT "user", sum(messages) FROM usage_ls.daily GROUP BY "user"').fetchall())
        assert by_user == {"rls_alice": 30, "rls_bob": 24}
        # and the smaller rollups the team queries read (schema versions 4 and 5): everyone's too
        per_user = 'SELECT "user", sum(messages) FROM usage_ls.daily_users GROUP BY "user"'
        assert dict(w.execute(per_user).fetchall()) == by_user
        for table in ("daily_models", "daily_projects"):
            assert w.execute(f"SELECT sum(messages) FROM usage_ls.{table}").fetchone()[0] == 54
        for statement in (
            'INSERT INTO usage_ls.records (id, day, ts, "user", device_id, project, model, billing, input_tokens, '
            "output_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens) VALUES ('x1', '2026-11-16', "
            "now(), 'rls_bob', 'd', 'p', 'm', 'byok', 1, 1, 0, 0, 0)",
            "INSERT INTO usage_ls.record_ids (id, pushed_by) VALUES ('x2', 'rls_bob_w')",
            "INSERT INTO usage_ls.members (login, \"user\") VALUES ('rls_alice', 'rls_bob')",
            "SELECT count(*) FROM usage_ls.records_2026_11",  # a partition, around the policies
            "SELECT count(*) FROM usage_ls.members",
            "DELETE FROM usage_ls.records",
            "UPDATE usage_ls.records SET input_tokens = 0",
            "UPDATE usage_ls.daily SET messages = 0",
            "UPDATE usage_ls.daily_users SET messages = 0",
            "DELETE FROM usage_ls.daily_projects",
            "DELETE FROM usage_ls.daily_models",
            "INSERT INTO usage_ls.daily_users SELECT * FROM usage_ls.daily_users",
            "DELETE FROM usage_ls.record_ids",
            "ALTER TABLE usage_ls.records DISABLE ROW LEVEL SECURITY",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                w.execute(statement)
    # her own report of the team: every member's numbers
    team = main(alice, "report", "today", "--team", "--from", "2026-11-16", "--to", "2026-11-16", "--json").stdout
    assert '"messages": 50' in team
    # what the team scope reads from records is her own: blocks, a session, the insights' spikes
    # and tips (all refused nothing: her login may read those)
    day = ["--from", "2026-11-16", "--to", "2026-11-16", "--json"]
    blocks = json.loads(main(alice, "report", "blocks", "--team", "--tool", "all", *day).stdout)
    assert sum(b["entries"] for b in blocks["blocks"]) == 30
    assert json.loads(main(alice, "report", "session", "no-such", "--team", *day).stdout)["messages"] == 0
    insights = main(alice, "insights", "--team", *day)
    assert insights.returncode == 0 and json.loads(insights.stdout)["scope"] == "team", insights.stderr

    with psycopg.connect(bob_uri, autocommit=True) as w:
        assert w.execute('SELECT count(*), min("user") FROM usage_ls.records').fetchone() == (24, "rls_bob")
    with psycopg.connect(cluster.uri(dbname, "rls_dash", PW), autocommit=True) as r:
        assert r.execute("SELECT count(*) FROM usage_ls.records").fetchone()[0] == 54
    with psycopg.connect(pg, autocommit=True) as conn:
        assert conn.execute("SELECT sum(messages) FROM usage_ls.daily").fetchone()[0] == 54
        pushers = dict(conn.execute("SELECT pushed_by, count(*) FROM usage_ls.record_ids GROUP BY 1").fetchall())
        assert pushers == {"rls_alice": 30, "rls_bob_w": 24}


def test_a_database_made_before_the_policies_is_migrated(tmp_path, pg, main, monkeypatch):
    owner = machine(tmp_path, "owner", "root", pg)
    record(owner, records("o", 10))
    monkeypatch.setattr(schema, "LATEST", 1)  # a usage-ls from before row-level security
    assert "10 new" in main(owner, "sync").stdout
    monkeypatch.setattr(schema, "LATEST", max(schema.MIGRATIONS))
    record(owner, records("o2", 5))
    assert "5 new" in main(owner, "sync").stdout
    with psycopg.connect(pg, autocommit=True) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM usage_ls.schema_version ORDER BY 1")]
        assert versions == sorted(schema.MIGRATIONS)
        assert conn.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'usage_ls.records'::regclass").fetchone()[
            0
        ]
        assert conn.execute("SELECT count(*), sum(messages) FROM usage_ls.daily").fetchone()[1] == 15
        pushers = dict(conn.execute("SELECT pushed_by, count(*) FROM usage_ls.record_ids GROUP BY 1").fetchall())
        assert pushers == {"": 10, "admin": 5}  # ids pushed before the policies: by no one known
