"""`usage-ls sync --worker`: the language server's push worker, a child that lives as long as
its server and pushes each time it is told.

A push started as a new `usage-ls sync` process paid for an interpreter, the imports, psycopg,
a connection and the schema check each time: a second or more on a loaded machine, most of the
sync lag. The worker pays once: it keeps its connection and schema check (`push.Link`, checked
again every SCHEMA_CHECK_S) and a push costs the journal lines that are new.

The protocol, one line each way: the server writes `push`; the worker does what `usage-ls sync
--quiet` does (the team push, then the OTLP export when set, at most every EXPORT_EVERY_S;
config.toml read again each time)
and answers one JSON line `{"ok", "sent", "inserted", "busy", "error"}` (the error masked, as
in status.json). Anything else it is told is answered with an error. A failed push drops the
connection; the next push connects again (and a kept connection that fails is replaced at once,
once: the database may have closed it while idle).

It never outlives its server: it exits when its stdin closes (the server stopped, or it exited
or crashed: the kernel closes the pipe) and, should the server die while a push is under way,
within WATCH_S of its parent's exit (USAGE_LS_EXIT_WITH, as the dashboard): the push's open
transaction is rolled back by the database, the cursor has not moved, nothing is lost.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from typing import Any

import orjson

from usage_ls.config import load_config
from usage_ls.team import db, push
from usage_ls.team.once import sync_once
from usage_ls.team.secrets import mask

REQUEST = b"push"
WATCH_S = 0.5
EXPORT_EVERY_S = 5.0  # the OTLP export (a checkpoint first: it reads day files) at most this often


def serve() -> int:
    """Answer `push` lines until stdin closes (or the server stops reading)."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not break the answers
    sys.stdout = sys.stderr
    _exit_with_parent()
    lines = _Lines(sys.stdin.fileno())
    link: push.Link | None = None
    exported_at = float("-inf")
    owed = False  # an export skipped (too soon after the last): made when the requests pause
    try:
        while True:
            line = lines.next(EXPORT_EVERY_S if owed else None)
            if line is None or (not line and owed):  # a pause (or the end) with an export owed
                _export_only()
                exported_at, owed = time.monotonic(), False
                if line is None:
                    continue
            if not line:
                break
            if line.strip() != REQUEST:
                answers.write(_answer(False, error=f"unknown request {line.strip()[:40]!r} (expected `push`)"))
                continue
            export = time.monotonic() - exported_at >= EXPORT_EVERY_S
            link, answer, exporting = _one(link, export)
            if exporting and export:
                exported_at, owed = time.monotonic(), False
            elif exporting:
                owed = True
            answers.write(answer)
    except BrokenPipeError:  # the server is gone
        pass
    finally:
        if link is not None:
            link.close()
    return 0


class _Lines:
    """Lines from a file descriptor, with a time limit on the wait (select: unbuffered reads)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = b""

    def next(self, timeout: float | None) -> bytes | None:
        """The next line; b"" at the end; None when `timeout` passed first."""
        while b"\n" not in self.buf:
            if timeout is not None and not select.select([self.fd], [], [], timeout)[0]:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                return b""
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"


def _one(link: push.Link | None, export: bool = True) -> tuple[push.Link | None, bytes, bool]:
    """One push and export as `usage-ls sync --quiet` makes them, on the kept link; and whether
    an OTLP export is set. (Pushes come every fraction of a second while records do; the export,
    which checkpoints first, at most every EXPORT_EVERY_S, and after a pause when one was skipped.)"""
    conninfo = None
    exporting = False
    try:
        cfg = load_config()
        conninfo, exporting = cfg.sync_postgres, cfg.export_otlp is not None
        if link is not None and link.conninfo != conninfo:  # config.toml changed: another database
            link.close()
            link = None
        if link is None and conninfo is not None:
            link = push.Link(conninfo)
        out = push.Outcome()
        errors = sync_once(cfg, quiet=True, link=link, out=out, export=export)
    except Exception as exc:  # anything else: said (masked), and the worker goes on
        if link is not None:
            link.drop()
        return link, _answer(False, error=f"the push failed: {db.said(exc, conninfo)}"), exporting
    return link, _answer(not errors, out, "; ".join(errors) or None), exporting


def _export_only() -> None:
    """The OTLP export a push skipped (its outcome goes to status.json, as every export's)."""
    try:
        cfg = load_config()
        if cfg.export_otlp is not None:
            cfg.sync_postgres = None  # (the export alone)
            sync_once(cfg, quiet=True)
    except Exception as exc:
        print(f"usage-ls sync --worker: the OTLP export failed: {mask(str(exc))}", file=sys.stderr)


def _answer(ok: bool, out: push.Outcome | None = None, error: str | None = None) -> bytes:
    out = out or push.Outcome()
    body: dict[str, Any] = {"ok": ok, "sent": out.sent, "inserted": out.inserted, "busy": out.busy, "error": error}
    return orjson.dumps(body) + b"\n"


def _exit_with_parent() -> None:
    parent = os.environ.get("USAGE_LS_EXIT_WITH")
    if not parent or not parent.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(WATCH_S)
        os._exit(0)  # mid-push: the database rolls the batch back; the cursor had not moved

    threading.Thread(target=watch, daemon=True, name="exit-with-server").start()
