"""The language server pushes in the background and answers `scope: "team"`."""

from __future__ import annotations

import time

import psycopg
from raw_server import RawServer
from team_helpers import machine, record, records, rounded

from usage_ls.config import load_config
from usage_ls.team.background import RETRY_FIRST_S, RETRY_MAX_S, START_DELAY_S, SyncSchedule

SPAN = {"from": "2026-11-16", "to": "2026-11-16"}


def test_server_pushes_in_the_background_and_answers_team_scope(tmp_path, pg):
    d = machine(tmp_path, "laptop", "alice", pg)
    record(d, records("srv", 120))
    server = RawServer(d)
    try:
        server.initialize()
        local = server.request("usage/summary", SPAN)["result"]
        with psycopg.connect(pg, autocommit=True) as conn:
            for _ in range(600):  # the first push starts a second after `initialized` (a bound, not a timing)
                ready = conn.execute("SELECT to_regclass('usage_ls.daily') IS NOT NULL").fetchone()[0]
                if ready and conn.execute("SELECT sum(messages) FROM usage_ls.daily").fetchone()[0] == 120:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("the server never pushed")
        for _ in range(600):  # the editor is told when the push finished: the tooltip's "last push"
            server.request("usage/summary", SPAN)
            tips = [
                n["params"]["statusBar"]["tooltip"] for n in server.notifications if n["method"] == "usage/didChange"
            ]
            if any("**Team sync**" in t and "last push: never" not in t for t in tips):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("no didChange after the push")
        team = server.request("usage/summary", {**SPAN, "scope": "team"})["result"]
        assert rounded(team) == rounded(local) and team["messages"] == 120
        rows = server.request("usage/interactions", {**SPAN, "scope": "team", "limit": 5})["result"]
        assert rows["total"] == 120 and len(rows["rows"]) == 5
        other = server.request("usage/limitHistory", {**SPAN, "scope": "team"})  # this machine's plan windows
        assert other["error"]["code"] == -32602 and '"team" is not answered by this method' in other["error"]["message"]
    finally:
        server.close()
    assert (d / "sync" / "status.json").exists() and (d / "sync" / "device-id").exists()


def test_team_scope_when_the_database_is_gone_is_an_error_not_a_crash(tmp_path):
    d = machine(tmp_path, "away", "alice", "postgresql://nobody:Pw-x9Secret@127.0.0.1:1/none?connect_timeout=2")
    server = RawServer(d)
    try:
        server.initialize()
        answer = server.request("usage/daily", {**SPAN, "scope": "team"})
        assert "cannot connect to the team database" in answer["error"]["message"]
        assert "Pw-x9Secret" not in str(answer)
        assert server.request("usage/summary", SPAN)["result"]["messages"] == 0  # local answers go on
    finally:
        server.close()
    assert load_config(d).sync_postgres.endswith("connect_timeout=2")


def test_sync_schedule_retries_with_backoff_and_follows_checkpoints():
    s = SyncSchedule(now=0.0)
    assert not s.due(START_DELAY_S - 0.1, seq=0)  # not in the first moments of a server
    assert s.due(10.0, seq=0)
    s.started(0)
    assert not s.due(11.0, seq=1)  # one push at a time
    s.finished(ok=False, now=11.0)
    assert not s.due(11.0 + RETRY_FIRST_S - 0.1, seq=0) and s.due(11.0 + RETRY_FIRST_S, seq=0)
    waits = []
    now = 20.0
    for _ in range(10):
        s.started(0)
        s.finished(ok=False, now=now)
        waits.append(s.next_at - now)
    assert waits[1] == 2 * waits[0] and max(waits) == RETRY_MAX_S
    s.started(3)
    s.finished(ok=True, now=1000.0)
    assert not s.due(1010.0, seq=3)  # nothing new since
    assert s.due(1010.0, seq=4)  # a checkpoint folded new records
    assert s.due(1000.0 + 301, seq=3)  # and now and then anyway


