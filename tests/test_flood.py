"""A flooding client that does not read what the server writes cannot make it grow without
bound or lose what it acknowledged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from raw_server import RawServer

N = int(os.environ.get("USAGE_LS_FLOOD", "20000"))


def test_flood_of_notifications_without_reading(data_dir):
    srv = RawServer.__new__(RawServer)  # started by hand: nobody reads its stdout at first
    srv.proc = subprocess.Popen(
        [sys.executable, "-m", "usage_ls", "serve", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)},
    )
    srv.buf, srv.next_id, srv.notifications, srv.others = b"", 1000, [], []
    body = lambda obj: (lambda b: f"Content-Length: {len(b)}\r\n\r\n".encode() + b)(json.dumps(obj).encode())
    init = body(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "capabilities": {}, "rootUri": None},
        }
    )
    srv.proc.stdin.write(init + body({"jsonrpc": "2.0", "method": "initialized", "params": {}}))

    def flood():
        for i in range(N):
            rec = {"model": "gpt-4o", "inputTokens": 10, "outputTokens": 1, "id": f"f{i}"}
            if i % 97 == 0:
                rec["inputTokens"] = -1  # rejected: the server writes a log message for each
            srv.proc.stdin.write(body({"jsonrpc": "2.0", "method": "usage/record", "params": {"records": [rec]}}))
        srv.proc.stdin.flush()

    writer = threading.Thread(target=flood, daemon=True)
    writer.start()
    time.sleep(3)  # not reading anything meanwhile
    rss_blocked = _rss(srv.proc.pid)
    # now read again, as a client catching up would
    import queue

    srv.chunks = queue.Queue()
    threading.Thread(target=srv._pump, daemon=True).start()
    writer.join(timeout=max(120, N / 100))  # a hang guard, not a speed check
    assert not writer.is_alive()
    total = srv.request("usage/summary", {}, timeout=60)["result"]["messages"]
    rss_after = _rss(srv.proc.pid)
    rejected = len(range(0, N, 97))
    print(f"flood: {N} notifications, {total} stored, RSS {rss_blocked:.0f} MB while blocked, {rss_after:.0f} MB after")
    assert total == N - rejected
    assert rss_blocked < 300 and rss_after < 300
    srv.close()


def _rss(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmRSS:"))
