"""The push worker (`usage-ls sync --worker`): one connection kept across pushes, a connection
killed or a database stopped losing and doubling nothing, passwords masked; a server's worker
started again after being killed, stopped when idle, and never left behind by its server."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from raw_server import RawServer
from team_helpers import machine, records

from usage_ls.service import Usage
from usage_ls.team import state
from usage_ls.team.background import RETRY_FIRST_S, WORKER_IDLE_S, TeamSync

BOUND_S = 120  # how long an answer may take before the test gives up (a bound, not a timing)


class Worker:
    """`usage-ls sync --worker` driven as a server drives it: a line `push`, a JSON line back."""

    def __init__(self, data_dir: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), "sync", "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def ask(self, line: bytes = b"push\n") -> dict:
        self.send(line)
        return self.answer()

    def send(self, line: bytes = b"push\n") -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def answer(self) -> dict:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], BOUND_S)
        assert ready, "the worker never answered"
        return json.loads(self.proc.stdout.readline())

    def close(self) -> tuple[int, str]:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        code = self.proc.wait(BOUND_S)
        return code, self.proc.stderr.read().decode()


def _counts(pg: str) -> tuple[int, int, int]:
    with psycopg.connect(pg) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM usage_ls.records), (SELECT count(*) FROM usage_ls.record_ids), "
            "(SELECT coalesce(sum(messages), 0) FROM usage_ls.daily)"
        ).fetchone()


def _backends(pg: str) -> list[int]:
    with psycopg.connect(pg, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'usage-ls'"
        ).fetchall()
    return [r[0] for r in rows]


def _wait_for(what: str, check) -> None:
    deadline = time.monotonic() + BOUND_S
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


def test_worker_pushes_each_time_it_is_told_over_one_connection(tmp_path, pg):
    d = machine(tmp_path, "m", "alice", pg)
    svc = Usage(data_dir=d).open()  # as a server: acknowledged records wait in its journal
    worker = Worker(d)
    try:
        assert svc.record(records("w", 40))["accepted"] == 40
        first = worker.ask()
        assert first == {"ok": True, "sent": 40, "inserted": 40, "busy": False, "error": None}
        backend = _backends(pg)
        assert len(backend) == 1  # the connection stays open between pushes
        assert svc.record(records("x", 25, day="2026-11-17"))["accepted"] == 25
        second = worker.ask()
        assert (second["ok"], second["inserted"], second["sent"]) == (True, 25, 25)  # only what is new
        assert _backends(pg) == backend  # the same connection
        svc.ledger.checkpoint()  # folded into day files: the worker delivered those already
        folded = worker.ask()
        assert (folded["ok"], folded["inserted"]) == (True, 0)
        assert _counts(pg) == (65, 65, 65)
        assert state.read_status(d)["lastError"] is None
        wrong = worker.ask(b"drop table\n")
        assert not wrong["ok"] and "unknown request" in wrong["error"] and "expected `push`" in wrong["error"]
    finally:
        svc.close()
        code, err = worker.close()
    assert code == 0, err  # stdin closed: the worker exits
    _wait_for("its connection closed", lambda: _backends(pg) == [])


def test_a_connection_killed_idle_or_mid_batch_loses_and_doubles_nothing(tmp_path, pg):
    d = machine(tmp_path, "m", "alice", pg)
    svc = Usage(data_dir=d).open()
    worker = Worker(d)
    try:
        svc.record(records("a", 300, day="2026-10-31"))
        assert worker.ask()["inserted"] == 300
        with psycopg.connect(pg, autocommit=True) as admin:  # killed while idle
            (old,) = _backends(pg)
            assert admin.execute("SELECT pg_terminate_backend(%s)", (old,)).fetchone()[0]
        svc.record(records("b", 200, day="2026-11-01"))
        again = worker.ask()  # the kept connection is gone: a new one, at once
        assert (again["ok"], again["inserted"]) == (True, 200), again
        assert _backends(pg) != [old]

        svc.record(records("c", 150))
        holder = psycopg.connect(pg)  # a push stuck mid-batch, its records inserted, the rollup locked
        holder.execute("LOCK TABLE usage_ls.daily IN ACCESS EXCLUSIVE MODE")
        worker.send()
        with psycopg.connect(pg, autocommit=True) as admin:
            stuck: list[int] = []

            def waiting() -> bool:
                stuck[:] = [
                    r[0]
                    for r in admin.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND application_name = 'usage-ls' AND wait_event_type = 'Lock'"
                    ).fetchall()
                ]
                return bool(stuck)

            _wait_for("the push waiting on the locked rollup", waiting)
            assert admin.execute("SELECT pg_terminate_backend(%s)", (stuck[0],)).fetchone()[0]
            holder.close()  # (the worker's second try, on a new connection, goes through)
        done = worker.answer()
        assert (done["ok"], done["inserted"]) == (True, 150), done
        assert _counts(pg) == (650, 650, 650)  # the killed batch left nothing; nothing twice
        svc.ledger.checkpoint()
        assert worker.ask()["inserted"] == 0
        (d / "sync" / "cursor.json").unlink()  # as if every answer had been lost: all sent again
        resent = worker.ask()
        assert (resent["ok"], resent["sent"], resent["inserted"]) == (True, 650, 0)
        assert _counts(pg) == (650, 650, 650)
    finally:
        svc.close()
        worker.close()


def test_a_stopped_database_fails_the_push_and_the_next_one_delivers(tmp_path, pg, cluster, main):
    d = machine(tmp_path, "m", "alice", pg)
    svc = Usage(data_dir=d).open()
    worker = Worker(d)
    try:
        svc.record(records("a", 100))
        assert worker.ask()["inserted"] == 100
        with psycopg.connect(pg, autocommit=True) as admin:  # (the test cluster commits asynchronously)
            admin.execute("CHECKPOINT")
        cluster.stop("immediate")
        try:
            svc.record(records("down", 60, day="2026-11-18"))  # the editor goes on recording
            down = worker.ask()
            assert not down["ok"] and "cannot connect to the team database" in down["error"], down
            status = main(d, "sync", "--status").stdout
            assert "last error:" in status and "cannot connect" in status
        finally:
            cluster.start()
        back = worker.ask()
        assert (back["ok"], back["inserted"]) == (True, 60), back
        assert _counts(pg) == (160, 160, 160)
        assert state.read_status(d)["lastError"] is None
    finally:
        svc.close()
        worker.close()


def test_a_password_is_masked_in_the_workers_answer_status_and_stderr(tmp_path):
    d = machine(tmp_path, "away", "alice", "postgresql://nobody:Pw-x9Secret@127.0.0.1:1/none?connect_timeout=2")
    svc = Usage(data_dir=d).open()
    worker = Worker(d)
    try:
        svc.record(records("a", 5))
        answer = worker.ask()
    finally:
        svc.close()
        _code, err = worker.close()
    assert not answer["ok"] and "cannot connect to the team database" in answer["error"]
    assert "Pw-x9Secret" not in json.dumps(answer) + err
    assert "Pw-x9Secret" not in (d / "sync" / "status.json").read_text()


def test_the_schedule_stops_an_idle_worker_and_starts_one_when_records_come(tmp_path, pg):
    d = machine(tmp_path, "m", "alice", pg)
    svc = Usage(data_dir=d).open()
    sync = TeamSync(d, pg)  # its thread not started: ticks given their time here
    try:
        svc.record(records("a", 10))
        now = sync.schedule.next_at
        assert sync.tick(now)  # the first push starts the worker
        first = sync.worker.pid
        assert first is not None and sync.schedule.finishes == 1 and _counts(pg)[0] == 10
        assert not sync.tick(now + 1)  # nothing changed: no push
        assert not sync.tick(sync.schedule.last_push_at + WORKER_IDLE_S)  # idle: the worker is stopped
        assert sync.worker.pid is None and _backends_gone(pg)
        svc.record(records("b", 7))
        assert sync.tick(sync.schedule.last_push_at + WORKER_IDLE_S + 1)  # a new worker for the new records
        assert sync.worker.pid not in (None, first) and sync.worker.starts == 2
        assert _counts(pg)[0] == 17
        os.kill(sync.worker.pid, signal.SIGKILL)  # killed between pushes: the next push starts another
        _wait_for("the killed worker gone", lambda: sync.worker.pid is None)
        svc.record(records("c", 3))
        assert sync.tick(sync.schedule.next_at) and sync.schedule.failed is False
        assert _counts(pg) == (20, 20, 20)
    finally:
        sync.stop()
        svc.close()


def test_a_failed_push_backs_off_and_is_shown_masked(tmp_path, main):
    conninfo = "postgresql://nobody:Pw-x9Secret@127.0.0.1:1/none?connect_timeout=2"
    d = machine(tmp_path, "away", "alice", conninfo)
    svc = Usage(data_dir=d).open()
    sync = TeamSync(d, conninfo)
    try:
        svc.record(records("a", 4))
        now = sync.schedule.next_at
        assert sync.tick(now) and sync.schedule.failed
        assert not sync.tick(sync.schedule.last_push_at + RETRY_FIRST_S - 0.1)  # backing off
        assert sync.tick(sync.schedule.last_push_at + RETRY_FIRST_S) and sync.schedule.retry == 4 * RETRY_FIRST_S
    finally:
        sync.stop()
        svc.close()
    for shown in (main(d, "sync", "--status").stdout, main(d, "doctor").stdout):
        assert "cannot connect to the team database" in shown and "Pw-x9Secret" not in shown


def _backends_gone(pg: str) -> bool:
    _wait_for("the stopped worker's connection closed", lambda: _backends(pg) == [])
    return True


def _workers_of(pid: int) -> list[int]:
    """The `usage-ls sync --worker` processes whose parent is `pid` (alive, not zombies)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z" and b"--worker" in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _team_count(pg: str) -> int:
    with psycopg.connect(pg, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('usage_ls.record_ids') IS NOT NULL").fetchone()[0]:
            return 0
        return conn.execute("SELECT count(*) FROM usage_ls.record_ids").fetchone()[0]


def _serve(d: Path) -> RawServer:
    server = RawServer(d)
    server.initialize()
    return server


def test_a_killed_worker_is_started_again_and_none_outlives_its_server(tmp_path, pg):
    d = machine(tmp_path, "laptop", "alice", pg)
    server = _serve(d)
    try:
        assert server.request("usage/record", {"records": records("s", 30)})["result"]["accepted"] == 30
        _wait_for("30 records in the team database", lambda: _team_count(pg) == 30)
        (worker,) = _workers_of(server.proc.pid)
        maps = (Path("/proc") / str(server.proc.pid) / "maps").read_text()
        assert "libpq" not in maps and "psycopg" not in maps  # the database is the worker's alone
        os.kill(worker, signal.SIGKILL)
        assert server.request("usage/record", {"records": records("t", 20)})["result"]["accepted"] == 20
        _wait_for("50 records in the team database", lambda: _team_count(pg) == 50)
        (again,) = _workers_of(server.proc.pid)
        assert again != worker
        server.proc.kill()  # the server crashes (kill -9): its worker goes too
        server.proc.wait()
        _wait_for("the worker gone after its server's kill -9", lambda: not _alive(again))
    finally:
        server.close()

    server = _serve(d)  # an editor that quits: the server exits, and its worker with it
    try:
        server.request("usage/record", {"records": records("u", 5)})
        _wait_for("55 records in the team database", lambda: _team_count(pg) == 55)
        (worker,) = _workers_of(server.proc.pid)
        server.request("shutdown")
        server.send({"jsonrpc": "2.0", "method": "exit"})
        server.proc.wait(BOUND_S)
        _wait_for("the worker gone after its server's exit", lambda: not _alive(worker))
    finally:
        server.close()
    assert _counts(pg) == (55, 55, 55)


def test_an_export_skipped_between_quick_pushes_is_made_when_they_pause(tmp_path):
    from test_otlp_export import Collector

    collector = Collector()
    d = tmp_path / "otlp"
    d.mkdir()
    (d / "config.toml").write_text(f'user = "ana"\n[export]\notlp = "http://127.0.0.1:{collector.port}"\n')
    svc = Usage(data_dir=d).open()
    worker = Worker(d)
    try:
        assert worker.ask()["ok"]  # the first export: what is stored is marked as sent
        svc.record(records("o", 6))
        assert worker.ask()["ok"]  # at once: the export (a checkpoint first) waits
        _wait_for("the skipped export made after the pause", lambda: collector.requests)
        points = collector.points()
        assert sum(n for (name, _m, kind), (_s, n) in points.items() if name == "gen_ai.client.token.usage") == 12
    finally:
        svc.close()
        worker.close()
        collector.close()
