"""`usage-ls dashboard`: the live dashboard on a loopback HTTP server, or a static snapshot.

The server is Python's `ThreadingHTTPServer`; the service is not thread-safe, so every call
into it holds one lock. It binds 127.0.0.1 unless another host is asked for explicitly, and
answers only requests addressed to the name it serves (a DNS-rebinding page gets 403) and
JSON POSTs from its own origin.

    GET  /                  the page (browser mode: a fresh nonce each time)
    POST /api/<method>      summary, tokenSplit, projects, users, daily, interactions,
                            insights: the params object as the JSON body, the result as JSON;
                            a bad filter is 400 {"error": {"message"}}
    GET  /api/version       {"version", "today"}: the page polls it for live updates
"""

from __future__ import annotations

import ipaddress
import sys
import threading
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from usage_ls.dashboard import build_page
from usage_ls.dashboard.page import csp, new_nonce
from usage_ls.errors import InvalidParams
from usage_ls.protocol import DASHBOARD_METHODS

MAX_BODY = 64 * 1024


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, svc, flt: dict, host: str = "127.0.0.1", port: int = 0):
        self.svc = svc
        self.flt = dict(flt)
        self.lock = threading.Lock()
        super().__init__((host, port), Handler)
        self.allowed_hosts = self._allowed_hosts(host)

    def _allowed_hosts(self, host: str) -> set[str] | None:
        """Host headers answered; None (any) only when asked to listen on every address."""
        port = self.server_address[1]
        if host in ("0.0.0.0", "::", ""):
            return None
        names = {host, "127.0.0.1", "localhost"} if is_loopback(host) else {host}
        out = set()
        for name in names:
            shown = f"[{name}]" if ":" in name and not name.startswith("[") else name
            out.add(f"{shown}:{port}".lower())
        return out

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def call(self, fn, *args):
        with self.lock:
            return fn(*args)


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "usage-ls"
    sys_version = ""

    def log_message(self, format, *args):  # quiet: the terminal shows the URL, not a log
        pass

    # -- plumbing ----------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value) -> None:
        self._send(status, orjson.dumps(value), "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": {"message": message}})

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").lower()
        allowed = self.server.allowed_hosts
        if allowed is not None and host not in allowed:
            self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
            return False
        return True

    # -- routes ------------------------------------------------------------------------------

    def do_GET(self):
        if not self._host_ok():
            return
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            nonce = new_nonce()
            try:
                html = self.server.call(
                    build_page, self.server.svc, {**self.server.flt, "nonce": nonce, "mode": "browser"}
                )
            except InvalidParams as exc:
                self._error(HTTPStatus.BAD_REQUEST, str(exc))
                return
            self._send(
                HTTPStatus.OK,
                html["html"].encode(),
                "text/html; charset=utf-8",
                {"Content-Security-Policy": csp(nonce, "browser"), "X-Frame-Options": "DENY"},
            )
        elif path == "/api/version":
            svc = self.server.svc

            def version():
                svc.ledger.refresh()
                return {"version": svc.version, "today": svc.today()}

            self._json(HTTPStatus.OK, self.server.call(version))
        else:
            self._error(HTTPStatus.NOT_FOUND, "not found")

    do_HEAD = do_GET

    def do_POST(self):
        if not self._host_ok():
            return
        path = urlsplit(self.path).path
        name = path[len("/api/") :] if path.startswith("/api/") else None
        if name not in DASHBOARD_METHODS:
            self._error(HTTPStatus.NOT_FOUND, "not found")
            return
        origin = self.headers.get("Origin")
        if origin is not None and f"{origin.lower().rstrip('/')}/" != f"http://{self.headers.get('Host', '').lower()}/":
            self._error(HTTPStatus.FORBIDDEN, "cross-origin request")
            return
        if not (self.headers.get("Content-Type") or "").startswith("application/json"):
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "expected application/json")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
            return
        try:
            params = orjson.loads(self.rfile.read(length) or b"{}")
        except orjson.JSONDecodeError:
            self._error(HTTPStatus.BAD_REQUEST, "body is not JSON")
            return
        if not isinstance(params, dict):
            self._error(HTTPStatus.BAD_REQUEST, "params: expected an object")
            return
        method = DASHBOARD_METHODS[name]
        try:
            result = self.server.call(method.call, self.server.svc, params)
        except InvalidParams as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
            return
        self._json(HTTPStatus.OK, result)


def write_snapshot(svc, flt: dict, out: Path) -> Path:
    html = build_page(svc, {**flt, "mode": "static"})["html"]
    out.write_text(html, encoding="utf-8")
    return out


def main(args, svc, flt: dict) -> int:
    try:
        if args.out:
            out = write_snapshot(svc, flt, Path(args.out))
            print(f"usage-ls dashboard: wrote {out}")
            return 0
        host = args.host or "127.0.0.1"
        if not is_loopback(host):
            print(
                f"usage-ls dashboard: warning: serving on {host}, as asked: anyone who can reach it sees your usage",
                file=sys.stderr,
            )
        build_page(svc, {**flt, "mode": "browser"})  # a bad filter fails here, before anything listens
        server = DashboardServer(svc, flt, host, args.port)
        print(f"usage-ls dashboard: {server.url}  (Ctrl-C to stop)", flush=True)
        if not args.no_open:
            threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        return 0
    finally:
        svc.close()
