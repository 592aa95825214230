"""The dashboard's Local / Team switch in headless Chromium: two machines (Alice's, Bob's) push
into one real PostgreSQL (tests/team/pg_cluster.py); on Alice's dashboard, Team shows the sum of
both, the User filter lists both, names stay text; without [sync] postgres there is no switch;
with the database gone, the page says so and Local still works; the Tool picker lists the team's
tools in Team and applies one (from the team's records)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
from pathlib import Path

import pytest
from dashboard_known import seed

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

sys.path.insert(0, str(Path(__file__).parent.parent / "team"))
from pg_cluster import make_cluster, remove

XSS_PROJECT = '<img src=x onerror="alert(1)">'
SECRET = "Pw-x9Secret"


def day_records(
    prefix: str, today: dt.date, n: int, project: str, model: str, feature: str = "claude-code"
) -> list[dict]:
    out = []
    for i in range(n):
        day = today - dt.timedelta(days=1 + i % 3)  # the last 7 days, whatever the hour
        out.append(
            {
                "id": f"{prefix}-{i}",
                "timestamp": f"{day.isoformat()}T{9 + i % 8:02d}:{i % 60:02d}:00Z",
                "model": model,
                "inputTokens": 3000 + 11 * i,
                "outputTokens": 400 + i,
                "cacheReadTokens": 1000 * (i % 4),
                "project": project,
                "session": f"{prefix}-s{i % 3}",
                "feature": feature,
            }
        )
    return out


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    cluster = make_cluster()
    if cluster is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    import psycopg

    from usage_ls.team import push

    try:
        with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE dash")
        pg = cluster.conninfo("dash")
        root = tmp_path_factory.mktemp("machines")
        today = dt.datetime.now(dt.UTC).date()
        sync = f"[sync]\npostgres = {json.dumps(pg)}\n"
        alice, bob, solo = root / "alice", root / "bob", root / "solo"
        seed(
            alice,
            day_records("a", today, 30, "widget", "claude-sonnet-4-5"),
            f'timezone = "UTC"\nuser = "alice"\n{sync}',
        )
        bobs = day_records("b", today, 19, "api-gateway", "gpt-4.1", "codex") + day_records(
            "x", today, 1, XSS_PROJECT, "gpt-4.1"
        )
        seed(bob, bobs, f'timezone = "UTC"\nuser = "bob"\n{sync}')
        seed(solo, day_records("s", today, 5, "solo", "gpt-4.1"), 'timezone = "UTC"\nuser = "solo"\n')
        for d in (alice, bob):
            assert push.push(d, dt.UTC, pg).inserted > 0
        yield {"alice": alice, "bob": bob, "solo": solo}
    finally:
        remove(cluster)


@pytest.fixture
def serve():
    started = []

    def _serve(data_dir: Path) -> DashboardServer:
        svc = Usage(data_dir=data_dir, tag="cli", writable=False).open()
        srv = DashboardServer(svc, {})
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append((srv, svc))
        return srv

    yield _serve
    for srv, svc in started:
        srv.shutdown()
        srv.server_close()
        svc.close()


def shown(page) -> dict:
    return page.evaluate(
        """() => ({
        switch: !document.getElementById('scope').hidden,
        messages: document.querySelector('#kpi-messages .k-value').textContent,
        tokens: document.querySelector('#kpi-tokens .k-value').title,
        users: [...document.querySelectorAll('#user option')].map(o => o.value),
        usersTable: [...document.querySelectorAll('#users-table tbody tr td:first-child')].map(td => td.textContent),
        projects: [...document.querySelectorAll('#projects-table tbody tr td:first-child')].map(td => td.textContent),
        rows: window.usageDashboard.rows.total,
        sessions: window.usageDashboard.sessions && window.usageDashboard.sessions.total,
        error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
        summary: window.usageDashboard.view.summary,
    })"""
    )


def test_team_mode_adds_up_both_machines(machines, serve, open_page, act, tmp_path):
    page, _guard = open_page(serve(machines["solo"]).url)
    assert shown(page)["switch"] is False  # no [sync] postgres: no switch

    page, _guard = open_page(serve(machines["alice"]).url)
    local = shown(page)
    assert local["switch"] is True and local["users"] == ["", "alice"] and local["rows"] == 30

    # a tool chosen in Local stays chosen in Team: the picker lists the team's tools (from its
    # records: Bob's codex too) and the Team view's numbers are asked by it
    assert page.evaluate("[...document.querySelectorAll('#tool option')].map(o => o.value)") == ["", "claude-code"]
    act(page, lambda: page.select_option("#tool", "claude-code"))
    assert shown(page)["rows"] == 30
    sent = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if "/api/" in r.url and r.post_data else None)
    act(page, lambda: page.click('#scope button[data-scope="team"]'))
    by_tool = shown(page)
    assert by_tool["error"] is None and not page.is_disabled("#tool") and page.input_value("#tool") == "claude-code"
    teams = [p for p in sent if p.get("scope") == "team"]
    assert [p for p in teams if p.get("tool") == "claude-code"]  # (the pickers' lists: not by tool)
    assert page.evaluate("[...document.querySelectorAll('#tool option')].map(o => o.value)") == [
        "",
        "claude-code",
        "codex",
    ]
    assert "team" in page.get_attribute("#tool-pick", "title")
    assert by_tool["summary"]["messages"] == by_tool["rows"] == 31  # Alice's 30, Bob's one claude-code record
    assert "not asked by tool" in page.text_content("#insights-error")  # said, not hidden
    act(page, lambda: page.select_option("#tool", "codex"))
    codex = shown(page)
    assert codex["summary"]["messages"] == codex["rows"] == 19 and codex["usersTable"] == ["bob"]
    act(page, lambda: page.select_option("#tool", ""))
    team = shown(page)
    flt = {
        "from": page.evaluate("window.usageDashboard.state.from"),
        "to": page.evaluate("window.usageDashboard.state.to"),
    }
    sums = []
    for d in (machines["alice"], machines["bob"]):
        svc = Usage(data_dir=d, writable=False).open()
        try:
            sums.append(svc.summary({**flt, "billing": "premium"}))
        finally:
            svc.close()
    assert team["error"] is None
    assert team["summary"]["messages"] == sums[0]["messages"] + sums[1]["messages"] == 50
    assert team["summary"]["totalTokens"] == sums[0]["totalTokens"] + sums[1]["totalTokens"]
    assert round(team["summary"]["credits"], 6) == round(sums[0]["credits"] + sums[1]["credits"], 6)
    assert team["messages"] == "50" and team["tokens"] == f"{team['summary']['totalTokens']:,} tokens"
    assert team["users"] == ["", "alice", "bob"] and sorted(team["usersTable"]) == ["alice", "bob"]
    assert XSS_PROJECT in team["projects"]  # a name is text, never markup (the guard fails on a dialog)
    assert team["rows"] == 50 and team["sessions"] == 7
    shot = Path(os.environ.get("USAGE_LS_SHOT_DIR") or tmp_path) / "dashboard-team.png"
    page.screenshot(path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1400, "height": 1560})
    assert shot.stat().st_size > 10_000

    act(page, lambda: page.select_option("#user", "bob"))  # one person, across every machine
    assert shown(page)["summary"]["messages"] == 20 and shown(page)["rows"] == 20


def test_team_mode_with_the_database_gone(machines, serve, open_page, act, tmp_path):
    away = tmp_path / "away"
    conninfo = f"postgresql://alice:{SECRET}@127.0.0.1:1/none?connect_timeout=2"
    seed(
        away,
        day_records("w", dt.datetime.now(dt.UTC).date(), 4, "far", "gpt-4.1"),
        f'timezone = "UTC"\nuser = "alice"\n[sync]\npostgres = {json.dumps(conninfo)}\n',
    )
    page, _guard = open_page(serve(away).url)
    act(page, lambda: page.click('#scope button[data-scope="team"]'))
    gone = shown(page)
    assert (
        gone["error"].startswith("Team numbers are unavailable.")
        and "cannot connect to the team database" in gone["error"]
    )
    assert SECRET not in gone["error"] and SECRET not in page.content()
    assert page.evaluate("document.getElementById('app').classList.contains('team-down')")
    if os.environ.get("USAGE_LS_SHOT_DIR"):  # to look at it
        page.screenshot(path=os.path.join(os.environ["USAGE_LS_SHOT_DIR"], "dashboard-team-down.png"))
    act(page, lambda: page.click('#scope button[data-scope="local"]'))
    back = shown(page)
    assert back["error"] is None and back["summary"]["messages"] == 4
