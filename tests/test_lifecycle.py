"""The editor going away: the server folds its journal and exits, leaving no process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from usage_ls.service import Usage


def frame(obj: dict) -> bytes:
    body = json.dumps(obj).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def start(data_dir, process_id=None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "usage_ls", "serve", "--stdio"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)},
    )
    proc.stdin.write(
        frame(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": process_id, "capabilities": {}, "rootUri": None},
            }
        )
    )
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    proc.stdin.write(
        frame(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "usage/record",
                "params": {"records": [{"model": "gpt-4o", "inputTokens": 5, "outputTokens": 5, "id": "kept"}]},
            }
        )
    )
    proc.stdin.flush()
    return proc


def read_until_id(proc, want_id: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    buf = b""
    while time.monotonic() < deadline:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        if f'"id":{want_id}'.encode() in buf.replace(b" ", b""):
            return
    raise AssertionError(f"no response {want_id}: {buf[-500:]!r}")


def test_stdin_closed_folds_the_journal_and_exits(data_dir):
    proc = start(data_dir)
    read_until_id(proc, 2)  # acknowledged
    proc.stdin.close()
    assert proc.wait(timeout=20) == 0
    assert not list((data_dir / "journal").glob("*.jsonl"))
    svc = Usage(data_dir=data_dir, writable=False).open()
    assert svc.summary()["messages"] == 1


def test_editor_process_killed_server_exits(data_dir):
    editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc = start(data_dir, process_id=editor.pid)
    read_until_id(proc, 2)
    editor.kill()
    editor.wait()
    assert proc.wait(timeout=10) == 0  # noticed within the watch loop's polling, not a timeout
    assert Usage(data_dir=data_dir, writable=False).open().summary()["messages"] == 1


def test_data_files_are_private(data_dir):
    proc = start(data_dir)
    read_until_id(proc, 2)
    proc.stdin.close()
    proc.wait(timeout=20)
    for path in data_dir.rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


def test_a_message_due_after_exit_does_not_keep_the_server_alive(data_dir):
    """A record just before `exit`: its usage/didChange comes due after the output is closed.
    Sending it failed, the failure was told to the editor by sending again, and so on: the
    server logged without end into a pipe nobody read, and never exited."""
    proc = start(data_dir)
    read_until_id(proc, 2)
    record = {"model": "gpt-4o", "inputTokens": 5, "outputTokens": 5, "id": "late"}
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "usage/record", "params": {"records": [record]}}))
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
    proc.stdin.flush()
    try:
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
    assert len(proc.stderr.read()) < 20_000  # no tracebacks without end
    assert Usage(data_dir=data_dir, writable=False).open().summary()["messages"] >= 1  # the acknowledged one
