"""`usage-ls sync`: push now, `--status`, `--init-roles`; and the lines `usage-ls doctor` shows."""

from __future__ import annotations

import sys
import time
from typing import Any

from usage_ls.config import Config, load_config
from usage_ls.team import db, push, schema, state
from usage_ls.team.db import TeamError
from usage_ls.team.once import sync_once
from usage_ls.team.secrets import mask, shown


def _when(ms: Any) -> str:
    if not isinstance(ms, int):
        return "never"
    ago = max(0, int(time.time() - ms / 1000))
    span = f"{ago} s" if ago < 120 else f"{ago // 60} min" if ago < 7200 else f"{ago // 3600} h"
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(ms / 1000))} ({span} ago)"


def status_lines(cfg: Config) -> tuple[list[str], list[str]]:
    """What `sync --status` and `doctor` say (no connection is made), and the problems."""
    if cfg.sync_postgres is None:
        return ["team sync:      off ([sync] postgres in config.toml; docs/team.md)", *_export_lines(cfg)], []
    root = cfg.data_dir
    lines = [f"team database:  {shown(cfg.sync_postgres)}"]
    problems: list[str] = []
    if not root.exists():
        return [*lines, "team sync:      nothing recorded yet"], problems
    st = state.read_status(root)
    queued = push.queued(root, cfg.tz)
    pending = _pending(cfg)
    more = "" if not pending else f" (+ {pending} in journals, not yet folded: each push sends those too)"
    lines.append(f"queued:         {queued} record(s){more}")
    lines.append(f"last success:   {_when(st.get('lastSuccess'))}")
    if st.get("lastError"):
        error = mask(str(st["lastError"]), cfg.sync_postgres)
        lines.append(f"last error:     {_when(st.get('lastErrorAt'))}: {error}")
        problems.append(f"team sync: the last push failed ({error}); records stay queued and are pushed when it works")
    device = (root / state.SYNC_DIR / "device-id").exists()
    lines.append(f"device id:      {state.device_id(root) if device else '(made on the first push)'}")
    return lines + _export_lines(cfg), problems


def _export_lines(cfg: Config) -> list[str]:
    if cfg.export_otlp is None:
        return ["OTLP export:    off ([export] otlp in config.toml; docs/team.md)"]
    st = state.read_status(cfg.data_dir) if cfg.data_dir.exists() else {}
    lines = [f"OTLP export:    {shown(cfg.export_otlp)}", f"  last success: {_when(st.get('otlpLastSuccess'))}"]
    if st.get("otlpLastError"):
        lines.append(f"  last error:   {_when(st.get('otlpLastErrorAt'))}: {mask(str(st['otlpLastError']))}")
    return lines


def _pending(cfg: Config) -> int | None:
    from usage_ls.store.ledger import Ledger

    try:
        ledger = Ledger(cfg.data_dir, cfg.tz, writable=False).open()
    except Exception:
        return None
    return ledger.pending


def run(args: Any) -> int:
    cfg = load_config()
    for problem in cfg.errors:
        print(f"usage-ls: config: {problem}", file=sys.stderr)
    if args.init_roles and not args.apply:
        print(schema.roles_sql(), end="")
        return 0
    if args.status:
        lines, _problems = status_lines(cfg)
        print("\n".join(lines))
        return 0
    if args.worker:
        from usage_ls.team import worker

        return worker.serve()
    if cfg.sync_postgres is None and cfg.export_otlp is None:
        print("usage-ls sync: off: set [sync] postgres or [export] otlp in config.toml (docs/team.md)", file=sys.stderr)
        return 2
    if args.init_roles and cfg.sync_postgres is None:
        print("usage-ls sync: --init-roles needs [sync] postgres (docs/team.md)", file=sys.stderr)
        return 2
    if args.init_roles and cfg.sync_postgres is not None:
        try:
            return _apply_roles(cfg.sync_postgres)
        except TeamError as exc:
            print(f"usage-ls sync: {exc}", file=sys.stderr)
            return 1
    errors = sync_once(cfg, args.quiet)
    for error in errors:
        print(f"usage-ls sync: {error}", file=sys.stderr)
    return 1 if errors else 0


def _apply_roles(conninfo: str) -> int:
    conn = db.connect(conninfo)
    try:
        schema.prepare(conn)
        with conn.transaction():
            conn.execute(schema.roles_sql())
    except TeamError:
        raise
    except Exception as exc:
        hint = ""
        if getattr(exc, "sqlstate", None) == "42501":  # insufficient_privilege
            hint = " (the login of [sync] postgres needs CREATEROLE, or run this as a superuser: docs/team.md)"
        raise TeamError(f"the roles could not be made: {db.said(exc, conninfo)}{hint}") from None
    finally:
        conn.close()
    print(f"schema version {schema.LATEST} and roles {schema.WRITER}, {schema.READER} are in place")
    return 0
