"""Nothing lost, nothing twice: a connection killed mid-batch, the database stopped mid-push,
a batch committed whose answer was lost, a schema newer than this client."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from team_helpers import machine, record, records

from usage_ls.config import load_config
from usage_ls.team import push, schema, state
from usage_ls.team.db import TeamError

TOTAL = 900


def _counts(conninfo: str) -> tuple[int, int, int]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM usage_ls.records), (SELECT count(*) FROM usage_ls.record_ids), "
            "(SELECT coalesce(sum(messages), 0) FROM usage_ls.daily)"
        ).fetchone()


def _filled(tmp_path, pg, name="m"):
    d = machine(tmp_path, name, "alice", pg)
    record(d, records("a", 300, day="2026-10-31") + records("b", 300, day="2026-11-01") + records("c", 300))
    return d


class Blocked:
    """A push stuck in the middle of a batch: its records inserted in its open transaction,
    waiting for the daily rollup, which another session holds locked."""

    def __init__(self, d, pg):
        self.pg = pg
        self.error: BaseException | None = None
        self.holder = psycopg.connect(pg)  # (not autocommit: the lock lasts until rollback)
        self.holder.execute("LOCK TABLE usage_ls.daily IN ACCESS EXCLUSIVE MODE")
        cfg = load_config(d)
        self.thread = threading.Thread(target=self._run, args=(d, cfg.tz), daemon=True)
        self.thread.start()
        self.pid = self._wait_for_waiting_pusher()

    def _run(self, d, tz) -> None:
        try:
            push.push(d, tz, self.pg, size=200)
        except BaseException as exc:
            self.error = exc

    def _wait_for_waiting_pusher(self) -> int:
        with psycopg.connect(self.pg, autocommit=True) as conn:
            for _ in range(600):  # (a bound, not a timing assertion)
                row = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = 'usage-ls' AND wait_event_type = 'Lock'"
                ).fetchone()
                if row:
                    return row[0]
                time.sleep(0.05)
        raise AssertionError("the push never reached the locked rollup")

    def finish(self) -> BaseException | None:
        try:
            self.holder.close()
        except psycopg.Error:
            pass
        self.thread.join(60)
        assert not self.thread.is_alive()
        return self.error


def test_connection_killed_mid_batch_loses_nothing_and_counts_once(tmp_path, pg):
    d = _filled(tmp_path, pg)
    tz = load_config(d).tz
    first = push.push(d, tz, pg, size=200, max_batches=2)
    assert first.inserted == 400
    blocked = Blocked(d, pg)
    with psycopg.connect(pg, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (blocked.pid,)).fetchone()[0]
    error = blocked.finish()
    assert isinstance(error, TeamError) and "push failed after 0 new record(s)" in str(error)
    assert _counts(pg) == (400, 400, 400)  # the killed batch left nothing behind
    assert "push failed" in state.read_status(d)["lastError"]

    again = push.push(d, tz, pg, size=200)
    assert (again.inserted, again.sent) == (TOTAL - 400, TOTAL - 400)
    assert _counts(pg) == (TOTAL, TOTAL, TOTAL)
    assert state.read_status(d)["lastError"] is None

    # a batch the database committed but whose answer never came: sent again, counted once
    (d / "sync" / "cursor.json").unlink()
    resent = push.push(d, tz, pg, size=200)
    assert (resent.sent, resent.inserted) == (TOTAL, 0)
    assert _counts(pg) == (TOTAL, TOTAL, TOTAL)


def test_database_stopped_mid_push_then_restarted(tmp_path, pg, cluster, main):
    d = _filled(tmp_path, pg)
    tz = load_config(d).tz
    push.push(d, tz, pg, size=200, max_batches=1)
    blocked = Blocked(d, pg)
    try:
        cluster.stop("immediate")
        error = blocked.finish()
        assert isinstance(error, TeamError)
        record(d, records("while-down", 50, day="2026-11-18"))  # the editor goes on recording
        down = main(d, "sync")
        assert down.returncode == 1 and "cannot connect to the team database" in down.stderr
        status = main(d, "sync", "--status").stdout
        assert f"queued:         {TOTAL + 50 - 200} record(s)" in status
        assert "last error:" in status and "cannot connect" in status
    finally:
        cluster.start()
    done = main(d, "sync")
    assert f"{TOTAL + 50 - 200} new to the team database" in done.stdout
    assert _counts(pg) == (TOTAL + 50, TOTAL + 50, TOTAL + 50)
    assert push.queued(d, tz) == 0


def test_a_newer_schema_is_refused_and_nothing_is_written(tmp_path, pg, main):
    d = _filled(tmp_path, pg)
    tz = load_config(d).tz
    push.push(d, tz, pg, size=200, max_batches=1)
    record(d, records("later", 10, day="2026-11-19"))
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("INSERT INTO usage_ls.schema_version (version) VALUES (99)")
    cursor_before = (d / "sync" / "cursor.json").read_bytes()
    with pytest.raises(
        TeamError,
        match=rf"schema is version 99, newer than this usage-ls knows \({schema.LATEST}\).*nothing was written",
    ):
        push.push(d, tz, pg)
    assert _counts(pg) == (200, 200, 200)
    assert (d / "sync" / "cursor.json").read_bytes() == cursor_before
    done = main(d, "report", "today", "--team", "--from", "2026-11-16")
    assert done.returncode == 1 and "schema is version 99, newer than this usage-ls knows" in done.stderr


def test_two_machines_pushing_the_same_records_at_once_count_them_once(tmp_path, pg):
    shared = records("shared", 600, day="2026-11-02")  # (one log both imported)
    machines = [machine(tmp_path, name, "alice", pg) for name in ("one", "two")]
    for n, d in enumerate(machines):
        record(d, shared + records(f"own{n}", 150, day="2026-11-03"))
    errors: list[BaseException] = []

    def run(d):
        for _ in range(3):  # a deadlock between the two is rolled back and tried again, as the server does
            try:
                push.push(d, load_config(d).tz, pg, size=100)
                return
            except TeamError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in machines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert _counts(pg) == (900, 900, 900), errors
    for d in machines:
        assert push.queued(d, load_config(d).tz) == 0
