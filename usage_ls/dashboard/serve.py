"""`usage-ls dashboard`: the live dashboard on a loopback HTTP server, or a static snapshot.

The server is Python's `ThreadingHTTPServer`; the service is not thread-safe, so every call
into it holds one lock. It binds 127.0.0.1 unless another host is asked for explicitly
(IPv4 or IPv6), and answers only:

- requests carrying the run's token (a random secret in the printed URL): `?token=` in the
  URL or `Authorization: Bearer <token>`; anything else is 401, so another local user cannot
  read the usage;
- requests whose `Host` names this machine: the bound address, the address the client
  connected to, `localhost`, and for a non-loopback `--host` the machine's own names (a
  DNS-rebinding page gets 403);
- POSTs of JSON from its own origin.

Every connection must send its whole request within `timeout` seconds, and no socket
operation waits longer than that: half-open or trickling connections are closed.

    GET  /?token=T          the page (browser mode: a fresh nonce each time); `&model=`,
                            `&project=`, `&from=` ... set its first filter
    POST /api/<method>      summary, tokenSplit, projects, users, daily, interactions,
                            insights, limits, limitHistory: the params object as the JSON
                            body, the result as JSON;
                            a bad filter is 400 {"error": {"message"}}
    GET  /api/version       {"version", "today"}: the page polls it for live updates
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import os
import secrets
import socket
import socketserver
import sys
import threading
import time
import webbrowser
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import orjson

from usage_ls.dashboard import build_page
from usage_ls.dashboard.page import csp, new_nonce
from usage_ls.errors import InvalidParams
from usage_ls.fileio import atomic_write
from usage_ls.protocol import DASHBOARD_METHODS
from usage_ls.team.db import TeamError

MAX_BODY = 64 * 1024
TIMEOUT = 15.0  # seconds: to send a whole request, and for any one read or write
WILDCARDS = ("0.0.0.0", "::")
URL_FILTERS = ("from", "to", "project", "user", "model", "billing", "tool")  # may be given in the page's URL


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `text` spells (an IPv4-mapped IPv6 address as IPv4), None for a name."""
    try:
        addr = ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def listen_address(host: str, port: int) -> tuple[int, tuple]:
    """(address family, socket address) to bind for `host`: an IPv4 or IPv6 address or a name."""
    infos = socket.getaddrinfo(host.strip("[]"), port, 0, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    family, _type, _proto, _name, sockaddr = infos[0]
    return family, sockaddr


def machine_names() -> set[str]:
    """This machine's own host names, as a browser would put them in `Host`."""
    names = set()
    for get in (socket.gethostname, socket.getfqdn):
        try:
            name = get().lower().rstrip(".")
        except OSError:
            continue
        if name:
            names.update({name, name.split(".", 1)[0]})
    return names


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, svc, flt: dict, host: str = "127.0.0.1", port: int = 0, timeout: float = TIMEOUT):
        self.svc = svc
        self.flt = dict(flt)
        self.lock = threading.Lock()
        self.request_timeout = timeout
        self.token = secrets.token_urlsafe(32)
        self.address_family, sockaddr = listen_address(host, port)
        super().__init__(sockaddr, Handler, bind_and_activate=False)
        try:
            if self.address_family == socket.AF_INET6 and host.strip("[]") == "::":
                # every address means IPv4 too (where the system allows it)
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            self.server_bind()
            self.server_activate()
        except BaseException:
            self.server_close()
            raise
        wildcard = self.server_address[0] in WILDCARDS
        self.bound = None if wildcard else _ip(self.server_address[0])
        self.host_names = {"localhost"} if wildcard else {"localhost", host.strip("[]").lower().rstrip(".")}
        if not is_loopback(host):
            self.host_names |= machine_names()

    def server_bind(self) -> None:
        # HTTPServer.server_bind would also look the address's name up (socket.getfqdn)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def host_ok(self, header: str, local: str) -> bool:
        """Whether a `Host` header names this server: the port it listens on, and the bound
        address, the address the client connected to (`local`) or one of this machine's names."""
        try:
            parts = urlsplit("//" + header)
            name, port = (parts.hostname or "").rstrip("."), parts.port
        except ValueError:
            return False
        if port != self.server_port and not (port is None and self.server_port == 80):
            return False
        addr = _ip(name)
        if addr is None:
            return name in self.host_names
        return addr == self.bound or addr == _ip(local)

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    @property
    def url(self) -> str:
        """The page's address, with the run's token: what the user opens."""
        host, port = self.server_address[:2]
        if host in WILDCARDS:  # every address: loopback reaches it
            host = "::1" if host == "::" else "127.0.0.1"
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/?token={quote(self.token)}"

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

    def setup(self) -> None:
        # every read and write gives up after the timeout, and the whole request must be in by
        # then too (a client sending a byte now and then would otherwise hold the thread)
        self.timeout = self.server.request_timeout
        self.watchdog = threading.Timer(self.timeout, self._cut)
        self.watchdog.daemon = True
        self.watchdog.start()
        super().setup()

    def _cut(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def request_read(self) -> None:
        """The request is in: answering it may take as long as the service needs."""
        self.watchdog.cancel()

    def finish(self) -> None:
        self.watchdog.cancel()
        super().finish()

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

    def _json(self, status: int, value, extra: dict | None = None) -> None:
        self._send(status, orjson.dumps(value), "application/json; charset=utf-8", extra)

    def _error(self, status: int, message: str, extra: dict | None = None) -> None:
        self._json(status, {"error": {"message": message}}, extra)

    def _allowed(self) -> bool:
        """The Host names this server and the request carries the run's token; else answered."""
        if not self.server.host_ok(self.headers.get("Host") or "", self.connection.getsockname()[0]):
            self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
            return False
        auth = self.headers.get("Authorization") or ""
        given = auth[len("Bearer ") :].strip() if auth[: len("Bearer ")].lower() == "bearer " else None
        if given is None:
            given = (parse_qs(urlsplit(self.path).query).get("token") or [None])[0]
        if not self.server.token_ok(given):
            self._error(
                HTTPStatus.UNAUTHORIZED,
                "missing or wrong token: open the URL that `usage-ls dashboard` printed (it ends in ?token=…)",
                {"WWW-Authenticate": 'Bearer realm="usage-ls dashboard"'},
            )
            return False
        return True

    # -- routes ------------------------------------------------------------------------------

    def do_GET(self):
        self.request_read()
        if not self._allowed():
            return
        parts = urlsplit(self.path)
        path = parts.path
        if path in ("/", "/index.html"):
            nonce = new_nonce()
            # the first view's filter: the command line's, then the URL's (`&model=...`, as
            # the editors' "Open Usage Dashboard filtered to this model" sends)
            asked = {k: v[-1] for k, v in parse_qs(parts.query).items() if k in URL_FILTERS}
            try:
                html = self.server.call(
                    build_page, self.server.svc, {**self.server.flt, **asked, "nonce": nonce, "mode": "browser"}
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
                svc.refresh()  # the ledger, and plan windows a status line command kept
                return {"version": svc.version, "today": svc.today()}

            self._json(HTTPStatus.OK, self.server.call(version))
        else:
            self._error(HTTPStatus.NOT_FOUND, "not found")

    do_HEAD = do_GET

    def do_POST(self):
        if not self._allowed():
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
        body = self.rfile.read(length)
        self.request_read()
        try:
            params = orjson.loads(body or b"{}")
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
        except TeamError as exc:  # `scope: "team"` and the team database down (said without its password)
            self._error(HTTPStatus.BAD_GATEWAY, str(exc))
            return
        self._json(HTTPStatus.OK, result)


def write_snapshot(svc, flt: dict, out: Path) -> Path:
    """Write the static page to `out`, readable by the user only (0600). It is written to a
    temp file beside `out` and renamed over it: a symlink at `out` is replaced, never followed,
    and a reader never sees half a page."""
    html = build_page(svc, {**flt, "mode": "static"})["html"]
    if out.is_dir():
        raise IsADirectoryError(f"{out} is a directory")
    atomic_write(out, html.encode("utf-8"))
    return out


def launch_file(data_dir: Path, url: str) -> Path:
    """A page that sends the browser on to `url`, written where only the user can read it
    (the data directory, 0700; the file 0600). A browser is opened on this file, not on the URL:
    a browser's command line is visible to every local user (`ps`), and the URL holds the
    token that guards the usage data."""
    target = html.escape(url, quote=True)
    page = (
        "<!doctype html><meta charset=utf-8><title>usage-ls dashboard</title>"
        f'<meta http-equiv="refresh" content="0; url={target}">'
        f'<p>Opening the <a href="{target}">Usage Dashboard</a>...</p>\n'
    )
    out = Path(data_dir) / "dashboard-open.html"
    atomic_write(out, page.encode("utf-8"))
    return out


def _exit_with_parent(server: DashboardServer) -> None:
    """A dashboard started by a language server (`usage-ls.openDashboard`, which sets
    USAGE_LS_EXIT_WITH to its pid) stops when that server is gone, even after a kill -9."""
    parent = os.environ.get("USAGE_LS_EXIT_WITH")
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(1.0)
        server.shutdown()

    threading.Thread(target=watch, daemon=True).start()


def main(args, svc, flt: dict) -> int:
    try:
        if args.out:
            try:
                out = write_snapshot(svc, flt, Path(args.out))
            except OSError as exc:
                print(f"usage-ls dashboard: --out {args.out}: cannot write it: {exc.strerror or exc}", file=sys.stderr)
                return 2
            print(f"usage-ls dashboard: wrote {out}")
            return 0
        host = args.host or "127.0.0.1"
        if not is_loopback(host):
            print(
                f"usage-ls dashboard: warning: serving on {host}, as asked: anyone who can reach it and has the "
                "URL (with its token) sees your usage",
                file=sys.stderr,
            )
        build_page(svc, {**flt, "mode": "browser"})  # a bad filter fails here, before anything listens
        try:
            server = DashboardServer(svc, flt, host, args.port)
        except OSError as exc:  # socket.gaierror included: a name that does not resolve
            print(f"usage-ls dashboard: --host {host} --port {args.port}: cannot listen there: {exc}", file=sys.stderr)
            return 2
        print(f"usage-ls dashboard: {server.url}  (Ctrl-C to stop)", flush=True)
        _exit_with_parent(server)
        if not args.no_open:
            opener = launch_file(svc.cfg.data_dir, server.url)
            threading.Thread(target=webbrowser.open, args=(opener.as_uri(),), daemon=True).start()
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        return 0
    finally:
        svc.close()
