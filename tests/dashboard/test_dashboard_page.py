"""The dashboard page and its local server, without a browser: CSP, escaping, the HTTP API."""

from __future__ import annotations

import http.client
import json
import re

import pytest
from dashboard_known import FORMULA_PROJECT, XSS_MODEL, XSS_PROJECT

from usage_ls.dashboard import build_page
from usage_ls.dashboard.page import json_for_script
from usage_ls.errors import InvalidParams
from usage_ls.service import Usage


@pytest.fixture(scope="module")
def svc(known):
    s = Usage(data_dir=known["data_dir"], tag="cli", writable=False).open()
    yield s
    s.close()


def boot_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="usage-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_page_uses_the_clients_nonce_and_a_strict_csp(svc):
    nonce = "n0nce-For-The-Webview-123"
    html = build_page(svc, {"nonce": nonce})["html"]
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html).group(1)
    assert "default-src 'none'" in meta
    assert f"script-src 'nonce-{nonce}'" in meta and f"style-src 'nonce-{nonce}'" in meta
    assert "img-src data:" in meta
    assert "connect-src" not in meta  # the webview page talks only through postMessage
    assert "unsafe-inline" not in meta and "unsafe-eval" not in meta
    # every executable script and style carries the nonce; the data script is JSON, not script
    for tag in re.findall(r"<(script|style)([^>]*)>", html):
        assert f'nonce="{nonce}"' in tag[1] or 'type="application/json"' in tag[1], tag
    assert not re.search(r"\son[a-z]+=", html.split('<script type="application/json"')[0])  # no inline handlers


def test_a_nonce_is_made_when_none_is_given_and_a_bad_one_is_refused(svc):
    a = build_page(svc, {})["html"]
    b = build_page(svc, {})["html"]
    na = re.search(r"'nonce-([^']+)'", a).group(1)
    nb = re.search(r"'nonce-([^']+)'", b).group(1)
    assert na != nb and len(na) >= 16
    with pytest.raises(InvalidParams, match="^nonce"):
        build_page(svc, {"nonce": "x' 'unsafe-inline"})
    with pytest.raises(InvalidParams, match="^from"):
        build_page(svc, {"from": "21/11/2026"})
    with pytest.raises(InvalidParams, match="^mode"):
        build_page(svc, {"mode": "iframe"})


def test_browser_mode_may_connect_to_its_own_origin_only(svc):
    html = build_page(svc, {"mode": "browser"})["html"]
    assert "connect-src 'self'" in html


def test_names_cannot_break_out_of_the_data_element(svc):
    html = build_page(svc, {})["html"]
    # three closing tags: the data element, Chart.js, the page's script; none from a name
    assert html.count("</script>") == 3
    assert XSS_MODEL not in html and XSS_PROJECT not in html
    boot = boot_of(html)
    assert XSS_MODEL in boot["data"]["options"]["models"]
    assert XSS_PROJECT in boot["data"]["options"]["projects"]
    assert json_for_script({"a": "</script>\u2028&"}) == '{"a":"\\u003c/script\\u003e\\u2028\\u0026"}'


def test_initial_view_is_the_last_7_days_in_premium_with_real_numbers(svc, known):
    boot = boot_of(build_page(svc, {})["html"])
    today = known["today"].isoformat()
    assert boot["preset"] == "7d" and boot["filter"]["to"] == today and boot["filter"]["billing"] == "premium"
    s = boot["data"]["summary"]
    # today 14.7 (r1 12.5, r2 1.5, r5 0.5, r6 0.2) + yesterday 20 + bulk 120 x 0.1 + r9 3.0
    assert s["credits"] == pytest.approx(49.7)
    assert s["messages"] == 126
    assert s["totalTokens"] == 94105
    assert len(boot["data"]["daily"]["days"]) == 7
    assert boot["data"]["interactions"]["total"] == 126 and len(boot["data"]["interactions"]["rows"]) == 50
    # usage/insights for the same filter: the Insights card's first view
    ins = boot["data"]["insights"]
    assert (ins["from"], ins["to"]) == (boot["filter"]["from"], today)
    assert ins["projection"]["today"]["credits"] == pytest.approx(14.7)


