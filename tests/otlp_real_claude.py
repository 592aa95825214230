"""The real Claude Code exporting OTLP to a real `usage-ls receive` while it writes its
transcript, against a loopback stand-in of the Anthropic Messages API, all inside a network
namespace that has only loopback (`unshare --net`): nothing can leave the machine.

Run by tests/test_otlp_real_claude.py as `unshare --net python otlp_real_claude.py <job.json>`;
writes what the stand-in answered (the truth) to the job's `out`.
"""

from __future__ import annotations

import fcntl
import http.server
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLAUDE = REPO / ".tools" / "real-tools" / "node_modules" / ".bin" / "claude"
VERSION = "2.1.332"


def installed_version() -> str | None:
    try:
        pkg = REPO / ".tools" / "real-tools" / "node_modules" / "@anthropic-ai" / "claude-code" / "package.json"
        return json.loads(pkg.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


class StandIn:
    """Answers `POST /v1/messages` (streamed) with the usages it is given, in order."""

    def __init__(self, usages: list[dict]):
        self.usages = list(usages)
        self.answered: list[dict] = []
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                if not self.path.startswith("/v1/messages") or "count_tokens" in self.path:
                    body = b'{"input_tokens": 1}'
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                n = len(stand_in.answered) + 1
                usage = stand_in.usages.pop(0) if stand_in.usages else {"input_tokens": 10, "output_tokens": 5}
                mid, rid = f"msg_otlp{n:04d}", f"req_otlp{n:04d}"
                out = usage["output_tokens"]
                start = {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, **usage, "output_tokens": 1}
                stand_in.answered.append({"messageId": mid, "requestId": rid, "usage": {**start, "output_tokens": out}})
                message = {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "model": req.get("model"),
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start,
                }
                events = [
                    ("message_start", {"type": "message_start", "message": message}),
                    (
                        "content_block_start",
                        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                    ),
                    (
                        "content_block_delta",
                        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi."}},
                    ),
                    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                    (
                        "message_delta",
                        {
                            "type": "message_delta",
                            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                            "usage": {"output_tokens": out},
                        },
                    ),
                    ("message_stop", {"type": "message_stop"}),
                ]
                body = "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events).encode()
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("request-id", rid)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def _loopback_up() -> None:
    """`ip link set lo up`, without iproute2."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", fcntl.ioctl(s.fileno(), 0x8913, req))[1]
        fcntl.ioctl(s.fileno(), 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b"\0" * 14))


def _status(port: int) -> dict:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
        f"http://127.0.0.1:{port}/usage-ls", timeout=5
    ) as r:
        return json.loads(r.read())


def main(job_path: str) -> int:
    job = json.loads(Path(job_path).read_text())
    _loopback_up()
    home, data, port = Path(job["home"]), job["data"], 4318
    (home / "project").mkdir(parents=True, exist_ok=True)
    stand_in = StandIn(job["usages"])
    status: dict = {}
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8", "TZ": "UTC"}
    receiver = subprocess.Popen(
        [sys.executable, "-m", "usage_ls", "receive", "--listen", f"127.0.0.1:{port}"],
        env={**os.environ, **base, "USAGE_LS_DATA_DIR": data, "CLAUDE_CONFIG_DIR": str(home / ".claude")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert "listening on" in receiver.stdout.readline()
    claude_env = {
        **base,
        "ANTHROPIC_BASE_URL": stand_in.url,
        "ANTHROPIC_API_KEY": "sk-ant-standin",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",  # sent too, and not counted
        "OTEL_EXPORTER_OTLP_PROTOCOL": job["protocol"],
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_LOGS_EXPORT_INTERVAL": "500",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    }
    try:
        for args in (["-p", "hi"], ["-p", "and again", "--continue"]):
            cmd = [str(CLAUDE), *args, "--model", "claude-sonnet-4-5"]
            proc = subprocess.run(
                cmd, cwd=home / "project", env=claude_env, capture_output=True, text=True, timeout=120
            )
            if proc.returncode != 0:
                print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
                return 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every call's event in (or waiting for its transcript line)
            status = _status(port)
            done = status["sources"].get("claude-code", {})
            if done.get("records", 0) + done.get("duplicates", 0) >= len(stand_in.answered) and not status["waiting"]:
                break
            time.sleep(0.2)
    finally:
        receiver.terminate()
        output = receiver.communicate(timeout=30)[0]
    Path(job["out"]).write_text(json.dumps({"answered": stand_in.answered, "receiver": output, "status": status}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
