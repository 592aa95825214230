"""A bare JSON-RPC peer over pipes, for sending what no well-behaved client would."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time


class RawServer:
    def __init__(self, data_dir, env: dict | None = None, stderr=subprocess.DEVNULL):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "usage_ls", "serve", "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir), **(env or {})},
        )
        self.buf = b""
        self.next_id = 1000
        self.notifications: list[dict] = []
        self.others: list[dict] = []  # answers to no request of ours (e.g. errors to id null)
        # read continuously: a peer that stops reading would deadlock against a server
        # blocked writing to a full pipe
        self.chunks: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            self.chunks.put(chunk)
            if not chunk:
                return

    def send_bytes(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send_body(self, body: bytes) -> None:
        self.send_bytes(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)

    def send(self, obj) -> None:
        self.send_body(json.dumps(obj, allow_nan=True).encode())

    def request(self, method: str, params=None, timeout: float = 20.0) -> dict:
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.wait_for(self.next_id, timeout)

    def wait_for(self, msg_id, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            msg = self._next_message(deadline)
            if msg is None:
                raise TimeoutError(f"no answer to request {msg_id} (server alive: {self.proc.poll() is None})")
            if msg.get("id") == msg_id and ("result" in msg or "error" in msg):
                return msg
            if "method" in msg:
                self.notifications.append(msg)
            else:
                self.others.append(msg)

    def _next_message(self, deadline: float) -> dict | None:
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                length = int(
                    [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1]
                )
                if len(rest) >= length:
                    self.buf = rest[length:]
                    return json.loads(rest[:length])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                chunk = self.chunks.get(timeout=remaining)
            except queue.Empty:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def initialize(self, **params) -> None:
        self.request("initialize", {"processId": None, "capabilities": {}, "rootUri": None, **params})
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        except Exception:
            self.proc.kill()
            self.proc.wait()