def test_config_sync_key(tmp_path):
    d = tmp_path / "c"
    d.mkdir()
    for text, expected, error in (
        ('[sync]\npostgres = "postgresql://db/usage"', "postgresql://db/usage", None),
        ("[sync]\npostgres = true", "", None),
        ("[sync]\npostgres = false", None, None),
        ("[sync]\npostgres = 5", None, "sync.postgres: expected a connection string"),
        ('[sync]\npostgress = "x"', None, "sync.postgress: unknown key (known: postgres)"),
    ):
        (d / "config.toml").write_text(text)
        cfg = load_config(d)
        assert cfg.sync_postgres == expected
        assert (error is None and not cfg.errors) or any(error in e for e in cfg.errors)


def _lock_rollups(conn) -> None:
    """Hold every rollup table and the records in `conn`'s transaction until it rolls back:
    team answers wait."""
    conn.execute(
        "LOCK TABLE usage_ls.daily, usage_ls.daily_models, usage_ls.daily_users, usage_ls.daily_projects, "
        "usage_ls.records IN ACCESS EXCLUSIVE MODE"
    )


def test_a_slow_team_answer_does_not_hold_up_the_editor(tmp_path, pg, main):
    """A team query waits for the database (here: the rollups locked by another session, so it
    cannot finish until the lock goes); meanwhile the status bar and local answers come at once."""
    d = machine(tmp_path, "laptop", "alice", pg)
    record(d, records("slow", 40))
    assert "40 new to the team database" in main(d, "sync").stdout
    server = RawServer(d)
    locker = psycopg.connect(pg)  # a transaction holding the lock until rollback
    try:
        server.initialize()
        _lock_rollups(locker)
        server.next_id += 1
        team_id = server.next_id
        server.send({"jsonrpc": "2.0", "id": team_id, "method": "usage/summary", "params": {**SPAN, "scope": "team"}})
        server.next_id += 1
        tools_id = server.next_id  # the Tool picker's names, from the team's records
        server.send({"jsonrpc": "2.0", "id": tools_id, "method": "usage/tools", "params": {**SPAN, "scope": "team"}})
        bar = server.request("usage/statusBar", {})["result"]
        local = server.request("usage/summary", SPAN)["result"]
        assert "cr" in bar["text"] and local["messages"] == 40
        waiting = {team_id, tools_id}
        assert not any(m.get("id") in waiting for m in server.others)  # still waiting for the lock
        locker.rollback()
        team = next((m for m in server.others if m.get("id") == team_id), None) or server.wait_for(team_id)
        assert team["result"]["messages"] == 40 and rounded(team["result"]) == rounded(local)
        tools = next((m for m in server.others if m.get("id") == tools_id), None) or server.wait_for(tools_id)
        assert tools["result"] == server.request("usage/tools", SPAN)["result"]
    finally:
        locker.close()
        server.close()


def test_a_slow_team_page_does_not_hold_up_the_editor(tmp_path, pg, main):
    """The Team view's page (`usage/dashboard` with scope team: a dozen team answers) waits for
    the database; meanwhile the status bar comes at once, and the page, once the lock goes,
    has the team's numbers and this machine's plan limits."""
    import json

    d = machine(tmp_path, "laptop", "alice", pg)
    record(d, records("page", 30))
    assert "30 new to the team database" in main(d, "sync").stdout
    server = RawServer(d)
    locker = psycopg.connect(pg)
    try:
        server.initialize()
        _lock_rollups(locker)
        server.next_id += 1
        page_id = server.next_id
        params = {**SPAN, "scope": "team", "billing": "all", "nonce": "n0nce-For-The-Webview-123"}
        server.send({"jsonrpc": "2.0", "id": page_id, "method": "usage/dashboard", "params": params})
        started = time.monotonic()
        bar = server.request("usage/statusBar", {})["result"]
        assert "cr" in bar["text"] and time.monotonic() - started < 5
        assert not any(m.get("id") == page_id for m in server.others)  # still waiting for the lock
        locker.rollback()
        page = next((m for m in server.others if m.get("id") == page_id), None) or server.wait_for(page_id)
        html = page["result"]["html"]
        boot = json.loads(html.split('id="usage-data">', 1)[1].split("</script>", 1)[0])
        assert boot["scope"] == "team" and boot["data"]["summary"]["messages"] == 30
        local = server.request("usage/limits", {})["result"]
        assert boot["data"]["limits"] == local  # this machine's, asked on the loop, not a placeholder
    finally:
        locker.close()
        server.close()
