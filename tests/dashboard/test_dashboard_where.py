"""The dashboard's "Where it went" card (usage/attribution) in headless Chromium: each agent,
skill and MCP server with what it spent, in credits or dollars, names shown as text."""

from __future__ import annotations

import datetime as dt
import threading

from dashboard_known import seed, wait_settled

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

XSS_AGENT = "<img/src/onerror=alert(1)>"  # markup if it were ever put into innerHTML


def _rec(rid: str, feature: str, credits: float, **kw) -> dict:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "id": rid,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "model": "claude-sonnet-4-5",
        "project": "widget",
        "inputTokens": 1000,
        "outputTokens": 100,
        "credits": credits,
        "costUsd": credits / 100,
        "feature": feature,
        **kw,
    }


def _card(page) -> dict:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#where .where-col')].map(c => [c.dataset.kind,
        [...c.querySelectorAll('li[data-name]')].map(li => [li.querySelector('.where-name').textContent,
                                                           li.querySelector('.where-v').textContent])]))"""
    )


def test_where_it_went_lists_agents_skills_and_mcp_servers_by_spend(tmp_path, open_page):
    data = tmp_path / "data"
    seed(
        data,
        [
            _rec("a", "claude-code agent=code-reviewer mcp=github query=subagent", 410.0),
            _rec("b", "claude-code agent=code-reviewer query=subagent", 100.0),
            _rec("c", f"claude-code agent={XSS_AGENT} query=subagent", 20.0),
            _rec("d", "claude-code skill=pdf", 50.0),
            _rec("e", "claude-code", 200.0),
            _rec("f", "claude-code agent=planner", 0.25, billing="byok", costUsd=0.25),
        ],
    )
    svc = Usage(data_dir=data, tag="cli", writable=False).open()
    server = DashboardServer(svc, {"preset": "today"})
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        page, _guard = open_page(server.url)
        page.wait_for_selector("#where .where-col")
        card = _card(page)
        assert card["agent"] == [
            ["code-reviewer", "510.0 credits"],
            [XSS_AGENT, "20.0 credits"],
        ]  # the BYOK record is not in Premium
        assert card["mcp"] == [["github", "410.0 credits"]] and card["skill"] == [["pdf", "50.0 credits"]]
        assert card["query"] == [["subagent", "530.0 credits"]]
        assert "plugin" not in card  # no plugin spent anything: no column
        hint = page.text_content("#where-hint")
        assert (
            hint
            == "580.0 credits of 780.0 credits (74%) attributed · 1 message without attribution (main threads, other tools)"
        )
        assert page.evaluate("document.querySelectorAll('img').length") == 0  # the name stayed text
        # the card is between the users and the interactions
        order = page.evaluate("[...document.querySelectorAll('.grid > .card')].map(c => c.id || '')")
        assert order.index("where") == len(order) - 2
        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        page.click('#billing button[data-billing="byok"]')
        wait_settled(page, before)
        assert _card(page) == {"agent": [["planner", "$0.25"]]}
        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        page.click('#date-presets button[data-preset="yesterday"]')
        wait_settled(page, before)
        assert "No attributed usage in this range" in page.text_content("#where")
    finally:
        server.shutdown()
        server.server_close()
        svc.close()
