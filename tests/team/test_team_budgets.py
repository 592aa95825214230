"""Budgets for the team and per user from the team database: two machines push, a third
(alice's) server shows the team's budget and bob's from the rollup, in usage/insights, the
status bar and alerts told once; with the database gone it says so and never waits."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

from raw_server import RawServer
from team_helpers import machine, record

NOW = dt.datetime.now(dt.UTC)
BUDGETS = '\n[budgets.team]\nmonthly_credits = 100\n[budgets.users."bob"]\ndaily_credits = 50\n'


def _spend(prefix: str, n: int, usd: float) -> list[dict]:
    midnight = dt.datetime.combine(NOW.date(), dt.time(0, 0), dt.UTC)
    at = max(NOW - dt.timedelta(minutes=10), midnight + dt.timedelta(minutes=1)).isoformat()
    return [
        {
            "id": f"{prefix}-{i}",
            "timestamp": at,
            "model": "gpt-4o",
            "inputTokens": 100,
            "outputTokens": 10,
            "costUsd": usd,
        }
        for i in range(n)
    ]


def _configure(d, extra: str) -> None:
    text = d.joinpath("config.toml").read_text().replace('"\n[sync]', '"\ntimezone = "UTC"\n[sync]', 1)
    d.joinpath("config.toml").write_text(text + extra)


def _until(server: RawServer, method: str, ready) -> dict:
    for _ in range(300):  # the team database is read in the background: a bound, not a timing
        answer = server.request(method)["result"]
        if ready(answer):
            return answer
        time.sleep(0.1)
    raise AssertionError(f"{method} never got there: {answer}")


def _alerts(server: RawServer) -> list[str]:
    return [
        n["params"]["message"]
        for n in server.notifications
        if n["method"] == "window/showMessage" and "of budget reached" in n["params"]["message"]
    ]


def test_team_and_other_users_budgets_from_the_team_database(tmp_path, pg, main):
    alice, bob = machine(tmp_path, "alice", "alice", pg), machine(tmp_path, "bob", "bob", pg)
    _configure(alice, BUDGETS)
    _configure(bob, BUDGETS)
    record(alice, _spend("a", 2, 0.10))  # 20 credits
    record(bob, _spend("b", 3, 0.20))  # 60 credits: 120% of his day
    assert main(alice, "sync").returncode == 0 and main(bob, "sync").returncode == 0

    server = RawServer(alice)
    try:
        server.initialize()
        ins = _until(server, "usage/insights", lambda a: all(b["used"] is not None for b in a["budgets"]))
        by = {(b["user"], b["team"]): b for b in ins["budgets"]}
        team, of_bob = by[(None, True)], by[("bob", False)]
        assert (team["used"], team["percent"], team["source"]) == (80.0, 80.0, "team")
        assert (of_bob["used"], of_bob["budget"], of_bob["source"]) == (60.0, "daily_credits", "team")
        sb = _until(server, "usage/statusBar", lambda a: "Team · This month: 20.0" in a["tooltip"])
        assert "Team · This month: 20.0 of 100 credits left (80% used)" in sb["tooltip"]
        assert "bob · Today: 0.0 of 50.0 credits left (120% used)" in sb["tooltip"]
        assert sb["level"] == "error"  # bob is past his day's budget
        _until(server, "usage/summary", lambda a: len(_alerts(server)) >= 2)
        alerts = _alerts(server)
        assert any("Team · This month 80% of budget reached: 80.0 credits of 100 credits" in m for m in alerts)
        assert any("bob · Today 100% of budget reached" in m for m in alerts)
        server.request("usage/summary")
        assert len(_alerts(server)) == 2  # once each
    finally:
        server.close()
    # a command waits for the database's answer
    done = main(bob, "insights")
    assert "Team · This month: 20.0 of 100 credits left (80% used)" in done.stdout, done.stdout


def test_budgets_say_the_team_database_is_unavailable_and_never_wait(tmp_path, main):
    # a "database" that takes connections and never answers: the server must not wait for it
    silent = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(silent.accept()[0]), daemon=True).start()
    port = silent.getsockname()[1]
    conninfo = f"postgresql://nobody:Pw-x9Secret@127.0.0.1:{port}/none?connect_timeout=60&sslmode=disable"
    d = machine(tmp_path, "away", "alice", conninfo)
    _configure(d, BUDGETS)
    record(d, _spend("a", 1, 0.10))
    server = RawServer(d)
    try:
        server.initialize()
        first = server.request("usage/statusBar")["result"]  # while the database is silent
        assert "Team · This month: unavailable (not read from the team database yet)" in first["tooltip"]
        assert server.request("usage/summary")["result"]["messages"] == 1  # local answers go on
        _until(server, "usage/summary", lambda a: held)  # the server's reader did connect
        for conn in held:
            conn.close()  # the database goes away
        silent.close()
        sb = _until(server, "usage/statusBar", lambda a: "not read" not in a["tooltip"])
        assert "Team · This month: unavailable (cannot connect to the team database" in sb["tooltip"]
        assert "Pw-x9Secret" not in sb["tooltip"] and sb["level"] == "normal"
    finally:
        server.close()
    done = main(d, "insights")  # a command waits, and says so too
    assert done.returncode == 0 and "bob · Today: unavailable (cannot connect" in done.stdout