def test_given_dates_and_billing_are_kept(svc, known):
    t = known["today"].isoformat()
    boot = boot_of(build_page(svc, {"from": t, "to": t, "billing": "byok", "project": "api"})["html"])
    assert boot["preset"] == "today"
    assert boot["filter"] == {"from": t, "to": t, "billing": "byok", "project": "api"}
    # r3 $0.75 and r4 (unpriced)
    assert boot["data"]["summary"]["costUsd"] == pytest.approx(0.75)
    assert boot["data"]["summary"]["unpricedMessages"] == 1


def test_static_snapshot_carries_every_row_of_its_range(svc):
    boot = boot_of(build_page(svc, {"mode": "static", "preset": "30d"})["html"])
    assert boot["mode"] == "static"
    assert boot["data"]["interactions"]["total"] == len(boot["data"]["interactions"]["rows"]) == 127


# -- the local HTTP server -------------------------------------------------------------------


def request(server, method, path, body=None, headers=None):
    """One request to the server, with the run's token unless `headers` says otherwise."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    hdrs = {"Host": f"127.0.0.1:{port}", "Authorization": f"Bearer {server.token}"}
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def test_server_binds_loopback_and_serves_the_page_with_csp(server):
    assert server.server_address[0] == "127.0.0.1"
    resp, data = request(server, "GET", "/")
    assert resp.status == 200
    assert "default-src 'none'" in resp.getheader("Content-Security-Policy")
    assert "connect-src 'self'" in resp.getheader("Content-Security-Policy")
    assert b"<!doctype html>" in data


def test_api_answers_the_protocol_methods(server, known):
    t = known["today"].isoformat()
    resp, data = request(server, "POST", "/api/summary", {"from": t, "to": t, "billing": "premium"})
    assert resp.status == 200
    s = json.loads(data)
    assert s["credits"] == pytest.approx(14.7) and s["messages"] == 4 and s["totalTokens"] == 7125
    resp, data = request(server, "POST", "/api/interactions", {"from": t, "to": t, "sort": "inputTokens", "limit": 2})
    rows = json.loads(data)
    assert rows["total"] == 6 and [r["inputTokens"] for r in rows["rows"]] == [10, 100]
    resp, data = request(server, "POST", "/api/users", {"from": t, "to": t})
    assert {u["user"] for u in json.loads(data)["users"]} == {"alice", "bob", "+cmd"}
    resp, data = request(server, "POST", "/api/insights", {"from": t, "to": t, "billing": "premium"})
    ins = json.loads(data)
    assert resp.status == 200 and set(ins) >= {"budgets", "burnRate", "projection", "spikes", "tips"}
    assert ins["projection"]["today"]["credits"] == pytest.approx(14.7)
    assert [(b["budget"], b["limit"], b["left"]) for b in ins["budgets"]] == [("daily_credits", 16, pytest.approx(1.3))]
    resp, data = request(server, "GET", "/api/version")
    assert set(json.loads(data)) == {"version", "today"}


def test_api_refuses_bad_filters_other_origins_and_other_hosts(server):
    resp, data = request(server, "POST", "/api/summary", {"from": "yesterday"})
    assert resp.status == 400 and json.loads(data)["error"]["message"].startswith("from:")
    resp, _ = request(server, "POST", "/api/summary", {}, {"Origin": "http://evil.example"})
    assert resp.status == 403
    resp, _ = request(server, "GET", "/", None, {"Host": "evil.example"})  # DNS rebinding
    assert resp.status == 403
    resp, _ = request(server, "POST", "/api/summary", {}, {"Content-Type": "text/plain"})
    assert resp.status == 415
    resp, _ = request(server, "POST", "/api/record", {"records": []})
    assert resp.status == 404  # the dashboard reads; it never writes
    resp, _ = request(server, "POST", "/api/summary", [1, 2])
    assert resp.status == 400


def test_formula_names_are_plain_data_in_the_api(server):
    resp, data = request(server, "POST", "/api/projects", {"from": "2000-01-01", "to": "2000-01-01"})
    assert json.loads(data) == {"projects": []}
    resp, data = request(server, "POST", "/api/projects", {})
    assert FORMULA_PROJECT in {p["project"] for p in json.loads(data)["projects"]}
