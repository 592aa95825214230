"""The dashboard as the VS Code webview, as a static snapshot, live in the browser, and its CLI."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from dashboard_known import XSS_PROJECT, seed, wait_settled

from usage_ls import protocol
from usage_ls.dashboard import build_page
from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

USAGE_LS = str(Path(sys.executable).with_name("usage-ls"))

# A stand-in for the VS Code extension: acquireVsCodeApi() whose postMessage hands requests to
# Python (the test's language-server side) and posts the answers back as the extension does.
FAKE_VSCODE = """
window.__sent = [];
window.acquireVsCodeApi = () => ({
  postMessage(m) {
    window.__sent.push(m);
    if (m && m.type === 'usage-request') window.__usageBridge(m).then(r => window.postMessage(r, '*'));
  },
  getState() { return undefined; },
  setState() {},
});
document.addEventListener('DOMContentLoaded', () => {
  document.documentElement.style.setProperty('--vscode-editor-background', 'rgb(30, 31, 34)');
  document.documentElement.style.setProperty('--vscode-foreground', 'rgb(204, 204, 204)');
  document.body.classList.add('vscode-dark');
});
"""
# what the extension forwards to the language server (protocol.ts DASHBOARD_METHODS, the same
# list as the protocol's, tests/test_architecture.py), answered as the server does
METHODS = {m.name: m.call for m in protocol.DASHBOARD_METHODS.values()}


def today_record(rid: str, credits: float, **kw) -> dict:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "id": rid,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "model": "claude-sonnet-4-5",
        "project": "widget",
        "user": "alice",
        "inputTokens": 100,
        "outputTokens": 10,
        "credits": credits,
        "costUsd": credits / 100,
        **kw,
    }


@pytest.fixture
def small(tmp_path):
    data = tmp_path / "data"
    seed(data, [today_record("a", 2.0), today_record("b", 3.0, billing="byok", costUsd=0.25, model="gpt-4o")])
    return data


def test_webview_round_trips_filters_through_the_extension(small, open_page):
    svc = Usage(data_dir=small, tag="srv").open()  # the language server's side
    calls = []

    def bridge(msg):
        calls.append(msg)
        try:
            result = METHODS[msg["method"]](svc, msg["params"])
        except Exception as exc:
            return {"type": "usage-response", "id": msg["id"], "error": {"message": str(exc)}}
        return {"type": "usage-response", "id": msg["id"], "result": result}

    try:
        html = build_page(svc, {"nonce": "webview-nonce-0123456789"})["html"]
        page, guard = open_page(init_script=FAKE_VSCODE, bridge=bridge, html=html)
        assert page.evaluate("window.usageDashboard.mode") == "vscode"
        assert calls == []  # the first view is embedded: no round trip before first paint
        assert page.text_content("#kpi-money .k-value") == "2.0"
        # theme from the editor's variables
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(30, 31, 34)"

        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        page.click('#billing button[data-billing="byok"]')
        wait_settled(page, before)
        assert page.text_content("#kpi-money .k-value") == "$0.25"
        summary = next(c for c in calls if c["method"] == "usage/summary")
        assert summary["type"] == "usage-request" and isinstance(summary["id"], int)
        assert summary["params"]["billing"] == "byok" and summary["params"]["to"] == svc.today()
        assert {c["method"] for c in calls} <= set(METHODS)
        # the Insights card asks usage/insights through the same bridge, and shows dollars now
        insights = [c for c in calls if c["method"] == "usage/insights"]
        assert insights and insights[-1]["params"]["billing"] == "byok"
        assert page.text_content("#ins-burn .is-value") == "$0.25/h"  # record b, timestamped now

        # the server pushes usage/didChange; the extension posts usage-changed; the page re-queries
        svc.record([today_record("c", 0, billing="byok", costUsd=0.5, model="gpt-4o")])
        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        page.evaluate("window.postMessage({type: 'usage-changed'}, '*')")
        wait_settled(page, before)
        assert page.text_content("#kpi-money .k-value") == "$0.75"

        # an error from the extension is shown, not swallowed
        page.evaluate("window.postMessage({type: 'usage-response', id: 999999, error: {message: 'stray'}}, '*')")
        # CSV goes to the extension to save (a webview cannot download)
        page.click("#export")
        page.wait_for_function("() => window.__sent.some(m => m.type === 'usage-export')")
        export = page.evaluate("window.__sent.find(m => m.type === 'usage-export')")
        assert export["format"] == "csv" and export["filename"].endswith(".csv")
        assert export["content"].count("\r\n") == 3  # header + 2 BYOK rows
    finally:
        svc.close()


def test_export_says_what_happened_to_the_csv(small, open_page):
    """The note beside Export CSV: in VS Code the extension saves the file (the page only hands
    it over), the clipboard is mentioned only when the copy worked; a browser downloads it; one
    row is "1 row"."""
    svc = Usage(data_dir=small, tag="srv").open()

    def bridge(msg):
        return {
            "type": "usage-response",
            "id": msg["id"],
            "result": METHODS[msg["method"]](svc, msg["params"]),
        }

    html = build_page(svc, {"nonce": "webview-nonce-0123456789", "preset": "today", "billing": "premium"})["html"]
    note = "() => document.querySelector('#export-note').textContent"
    try:
        # the clipboard refuses (a webview without focus, say): the note does not claim a copy
        refuse = "navigator.clipboard.writeText = () => { window.__copyTried = true; return Promise.reject(new Error('denied')); };"
        page, _ = open_page(init_script=FAKE_VSCODE + refuse, bridge=bridge, html=html)
        page.click("#export")
        page.wait_for_function("() => window.__copyTried && window.__sent.some(m => m.type === 'usage-export')")
        page.evaluate("() => new Promise(r => setTimeout(r, 0))")  # the refusal has been handled
        assert page.evaluate(note) == "CSV of 1 row handed to VS Code to save"
        # the clipboard takes it: the note says so, and it holds the same CSV
        page, _ = open_page(init_script=FAKE_VSCODE, bridge=bridge, html=html)
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin="http://127.0.0.1:9")
        page.click("#export")
        page.wait_for_function(f"() => ({note})().includes('clipboard')")
        assert page.evaluate(note) == "CSV of 1 row handed to VS Code to save; also copied to the clipboard"
        export = page.evaluate("window.__sent.find(m => m.type === 'usage-export')")
        assert page.evaluate("navigator.clipboard.readText()") == export["content"].lstrip("\ufeff")
    finally:
        svc.close()
    # a browser: a download
    svc = Usage(data_dir=small, tag="cli", writable=False).open()
    srv = DashboardServer(svc, {"preset": "today", "billing": "premium"})
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        page, _ = open_page(srv.url)
        with page.expect_download() as dl:
            page.click("#export")
        name = dl.value.suggested_filename
        assert page.evaluate(note) == f"CSV of 1 row downloading as {name}"
        assert name == f"usage-{svc.today()}-premium.csv"
    finally:
        srv.shutdown()
        srv.server_close()
        svc.close()


def test_webview_without_usage_insights_still_works(small, open_page):
    """An extension whose allow-list predates usage/insights (it answers as the real one does
    for a method it does not forward): the card says so, the rest works."""
    svc = Usage(data_dir=small, tag="srv").open()

    def bridge(msg):
        if msg["method"] not in METHODS or msg["method"] == "usage/insights":
            return {
                "type": "usage-response",
                "id": msg["id"],
                "error": {"message": f"{msg['method']} is not available to the dashboard"},
            }
        return {
            "type": "usage-response",
            "id": msg["id"],
            "result": METHODS[msg["method"]](svc, msg["params"]),
        }

    try:
        html = build_page(svc, {"nonce": "webview-nonce-0123456789"})["html"]
        page, _ = open_page(init_script=FAKE_VSCODE, bridge=bridge, html=html)
        assert page.text_content("#ins-burn .is-value") == "2.0 credits/h"  # embedded in the page
        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        page.click('#billing button[data-billing="byok"]')
        wait_settled(page, before)
        assert page.text_content("#kpi-money .k-value") == "$0.25"
        assert page.is_hidden("#error")  # the page's numbers are fine
        assert (
            page.text_content("#insights-error")
            == "Insights are unavailable: usage/insights is not available to the dashboard"
        )
        assert page.is_hidden("#insights .ins-grid")
    finally:
        svc.close()


def test_webview_tool_picker_goes_through_the_extension(tmp_path, open_page):
    """The Tool picker in the webview: its names for another range come as usage/tools through
    postMessage, a tool's choice goes with every request; an extension whose allow-list predates
    usage/tools leaves the picker at what is chosen, says why, and the rest works."""
    data = tmp_path / "data"
    seed(data, [today_record("a", 2.0, feature="claude-code"), today_record("b", 3.0, feature="codex agent=x")])
    svc = Usage(data_dir=data, tag="srv").open()
    calls = []
    old = {"on": False}

    def bridge(msg):
        calls.append(msg)
        if old["on"] and msg["method"] == "usage/tools":
            return {
                "type": "usage-response",
                "id": msg["id"],
                "error": {"message": "usage/tools is not available to the dashboard"},
            }
        return {"type": "usage-response", "id": msg["id"], "result": METHODS[msg["method"]](svc, msg["params"])}

    tools = "() => [...document.querySelectorAll('#tool option')].map(o => o.value)"
    try:
        html = build_page(svc, {"nonce": "webview-nonce-0123456789", "preset": "today"})["html"]
        page, _ = open_page(init_script=FAKE_VSCODE, bridge=bridge, html=html)
        assert page.evaluate(tools) == ["", "claude-code", "codex"] and calls == []  # embedded
        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        page.select_option("#tool", "codex")
        wait_settled(page, before)
        assert page.text_content("#kpi-money .k-value") == "3.0"
        asked = {c["method"]: c["params"] for c in calls}
        assert {m for m, p in asked.items() if p.get("tool") == "codex"} >= {
            "usage/summary", "usage/tokenSplit", "usage/daily", "usage/interactions", "usage/sessions",
            "usage/insights", "usage/attribution",
        }  # fmt: skip
        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        page.click('#date-presets button[data-preset="7d"]')
        wait_settled(page, before)
        assert [c["params"] for c in calls if c["method"] == "usage/tools"] == [
            {"from": page.evaluate("window.usageDashboard.state.from"), "to": svc.today()}
        ]
        assert page.evaluate(tools) == ["", "claude-code", "codex"] and page.input_value("#tool") == "codex"

        old["on"] = True
        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        page.click('#date-presets button[data-preset="30d"]')
        wait_settled(page, before)
        assert page.is_hidden("#error") and page.text_content("#kpi-money .k-value") == "3.0"
        assert page.evaluate(tools) == ["", "codex"]  # what is chosen stays choosable
        assert page.get_attribute("#tool-pick", "title") == (
            "The tools are unavailable: usage/tools is not available to the dashboard"
        )
    finally:
        svc.close()


def test_browser_page_updates_live_when_usage_is_recorded(small, open_page):
    svc = Usage(data_dir=small, tag="cli", writable=False).open()
    srv = DashboardServer(svc, {"preset": "today"})
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        page, _ = open_page(srv.url)
        assert page.text_content("#kpi-money .k-value") == "2.0"
        writer = Usage(data_dir=small, tag="live").open()
        try:
            writer.record([today_record("d", 5.5)])
        finally:
            writer.close()
        page.wait_for_function(
            "() => document.querySelector('#kpi-money .k-value').textContent === '7.5'", timeout=10_000
        )
    finally:
        srv.shutdown()
        srv.server_close()
        svc.close()


def test_static_snapshot_works_offline(known, tmp_path, open_page, act):
    out = tmp_path / "snap.html"
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(known["data_dir"])}
    proc = subprocess.run(
        [USAGE_LS, "dashboard", "--out", str(out), "--from", (known["today"] - dt.timedelta(days=6)).isoformat()],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout
    html = out.read_text()
    assert "connect-src" not in html
    page, _ = open_page(out.as_uri(), allowed=("file://",))
    assert page.evaluate("window.usageDashboard.mode") == "static"
    assert page.text_content("#kpi-money .k-value") == "49.7"
    assert page.is_visible("#static-note")
    assert page.is_disabled('#date-presets button[data-preset="today"]') and page.is_disabled("#project")
    # sorting, paging and CSV still work from the embedded rows
    act(page, lambda: page.click('#rows-table th[data-sort="inputTokens"]'))
    assert page.text_content("#rows-table tbody tr td:nth-child(5)") == "2,000"
    act(page, lambda: page.click("#next"))
    assert page.text_content("#rows-label") == "51–100 of 126"
    with page.expect_download() as dl:
        page.click("#export")
    assert open(dl.value.path(), encoding="utf-8-sig", newline="").read().count("\r\n") == 127
    assert XSS_PROJECT in page.text_content("#projects-table")
    # the Insights card, from the embedded usage/insights
    assert (
        page.eval_on_selector("#insights", "e => e.classList.contains('loading') || e.classList.contains('failed')")
        is False
    )
    assert page.text_content("#ins-burn .is-value").endswith("credits/h")
    assert page.locator("#budgets .budget").count() == 1  # daily_credits = 16


def test_cli_serves_on_loopback_with_a_random_port(known):
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(known["data_dir"])}
    proc = subprocess.Popen(
        [USAGE_LS, "dashboard", "--no-open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=[A-Za-z0-9_-]+", line)
        assert m, line
        assert int(m.group(1)) > 0
        with urllib.request.urlopen(m.group(0), timeout=10) as resp:
            assert resp.status == 200
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
            assert b"AI Usage" in resp.read()
        # the same address without the run's token: nothing
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/", timeout=10)
        assert refused.value.code == 401
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()
        proc.stderr.close()


def test_cli_rejects_a_bad_filter_before_listening(known):
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(known["data_dir"])}
    t0 = time.monotonic()
    proc = subprocess.run(
        [USAGE_LS, "dashboard", "--no-open", "--from", "21/11/2026"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.returncode == 2 and "from:" in proc.stderr
    assert time.monotonic() - t0 < 30
