"""The dashboard's HTTP server as an attacker meets it: the run's token, the Host check (DNS
rebinding), connections that never finish their request, IPv6, and `--out` over a symlink.

Only loopback addresses are ever connected to; a server bound to every address (0.0.0.0, ::)
is reached through 127.0.0.1 / ::1.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

USAGE_LS = str(Path(sys.executable).with_name("usage-ls"))


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


@pytest.fixture(scope="module")
def svc(known):
    s = Usage(data_dir=known["data_dir"], tag="cli", writable=False).open()
    yield s
    s.close()


def serving(svc, host="127.0.0.1", timeout=15.0):
    srv = DashboardServer(svc, {}, host, 0, timeout=timeout)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return srv


def stop(srv):
    srv.shutdown()
    srv.server_close()


def call(connect, port, method, path, host_header, token=None, body=None, extra=None):
    """One request to (connect, port) with exactly these Host and token; (status, headers, body)."""
    conn = http.client.HTTPConnection(connect, port, timeout=10)
    headers = {"Host": host_header}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    headers.update(extra or {})
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp, data


# -- the token ---------------------------------------------------------------------------------


def test_printed_url_carries_a_random_token(svc):
    a, b = serving(svc), serving(svc)
    try:
        for srv in (a, b):
            m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{40,})", srv.url)
            assert m and int(m.group(1)) == srv.server_address[1] and m.group(2) == srv.token
        assert a.token != b.token
    finally:
        stop(a)
        stop(b)


def test_page_and_api_need_the_token(server, known):
    port = server.server_address[1]
    host = f"127.0.0.1:{port}"
    t = known["today"].isoformat()
    params = {"from": t, "to": t, "billing": "premium"}
    # without it, or with a wrong one, nothing is answered: not the page, not the API
    for token in (None, "", "x" * 43, server.token[:-1], server.token + "x"):
        status, resp, data = call("127.0.0.1", port, "POST", "/api/summary", host, token, params)
        assert status == 401, token
        assert resp.getheader("WWW-Authenticate", "").startswith("Bearer")
        assert "token" in json.loads(data)["error"]["message"]
        assert b"credits" not in data
        assert call("127.0.0.1", port, "GET", "/api/version", host, token)[0] == 401
        assert call("127.0.0.1", port, "GET", "/", host, token)[0] == 401
        assert call("127.0.0.1", port, "GET", "/?token=nope", host, token)[0] == 401
        assert call("127.0.0.1", port, "GET", "/no-such-page", host, token)[0] == 401
    # with it, as a header (the page's way) or in the URL (the printed link's way)
    status, _, data = call("127.0.0.1", port, "POST", "/api/summary", host, server.token, params)
    assert status == 200 and json.loads(data)["messages"] == 4
    status, _, data = call("127.0.0.1", port, "POST", f"/api/summary?token={server.token}", host, None, params)
    assert status == 200 and json.loads(data)["messages"] == 4
    assert call("127.0.0.1", port, "GET", "/api/version", host, server.token)[0] == 200
    status, resp, data = call("127.0.0.1", port, "GET", f"/?token={server.token}", host)
    assert status == 200 and b"<!doctype html>" in data
    assert resp.getheader("Referrer-Policy") == "no-referrer"  # the URL's token goes nowhere


def test_the_page_from_the_printed_url_sends_the_token(server, open_page, known, act):
    page, _ = open_page(server.url)
    sent = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization"))))
    act(page, lambda: page.click('#date-presets button[data-preset="today"]'))
    assert page.text_content("#kpi-money .k-value") == "14.7"  # the filter's numbers came through
    with page.expect_request(lambda r: "/api/version" in r.url, timeout=15_000):
        pass  # the live-update poll, every 2 s
    api = [(u, a) for u, a in sent if "/api/" in u]
    assert {u.split("/api/")[1] for u, _ in api} >= {"summary", "interactions", "version"}
    assert all(a == f"Bearer {server.token}" for _, a in api), api


# -- the Host header -----------------------------------------------------------------------------


def test_every_address_mode_refuses_a_rebinding_host(svc):
    """--host 0.0.0.0: a page on attacker.example that re-resolves to this machine sends
    `Host: attacker.example:PORT`; it is refused, even with the token."""
    srv = serving(svc, "0.0.0.0")
    try:
        port = srv.server_address[1]
        for bad in (
            f"attacker.example:{port}",
            "attacker.example",
            f"127.0.0.1.nip.io:{port}",
            f"127.0.0.1:{port + 1}",
            "",
        ):
            status, _, data = call("127.0.0.1", port, "GET", "/", bad, srv.token)
            assert status == 403, bad
            assert json.loads(data)["error"]["message"] == "unexpected Host header"
            assert call("127.0.0.1", port, "POST", "/api/summary", bad, srv.token, {})[0] == 403, bad
        name = socket.gethostname().lower()
        for good in (f"127.0.0.1:{port}", f"localhost:{port}", f"{name}:{port}", f"{name.upper()}:{port}"):
            assert call("127.0.0.1", port, "GET", "/api/version", good, srv.token)[0] == 200, good
    finally:
        stop(srv)


def test_loopback_mode_answers_loopback_names_only(server):
    port = server.server_address[1]
    for good in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}"):
        assert call("127.0.0.1", port, "GET", "/api/version", good, server.token)[0] == 200, good
    name = socket.gethostname()
    for bad in (f"attacker.example:{port}", f"{name}.attacker.example:{port}", f"127.0.0.2:{port}", f"[::1]:{port}"):
        assert call("127.0.0.1", port, "GET", "/api/version", bad, server.token)[0] == 403, bad


# -- connections that never finish ----------------------------------------------------------------


def closed_by_server(sock: socket.socket, wait: float = 60.0) -> bool:
    """Whether the server closes this connection (EOF or reset) before `wait` seconds pass."""
    sock.settimeout(wait)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_half_open_connections_are_closed_after_the_timeout(svc):
    srv = serving(svc, timeout=0.5)
    port = srv.server_address[1]
    socks = []
    try:
        for i in range(50):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if i % 3 == 1:
                s.sendall(b"GET /api/version HTTP/1.1\r\n")  # the request line, no headers
            elif i % 3 == 2:  # headers, then a body that never comes
                s.sendall(
                    f"POST /api/summary HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {srv.token}\r\n"
                    "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
                )
            socks.append(s)
        assert all(closed_by_server(s) for s in socks)
        # and the server still answers
        assert call("127.0.0.1", port, "GET", "/api/version", f"127.0.0.1:{port}", srv.token)[0] == 200
    finally:
        for s in socks:
            s.close()
        stop(srv)


def test_a_request_trickled_in_byte_by_byte_is_cut_off(svc):
    """A byte every 0.1 s never trips a 0.5 s read timeout; the whole request must still be in
    within the timeout, so the server closes the connection long before the 3,000 bytes end."""
    srv = serving(svc, timeout=0.5)
    port = srv.server_address[1]
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(b"GET /api/version HTTP/1.1\r\nX-Slow: ")
        closed = False
        for _ in range(3000):
            try:
                s.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            readable, _, _ = select.select([s], [], [], 0.1)
            if readable:
                try:
                    closed = s.recv(4096) == b""
                except ConnectionResetError:
                    closed = True
                if closed:
                    break
        assert closed, "the server kept a trickling connection open"
    finally:
        s.close()
        stop(srv)


# -- IPv6 ------------------------------------------------------------------------------------------


@needs_ipv6
def test_cli_serves_on_ipv6_loopback(known):
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(known["data_dir"])}
    proc = subprocess.Popen(
        [USAGE_LS, "dashboard", "--no-open", "--host", "::1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://\[::1\]:(\d+)/\?token=([A-Za-z0-9_-]+)", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        port, token = int(m.group(1)), m.group(2)
        status, resp, data = call("::1", port, "GET", f"/?token={token}", f"[::1]:{port}")
        assert status == 200 and b"AI Usage" in data
        status, _, data = call("::1", port, "POST", "/api/summary", f"[::1]:{port}", token, {})
        assert status == 200 and "credits" in json.loads(data)
        assert call("::1", port, "GET", "/api/version", f"[::1]:{port}")[0] == 401
        assert call("::1", port, "GET", "/api/version", f"attacker.example:{port}", token)[0] == 403
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()
        proc.stderr.close()


@needs_ipv6
def test_every_ipv6_address_mode_reaches_both_loopbacks(svc):
    srv = serving(svc, "::")
    try:
        port = srv.server_address[1]
        assert srv.url.startswith(f"http://[::1]:{port}/?token=")
        assert call("::1", port, "GET", "/api/version", f"[::1]:{port}", srv.token)[0] == 200
        assert call("::1", port, "GET", "/api/version", f"attacker.example:{port}", srv.token)[0] == 403
        try:  # IPv4 too, where the system lets an IPv6 socket take it
            status = call("127.0.0.1", port, "GET", "/api/version", f"127.0.0.1:{port}", srv.token)[0]
        except ConnectionRefusedError:
            pytest.skip("this system keeps IPv6 sockets IPv6-only")
        assert status == 200
    finally:
        stop(srv)


def test_cli_names_a_host_it_cannot_listen_on(known):
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(known["data_dir"])}
    proc = subprocess.run(
        [USAGE_LS, "dashboard", "--no-open", "--host", "no-such-host.invalid"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--host no-such-host.invalid" in proc.stderr and "cannot listen" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- --out -----------------------------------------------------------------------------------------


def snapshot(known, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(known["data_dir"])}
    return subprocess.run(
        [USAGE_LS, "dashboard", "--out", str(out)], capture_output=True, text=True, env=env, timeout=60
    )


def test_out_is_private_and_replaces_a_symlink_without_writing_through_it(known, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    victim.chmod(0o644)
    link = tmp_path / "page.html"
    link.symlink_to(victim)
    proc = snapshot(known, link)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "keep me"  # nothing went through the link
    assert not link.is_symlink() and link.is_file()
    assert stat.S_IMODE(link.stat().st_mode) == 0o600
    assert "<!doctype html>" in link.read_text()
    # a file that is there already (0644) becomes the new page, 0600
    old = tmp_path / "old.html"
    old.write_text("old")
    old.chmod(0o644)
    assert snapshot(known, old).returncode == 0
    assert stat.S_IMODE(old.stat().st_mode) == 0o600 and "<!doctype html>" in old.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.html", "page.html", "victim.txt"]  # no temp file


def test_out_names_what_it_cannot_write(known, tmp_path):
    for out, reason in ((tmp_path, "directory"), (tmp_path / "missing" / "page.html", "No such file")):
        proc = snapshot(known, out)
        assert proc.returncode == 2, proc.stderr
        assert f"--out {out}" in proc.stderr and reason in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_browser_is_opened_on_a_private_file_not_on_the_tokened_url(known, tmp_path):
    """A browser's command line is visible to every local user (ps): it gets a 0600 file in the
    data directory that forwards to the URL, never the URL with its token."""
    seen = tmp_path / "browser-argv"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {seen}\n')
    browser.chmod(0o755)
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(known["data_dir"]), "BROWSER": str(browser)}
    proc = subprocess.Popen(
        [USAGE_LS, "dashboard"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    try:
        url = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", proc.stdout.readline()).group(1)
        for _ in range(100):
            if seen.exists() and seen.read_text():
                break
            threading.Event().wait(0.1)
        argv = seen.read_text()
        assert argv.startswith("file://") and "token" not in argv
        opener = Path(argv.removeprefix("file://"))
        assert opener.parent == known["data_dir"] and stat.S_IMODE(opener.stat().st_mode) == 0o600
        assert f'url={url.replace("&", "&amp;")}"' in opener.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
