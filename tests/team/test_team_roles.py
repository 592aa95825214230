"""Least privilege and secrets: writers insert and read but never update or delete; readers
only read; a wrong password is said plainly, without the password, everywhere."""

from __future__ import annotations

import psycopg
import pytest
from team_helpers import machine, record, records

from usage_ls.config import load_config
from usage_ls.team import push
from usage_ls.team.secrets import mask, shown

WRITER_PW, READER_PW, WRONG_PW = "wr1ter-Pa55", "r3ader-Pa55", "Wr0ng-S3cret-42"


def test_roles_writer_inserts_but_cannot_change_reader_only_reads(tmp_path, pg, cluster, main):
    sql = main(tmp_path, "sync", "--init-roles").stdout
    assert "GRANT SELECT, INSERT ON usage_ls.records, usage_ls.record_ids TO usage_ls_writer" in sql
    assert "UPDATE" not in sql.replace("never update", "") and "DELETE" not in sql
    owner = machine(tmp_path, "owner", "root", pg)
    assert (
        "roles usage_ls_writer, usage_ls_reader are in place" in main(owner, "sync", "--init-roles", "--apply").stdout
    )
    dbname = pg.split("dbname=")[1].split()[0]
    with psycopg.connect(pg, autocommit=True) as conn:
        for login, pw, role in (("alice_w", WRITER_PW, "usage_ls_writer"), ("dash_r", READER_PW, "usage_ls_reader")):
            conn.execute(f"DROP ROLE IF EXISTS {login}")
            conn.execute(f"CREATE ROLE {login} LOGIN PASSWORD '{pw}' IN ROLE {role}")
        conn.execute("INSERT INTO usage_ls.members (login, \"user\") VALUES ('alice_w', 'alice')")  # row-level security
    writer_uri = cluster.uri(dbname, "alice_w", WRITER_PW)  # over TCP with a password (scram-sha-256)
    d = machine(tmp_path, "alice", "alice", writer_uri)
    record(d, records("w", 30) + records("w2", 5, day="2027-01-02"))  # a month with no partition yet
    assert "35 new to the team database" in main(d, "sync").stdout
    team = main(d, "report", "today", "--team", "--from", "2026-11-16", "--json").stdout
    assert '"messages": 30' in team

    with psycopg.connect(writer_uri, autocommit=True) as w:
        for statement in (
            "DELETE FROM usage_ls.records",
            "UPDATE usage_ls.records SET input_tokens = 0",
            "UPDATE usage_ls.daily SET messages = 0",
            "DELETE FROM usage_ls.daily",
            "UPDATE usage_ls.daily_users SET credits = 0",
            "TRUNCATE usage_ls.daily_projects",
            "DELETE FROM usage_ls.record_ids",
            "TRUNCATE usage_ls.records",
            "CREATE TABLE usage_ls.sneaky (x int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                w.execute(statement)
    with psycopg.connect(cluster.uri(dbname, "dash_r", READER_PW), autocommit=True) as r:
        assert r.execute("SELECT sum(messages) FROM usage_ls.daily").fetchone()[0] == 35
        for table in ("daily_models", "daily_users", "daily_projects"):
            assert r.execute(f"SELECT sum(messages) FROM usage_ls.{table}").fetchone()[0] == 35
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            r.execute("INSERT INTO usage_ls.record_ids VALUES ('x')")
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*), sum(input_tokens) FROM usage_ls.records").fetchone()[0] == 35


def test_wrong_password_is_said_without_the_password(tmp_path, pg, cluster, main):
    dbname = pg.split("dbname=")[1].split()[0]
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS bob_w")
        conn.execute(f"CREATE ROLE bob_w LOGIN PASSWORD '{WRITER_PW}'")
    uri = cluster.uri(dbname, "bob_w", WRONG_PW)
    d = machine(tmp_path, "bob", "bob", uri)
    record(d, records("b", 3))
    done = main(d, "sync")
    assert done.returncode == 1
    assert 'password authentication failed for user "bob_w"' in done.stderr
    outputs = [done.stdout + done.stderr]
    for args in (("sync", "--status"), ("config",), ("doctor",)):
        run = main(d, *args)
        outputs.append(run.stdout + run.stderr)
    assert "last error:" in outputs[1] and "password authentication failed" in outputs[1]
    assert "queued:         3 record(s)" in outputs[1]  # never pushed: every record waits
    assert f"postgresql://bob_w:***@127.0.0.1:{cluster.port}/{dbname}" in outputs[2]
    assert "team sync: the last push failed" in outputs[3] and "password authentication failed" in outputs[3]
    status_file = (d / "sync" / "status.json").read_text()
    for text in [*outputs, status_file]:
        assert WRONG_PW not in text
    with pytest.raises(Exception) as caught:
        push.push(d, load_config(d).tz, uri)
    assert WRONG_PW not in str(caught.value)


@pytest.mark.parametrize(
    ("conninfo", "written", "secret"),
    [
        ("postgresql://alice:pa%40ss-w0rd@db.example:5432/usage?sslmode=verify-full", "pa%40ss-w0rd", "pa@ss-w0rd"),
        ("postgres://alice:hunter2-long@db/usage", "hunter2-long", "hunter2-long"),
        ("host=db user=alice password=s3cr3t-word dbname=usage", "s3cr3t-word", "s3cr3t-word"),
        ("host=db password='with space \\' quote' dbname=usage", "with space", "with space ' quote"),
        ("postgresql://db/usage?user=alice&password=query-s3cret", "query-s3cret", "query-s3cret"),
    ],
)
def test_mask_hides_every_form_of_password(conninfo, written, secret):
    shown_text = shown(conninfo)
    assert written not in shown_text and "***" in shown_text
    assert ("db" in shown_text and "alice" in shown_text) or "user" not in conninfo  # the rest stays readable
    message = f"FATAL: bad thing for {secret} in {conninfo}"  # a server quoting it back
    masked = mask(message, conninfo)
    assert secret not in masked and written not in masked


def test_mask_hides_pgpassword(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "env-S3cret")
    assert mask("connection for env-S3cret failed", "host=db") == "connection for *** failed"
    assert shown("").startswith("libpq's defaults")
