"""The dashboard's Sessions table in headless Chromium: one row per conversation, newest first,
with its sub-agents' share; a click shows only that session's interactions. Its own small
ledger (three sessions, one with a sub-agent, one whose id and project are markup)."""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import pytest
from dashboard_known import seed, wait_settled

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

XSS_SESSION = "<img src=x onerror=alert(1)>"
XSS_PROJECT = "<svg onload=alert(2)>proj</svg>"


def _records(today: dt.date) -> list[dict]:
    def rec(n: int, minute: int, session: str, **kw) -> dict:
        ts = dt.datetime.combine(today, dt.time(0, 0), dt.UTC) + dt.timedelta(minutes=minute)
        base = {
            "id": f"s{n}",
            "timestamp": ts.isoformat().replace("+00:00", "Z"),
            "model": "claude-sonnet-4-5",
            "project": "widget",
            "billing": "byok",
            "inputTokens": 100,
            "outputTokens": 10,
            "costUsd": 0.1,
            "credits": 1.0,
            "session": session,
            "feature": "claude-code",
        }
        return {**base, **kw}

    return [
        # "alpha": 10:00-10:30, three main calls and one sub-agent call of $0.30 (half the cost)
        rec(1, 600, "alpha-0001"),
        rec(2, 610, "alpha-0001"),
        rec(
            3, 620, "alpha-0001", model="claude-haiku-4-5", feature="claude-code agent=a1b2 query=subagent", costUsd=0.3
        ),
        rec(4, 630, "alpha-0001"),
        # "beta": 11:00, one call
        rec(5, 660, "beta-0002", project="api", model="gpt-4.1-mini", feature="codex", costUsd=0.05),
        # a session id and project that are markup, 12:00
        rec(6, 720, XSS_SESSION, project=XSS_PROJECT),
        # a record without a session: not a row of the table
        {**rec(7, 700, ""), "session": None},
    ]


@pytest.fixture(scope="module")
def sessions_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("sessions") / "data"
    seed(data, _records(dt.datetime.now(dt.UTC).date()))
    svc = Usage(data_dir=data, tag="cli", writable=False).open()
    srv = DashboardServer(svc, {"billing": "byok", "preset": "today"})
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    svc.close()


def _table(page, table_id: str) -> list[list[str]]:
    return page.evaluate(
        "id => [...document.querySelectorAll('#' + id + ' tbody tr')].map(tr => [...tr.cells].map(td => td.textContent.trim()))",
        table_id,
    )


def test_sessions_table_and_a_click_filtering_the_interactions(sessions_server, open_page, act):
    page, _guard = open_page(sessions_server.url)
    rows = _table(page, "sessions-table")
    # newest first; the record without a session is no row
    assert [r[1] for r in rows] == [XSS_SESSION[:8], "beta-000", "alpha-00"]
    alpha = rows[2]
    assert alpha[2] == "widget" and alpha[3] == "claude-sonnet-4-5, claude-haiku-4-5"
    assert alpha[4:8] == ["30m", "4", "440", "$0.60"]
    assert alpha[8] == "50%"  # the sub-agent's $0.30 of $0.60
    assert rows[1][8] == "—"
    assert page.text_content("#sessions-label") == "1–3 of 3"
    # markup in a session id or project is text
    assert rows[0][2] == XSS_PROJECT
    assert page.get_attribute("#sessions-table tbody tr:first-child td:nth-child(2)", "title") == XSS_SESSION
    assert page.evaluate("document.querySelectorAll('img, svg[onload]').length") == 0
    assert page.text_content("#rows-label") == "1–7 of 7"

    act(page, lambda: page.click('#sessions-table tr[data-session="alpha-0001"]'))
    assert page.text_content("#rows-label") == "1–4 of 4"
    assert {r[2] for r in _table(page, "rows-table")} == {"claude-sonnet-4-5", "claude-haiku-4-5"}
    assert "alpha-0001" in page.text_content("#rows-session")
    assert "filtered" in _table(page, "sessions-table")[2][1]
    if os.environ.get("USAGE_LS_SCREENSHOTS"):
        Path(os.environ["USAGE_LS_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
        page.locator("#sessions-card").screenshot(path=os.environ["USAGE_LS_SCREENSHOTS"] + "/sessions.png")

    act(page, lambda: page.click(f'#sessions-table tr[data-session="{XSS_SESSION}"]'))
    assert page.text_content("#rows-label") == "1–1 of 1"
    assert _table(page, "rows-table")[0][1] == XSS_PROJECT

    before = page.eval_on_selector("#app", "e => e.dataset.gen")
    page.click("#rows-session-clear")
    wait_settled(page, before)
    assert page.text_content("#rows-label") == "1–7 of 7"
    assert page.text_content("#rows-session") == ""
