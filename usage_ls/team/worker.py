"""`usage-ls sync --worker`: the language server's push worker, a child that lives as long as
its server and pushes each time it is told.

A push started as a new `usage-ls sync` process paid for an interpreter, the imports, psycopg,
a connection and the schema check each time: a second or more on a loaded machine, most of the
sync lag. The worker pays once: it keeps its connection and schema check (`push.Link`, checked
again every SCHEMA_CHECK_S) and a push costs the journal lines that are new.

The protocol, one line each way: the server writes `push`; the worker does what `usage-ls sync
--quiet` does (the team push, then the OTLP export when set; config.toml read again each time)
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
import sys
import threading
import time
from typing import Any

import orjson

from usage_ls.config import load_config
from usage_ls.team import db, push
from usage_ls.team.command import sync_once

REQUEST = b"push"
WATCH_S = 0.5


def serve() -> int:
    """Answer `push` lines until stdin closes (or the server stops reading)."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not break the answers
    sys.stdout = sys.stderr
    _exit_with_parent()
    source = sys.stdin.buffer
    link: push.Link | None = None
    try:
        while line := source.readline():
            if line.strip() != REQUEST:
                answers.write(_answer(False, error=f"unknown request {line.strip()[:40]!r} (expected `push`)"))
                continue
            link, answer = _one(link)
            answers.write(answer)
    except BrokenPipeError:  # the server is gone
        pass
    finally:
        if link is not None:
            link.close()
    return 0


def _one(link: push.Link | None) -> tuple[push.Link | None, bytes]:
    """One push and export as `usage-ls sync --quiet` makes them, on the kept link."""
    conninfo = None
    try:
        cfg = load_config()
        conninfo = cfg.sync_postgres
        if link is not None and link.conninfo != conninfo:  # config.toml changed: another database
            link.close()
            link = None
        if link is None and conninfo is not None:
            link = push.Link(conninfo)
        out = push.Outcome()
        errors = sync_once(cfg, quiet=True, link=link, out=out)
    except Exception as exc:  # anything else: said (masked), and the worker goes on
        if link is not None:
            link.drop()
        return link, _answer(False, error=f"the push failed: {db.said(exc, conninfo)}")
    return link, _answer(not errors, out, "; ".join(errors) or None)


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
