"""The dashboard's Tool filter in headless Chromium: the picker lists the tools with records in
the page's range (`usage/tools`), and one tool's choice narrows every card to its records.

The ledger (UTC, Premium, credits given) is small enough to add up by hand:

    today      c1  claude-code                 widget  alice  claude-sonnet-4-5  1000 in  200 out  3000 cache read  10.0 cr
    today      c2  claude-code agent=reviewer  api     alice  claude-haiku-4-5    500 in  100 out                    2.5 cr
    today      x1  codex                       widget  bob    gpt-5              3000 in  300 out                    4.0 cr
    yesterday  x2  codex                       docs    bob    gpt-5-mini          800 in   80 out                    1.5 cr
    today      t1  XSS_TOOL                    widget  carol  gpt-4.1              50 in    5 out                    0.5 cr
    today      n1  (no feature)                widget  alice  gpt-4.1             100 in   10 out                    1.0 cr
    20 days    g1  gemini                      docs    carol  gemini-2.5-pro      700 in   70 out                    7.0 cr

Last 7 days: every tool 19.5 credits, 6 messages; codex 5.5 credits, 2 messages, 4,180
tokens; claude-code 12.5 credits, 2 messages, 4,800 tokens; XSS_TOOL 0.5 credits, 1 message.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest
from dashboard_known import _rec, seed

from usage_ls.dashboard import build_page
from usage_ls.dashboard.serve import DashboardServer
from usage_ls.errors import InvalidParams
from usage_ls.service import Usage

USAGE_LS = str(Path(sys.executable).with_name("usage-ls"))
# a tool is a feature's first word without "=": no space and no "=" (so no event handler), but
# it can still close the data element or be markup
XSS_TOOL = "</script><script>alert(1)</script><b>bold</b>"


def tool_records(today: dt.date) -> list[dict]:
    d = lambda n: today - dt.timedelta(days=n)
    P = "premium"
    return [
        _rec(d(0), 1, id="c1", feature="claude-code", session="s-claude", project="widget", user="alice",
             model="claude-sonnet-4-5", billing=P, inputTokens=1000, outputTokens=200, cacheReadTokens=3000,
             credits=10.0, costUsd=0.1),
        _rec(d(0), 2, id="c2", feature="claude-code agent=reviewer", session="s-claude", project="api", user="alice",
             model="claude-haiku-4-5", billing=P, inputTokens=500, outputTokens=100, credits=2.5, costUsd=0.025),
        _rec(d(0), 3, id="x1", feature="codex", session="s-codex", project="widget", user="bob",
             model="gpt-5", billing=P, inputTokens=3000, outputTokens=300, credits=4.0, costUsd=0.04),
        _rec(d(1), 4, id="x2", feature="codex", session="s-codex-2", project="docs", user="bob",
             model="gpt-5-mini", billing=P, inputTokens=800, outputTokens=80, credits=1.5, costUsd=0.015),
        _rec(d(0), 5, id="t1", feature=XSS_TOOL, project="widget", user="carol",
             model="gpt-4.1", billing=P, inputTokens=50, outputTokens=5, credits=0.5, costUsd=0.005),
        _rec(d(0), 6, id="n1", project="widget", user="alice",
             model="gpt-4.1", billing=P, inputTokens=100, outputTokens=10, credits=1.0, costUsd=0.01),
        _rec(d(20), 7, id="g1", feature="gemini", project="docs", user="carol",
             model="gemini-2.5-pro", billing=P, inputTokens=700, outputTokens=70, credits=7.0, costUsd=0.07),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def tooled(tmp_path_factory):
    data = tmp_path_factory.mktemp("tools") / "data"
    today = dt.datetime.now(dt.UTC).date()
    seed(data, tool_records(today))
    return {"data_dir": data, "today": today}


@pytest.fixture(scope="module")
def tool_server(tooled):
    svc = Usage(data_dir=tooled["data_dir"], tag="cli", writable=False).open()
    srv = DashboardServer(svc, {})
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()
    svc.close()


# the page's own three <script> elements (data, Chart.js, its script), and no <b>bold</b> of a name
MARKUP = "[document.scripts.length, [...document.querySelectorAll('b')].filter(b => b.textContent === 'bold').length]"


def seen(page) -> dict:
    """What the user sees of the filter and the cards."""
    return page.evaluate(
        """() => {
        const texts = (sel) => [...document.querySelectorAll(sel)].map(e => e.textContent.trim());
        const chart = (id) => Chart.getChart(id);
        return {
          options: [...document.querySelectorAll('#tool option')].map(o => [o.value, o.textContent]),
          picked: document.getElementById('tool').value,
          disabled: document.getElementById('tool').disabled,
          title: document.getElementById('tool-pick').title,
          money: document.querySelector('#kpi-money .k-value').textContent,
          messages: document.querySelector('#kpi-messages .k-value').textContent,
          messagesSub: document.querySelector('#kpi-messages .k-sub').textContent,
          tokens: document.querySelector('#kpi-tokens .k-value').title,
          legend: texts('#model-legend li .lg-name'),
          legendEmpty: texts('#model-legend li.empty'),
          modelsTable: texts('#models-table tbody tr td:first-child'),
          daily: chart('chart-daily').data.datasets.map(d => [d.label, d.data.reduce((a, x) => a + x, 0)]),
          trendInput: chart('chart-trend').data.datasets[0].data.reduce((a, x) => a + x, 0),
          projects: texts('#projects-table tbody tr td:first-child'),
          users: texts('#users-table tbody tr td:first-child'),
          rows: [...document.querySelectorAll('#rows-table tbody tr')].map(tr => [...tr.cells].map(td => td.textContent.trim())),
          sessions: texts('#sessions-table tbody tr td:nth-child(2)'),
          where: [...document.querySelectorAll('#where .where-col li[data-name]')].map(li => li.dataset.name),
          whereEmpty: texts('#where .where-empty'),
          insightsHint: document.getElementById('insights-hint').textContent,
          clear: !document.getElementById('clear').hidden,
          error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
        };
      }"""
    )


def test_the_tool_picker_lists_the_tools_in_range_and_narrows_every_card(tool_server, open_page, act):
    page, _ = open_page(tool_server.url)
    s = seen(page)
    # the last 7 days: three tools (gemini's record is 20 days old); the record without a feature is in none
    assert s["options"] == [["", "All tools"], [XSS_TOOL, XSS_TOOL], ["claude-code", "claude-code"], ["codex", "codex"]]
    assert s["picked"] == "" and not s["disabled"] and not s["clear"]
    assert (s["money"], s["messages"]) == ("19.5", "6")

    act(page, lambda: page.select_option("#tool", "codex"))
    s = seen(page)
    assert s["error"] is None and s["picked"] == "codex" and s["clear"]
    assert (s["money"], s["messages"], s["tokens"]) == ("5.5", "2", "4,180 tokens")  # x1 + x2
    assert sorted(s["legend"]) == ["gpt-5", "gpt-5-mini"] and sorted(s["modelsTable"]) == ["gpt-5", "gpt-5-mini"]
    assert sorted(s["daily"]) == [["gpt-5", 4.0], ["gpt-5-mini", 1.5]]
    assert s["trendInput"] == 3800
    assert s["projects"] == ["widget", "docs"] and s["users"] == ["bob"]
    assert [(r[1], r[2], r[3], r[4]) for r in s["rows"]] == [
        ("widget", "gpt-5", "bob", "3,000"),
        ("docs", "gpt-5-mini", "bob", "800"),
    ]
    assert sorted(s["sessions"]) == ["s-codex", "s-codex-"]  # the first 8 characters of s-codex-2
    assert s["where"] == [] and s["whereEmpty"][0].startswith("No attributed usage in this range")
    assert "(for this tool)" in s["insightsHint"]

    act(page, lambda: page.select_option("#tool", "claude-code"))
    s = seen(page)
    assert (s["money"], s["messages"], s["tokens"]) == ("12.5", "2", "4,800 tokens")  # c1 + c2
    assert sorted(s["legend"]) == ["claude-haiku-4-5", "claude-sonnet-4-5"]
    assert sorted(r[1] for r in s["rows"]) == ["api", "widget"] and s["sessions"] == ["s-claude"]
    assert s["where"] == ["reviewer"]  # c2's agent

    act(page, lambda: page.select_option("#tool", XSS_TOOL))
    s = seen(page)
    assert (s["money"], s["messages"]) == ("0.5", "1") and s["users"] == ["carol"]

    # the last 30 days: gemini too; the choice stays
    act(page, lambda: page.click('#date-presets button[data-preset="30d"]'))
    s = seen(page)
    assert [v for v, _ in s["options"]] == ["", XSS_TOOL, "claude-code", "codex", "gemini"]
    assert s["picked"] == XSS_TOOL and s["money"] == "0.5"
    act(page, lambda: page.select_option("#tool", "gemini"))
    assert (seen(page)["money"], seen(page)["projects"]) == ("7.0", ["docs"])

    act(page, lambda: page.click("#clear"))  # Clear filters drops the tool too
    s = seen(page)
    assert s["picked"] == "" and (s["money"], s["messages"]) == ("26.5", "7")
    # a tool's name is text: nothing of it became an element, nothing ran (the guard fails on a dialog)
    assert page.evaluate(MARKUP) == [3, 0]


def test_the_url_opens_on_a_tool_and_a_script_like_name_stays_text(tool_server, open_page):
    url = tool_server.url + "&tool=" + urllib.parse.quote(XSS_TOOL)
    page, _ = open_page(url)
    s = seen(page)
    assert s["picked"] == XSS_TOOL and [XSS_TOOL, XSS_TOOL] in s["options"]
    assert (s["money"], s["messages"], s["users"]) == ("0.5", "1", ["carol"])
    assert page.evaluate(MARKUP) == [3, 0]
    assert page.evaluate("JSON.parse(document.getElementById('usage-data').textContent).filter.tool") == XSS_TOOL


def test_a_tool_with_no_records_in_range_reads_like_any_empty_filter(tool_server, open_page, act):
    page, _ = open_page(tool_server.url + "&tool=aider")
    s = seen(page)
    assert s["error"] is None
    assert s["picked"] == "aider" and s["options"][:2] == [["", "All tools"], ["aider", "aider"]]  # kept, first
    assert (s["money"], s["messages"], s["messagesSub"]) == ("0.0", "0", "no messages in this range")
    assert s["legendEmpty"] == ["No usage in this range"] and s["rows"] == [["No interactions in this range"]]
    assert s["sessions"] == [] and s["projects"] == ["No usage in this range"]
    act(page, lambda: page.select_option("#tool", ""))
    assert seen(page)["money"] == "19.5"


def test_the_static_snapshot_holds_one_tools_numbers(tooled, tmp_path, open_page):
    out = tmp_path / "codex.html"
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(tooled["data_dir"])}
    proc = subprocess.run(
        [USAGE_LS, "dashboard", "--out", str(out), "--tool", "codex"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    page, _ = open_page(out.as_uri(), allowed=("file://",))
    s = seen(page)
    assert s["picked"] == "codex" and s["disabled"]  # filters need the live dashboard
    assert (s["money"], s["messages"]) == ("5.5", "2") and len(s["rows"]) == 2


def test_usage_tools_and_the_team_view_without_a_database(tooled, tool_server):
    svc = tool_server.svc
    today = tooled["today"]
    week = {"from": (today - dt.timedelta(days=6)).isoformat(), "to": today.isoformat()}
    month = {"from": (today - dt.timedelta(days=29)).isoformat(), "to": today.isoformat()}

    def post(method: str, body: dict) -> tuple[int, dict]:
        host, port = tool_server.server_address[:2]
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request(
            "POST",
            f"/api/{method}",
            json.dumps(body),
            {"Content-Type": "application/json", "Authorization": f"Bearer {tool_server.token}"},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())

    assert post("tools", week) == (200, {"tools": [XSS_TOOL, "claude-code", "codex"]})
    assert post("tools", {**month, "billing": "byok", "model": "gpt-5"}) == (
        200,
        {"tools": [XSS_TOOL, "claude-code", "codex", "gemini"]},  # the range only
    )
    status, err = post("tools", {**week, "scope": "team"})
    assert status == 400 and err["error"]["message"].startswith("scope:")
    # the page's first view: its picker's names, the chosen tool's numbers; "all" is every tool
    boot = json.loads(
        build_page(svc, {**week, "tool": "codex", "mode": "static"})["html"]
        .split('id="usage-data">', 1)[1]
        .split("</script>", 1)[0]
    )
    assert boot["filter"]["tool"] == "codex" and boot["data"]["summary"]["credits"] == pytest.approx(5.5)
    assert boot["data"]["options"]["tools"] == [XSS_TOOL, "claude-code", "codex"]
    assert (
        "tool"
        not in json.loads(
            build_page(svc, {**week, "tool": "all"})["html"].split('id="usage-data">', 1)[1].split("</script>", 1)[0]
        )["filter"]
    )
    # the Team view by tool asks the team database (tests/dashboard/test_dashboard_team.py):
    # without [sync] postgres that is said, naming scope
    with pytest.raises(InvalidParams) as exc:
        build_page(svc, {**week, "tool": "codex", "scope": "team"})
    assert str(exc.value).startswith('scope: "team" needs the team database')
