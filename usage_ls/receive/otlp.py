"""The OTLP/HTTP endpoint: `POST /v1/logs`, `/v1/metrics` (and `/v1/traces`, accepted and not
read), on a loopback address only.

Per request: the `Host` header must name a loopback host (a web page that gets a DNS name
resolved to 127.0.0.1 cannot talk to it: DNS rebinding), and an `Origin`, when a browser sends
one, must be loopback too; the body (Content-Length or chunked, as the JavaScript exporters
send it) is read up to `wire.MAX_BODY` bytes, gzip is undone with the same cap, and the
Content-Type picks protobuf or JSON. Answers, as the OTLP spec says:

| case | status |
|---|---|
| stored (or nothing to store) | 200, empty `Export*ServiceResponse` in the request's encoding |
| some records rejected | 200 with `partial_success` (the exporter must not retry) |
| body does not decode | 400 with a `google.rpc.Status` naming the problem; nothing stored |
| body over the cap | 413 |
| Content-Type not protobuf or JSON | 415 |
| another method on an OTLP path | 405; any other path: 404 |
| foreign `Host` or `Origin` | 403 |
| the ledger could not take the records | 503 with `Retry-After` (the exporter retries) |

`GET /usage-ls` answers who is listening (`{"service": "usage-ls", "pid": …}`), so that a
second usage-ls finding the port taken knows it is one of its own.
"""

from __future__ import annotations

import http.server
import json
import logging
import socket
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from usage_ls import __version__
from usage_ls.receive import wire

log = logging.getLogger(__name__)

STATUS_PATH = "/usage-ls"
LOOPBACK_HOSTS = frozenset(("127.0.0.1", "localhost", "::1"))
SOCKET_TIMEOUT = 30.0
DRAIN_LIMIT = 256 * 1024 * 1024  # a refused body read (and dropped) so the sender sees the answer


def loopback_host(value: str | None) -> bool:
    """A `Host` (or an Origin's host) naming this machine's loopback, with or without a port."""
    if not value:
        return False
    host = value.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host in LOOPBACK_HOSTS:
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"usage-ls/{__version__}"
    sys_version = ""
    timeout = SOCKET_TIMEOUT
    server: OtlpServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the receiver counts instead
        log.debug("otlp %s", format % args)

    def _reply(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _refuse(self, status: int, message: str, media: str | None) -> None:
        self.server.receiver.count_refusal(status)
        self.close_connection = True  # the body may be unread: start afresh
        ctype = wire.PROTOBUF if media == wire.PROTOBUF else wire.JSON
        extra = {"Allow": "POST"} if status == 405 else {}
        if status == 503:
            extra["Retry-After"] = "5"
        self._reply(status, wire.status(media, message, status), ctype, extra)

    def _check_origin(self) -> None:
        if not loopback_host(self.headers.get("Host")):
            raise Refused(403, f"Host {str(self.headers.get('Host'))[:80]!r} is not this machine's loopback")
        origin = self.headers.get("Origin")
        if origin is not None and origin != "null" and not loopback_host(urlsplit(origin).netloc):
            raise Refused(403, f"Origin {origin[:80]!r} is not this machine's loopback")

    def do_POST(self) -> None:
        media = wire.media_type(self.headers.get("Content-Type"))
        try:
            self._check_origin()
            signal = wire.SIGNALS.get(urlsplit(self.path).path)
            if signal is None:
                raise Refused(404, f"no such OTLP path: {self.path[:80]} (POST /v1/logs or /v1/metrics)")
            if media is None:
                raise Refused(
                    415,
                    f"Content-Type {str(self.headers.get('Content-Type'))[:80]!r}: send {wire.PROTOBUF} or {wire.JSON}",
                )
            body = wire.inflate(self._body(), self.headers.get("Content-Encoding"))
            message = wire.decode(signal, body, media)
        except Refused as exc:
            self._refuse(exc.status, str(exc), media)
            return
        except wire.TooLarge as exc:
            self._refuse(413, str(exc), media)
            return
        except wire.BadBody as exc:
            self._refuse(400, str(exc), media)
            return
        try:
            rejected, error = self.server.receiver.handle(signal.path, message)
        except Exception as exc:  # the ledger could not take them (disk, shutdown): retry later
            log.exception("otlp: storing a request")
            self._refuse(503, f"usage-ls could not store this batch now: {exc}"[:500], media)
            return
        ctype = wire.PROTOBUF if media == wire.PROTOBUF else wire.JSON
        self._reply(200, wire.success(signal, media, rejected, error), ctype)

    def _body(self) -> bytes:
        limit = wire.MAX_BODY
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._chunked(limit)
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise Refused(411, "a Content-Length (or chunked transfer encoding) is required")
        try:
            length = int(length_text)
        except ValueError:
            raise wire.BadBody(f"Content-Length {length_text[:40]!r} is not a number") from None
        if length < 0:
            raise wire.BadBody("Content-Length is negative")
        if length > limit:
            self._drain(length)  # so that the exporter, still sending, reads the 413
            raise wire.TooLarge(f"the body ({length} bytes) is larger than {limit} bytes")
        body = self.rfile.read(length)
        if len(body) != length:
            raise wire.BadBody(f"the body ended after {len(body)} of {length} bytes")
        return body

    def _chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise wire.BadBody("malformed chunked body") from None
            if size < 0:
                raise wire.BadBody("malformed chunked body")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > limit:
                self._drain(size + 2)
                raise wire.TooLarge(f"the body is larger than {limit} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise wire.BadBody("the chunked body ended early")
            parts.append(chunk)
            self.rfile.readline(1024)

    def _drain(self, length: int) -> None:
        """Read and drop up to DRAIN_LIMIT bytes of a refused body (beyond that: hang up)."""
        left = min(length, DRAIN_LIMIT)
        while left > 0:
            got = self.rfile.read(min(left, 1 << 16))
            if not got:
                return
            left -= len(got)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        try:
            self._check_origin()
        except Refused as exc:
            self._refuse(exc.status, str(exc), None)
            return
        if path == STATUS_PATH:
            body = json.dumps({"service": "usage-ls", "version": __version__, **self.server.receiver.status()})
            self._reply(200, body.encode(), wire.JSON)
        elif path in wire.SIGNALS:
            self._refuse(405, f"{path} takes POST", None)
        else:
            self._refuse(404, f"no such path: {path[:80]}", None)

    def _not_allowed(self) -> None:
        if urlsplit(self.path).path in wire.SIGNALS:
            self._refuse(405, f"{self.command} is not allowed: OTLP takes POST", None)
        else:
            self._refuse(404, f"no such path: {self.path[:80]}", None)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed


class OtlpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True  # rebinding after a restart (TIME_WAIT); never a second listener
    request_queue_size = 64

    def __init__(self, host: str, port: int, receiver: Any):
        self.receiver = receiver
        bind_host = "127.0.0.1" if host == "localhost" else host
        self.address_family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
        super().__init__((bind_host, port), Handler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def who_listens(host: str, port: int, timeout: float = 2.0) -> dict[str, Any] | None:
    """Whoever holds host:port, if it is a usage-ls receiver: its status (pid...). None: another
    program (or nothing answers)."""
    bind_host = "127.0.0.1" if host == "localhost" else host
    url = f"http://[{bind_host}]:{port}{STATUS_PATH}" if ":" in bind_host else f"http://{bind_host}:{port}{STATUS_PATH}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(urllib.request.Request(url), timeout=timeout) as resp:
            doc = json.loads(resp.read(65536))
    except (OSError, ValueError):
        return None
    if isinstance(doc, dict) and doc.get("service") == "usage-ls":
        return doc
    return None
