"""The team sync's state as the status-bar tooltip shows it: records queued, the last
successful push, the last error (masked). Read from `sync/` (no connection is made); the
queued count reads the month rollups, so it is kept until the cursor, the status or the
ledger's day files change (the status bar is asked after every record)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from usage_ls.render.text import md
from usage_ls.team import push, state
from usage_ls.team.secrets import mask

_cache: dict[Path, tuple[tuple[Any, ...], int]] = {}


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def status(root: Path, tz: Any, conninfo: str | None, pending: int, checkpoint_seq: int) -> dict[str, Any]:
    """{queued, pending, lastSuccess, lastError, lastErrorAt}: what the tooltip shows."""
    folder = root / state.SYNC_DIR
    key = (_mtime(folder / "cursor.json"), _mtime(folder / "status.json"), checkpoint_seq)
    hit = _cache.get(root)
    if hit is None or hit[0] != key:
        hit = (key, push.queued(root, tz) if root.exists() else 0)
        _cache[root] = hit
    st = state.read_status(root) if folder.exists() else {}
    error = st.get("lastError")
    return {
        "queued": hit[1],
        "pending": pending,
        "lastSuccess": st.get("lastSuccess"),
        "lastError": None if not error else mask(str(error), conninfo),
        "lastErrorAt": st.get("lastErrorAt"),
    }


def _ago(ms: Any, now_ms: int) -> str:
    if not isinstance(ms, int):
        return "never"
    s = max(0, (now_ms - ms) // 1000)
    span = (
        f"{s} s" if s < 120 else f"{s // 60} min" if s < 7200 else f"{s // 3600} h" if s < 172800 else f"{s // 86400} d"
    )
    return f"{time.strftime('%H:%M', time.localtime(ms / 1000))} ({span} ago)"


def tooltip(st: dict[str, Any], now_ms: int) -> str:
    """**Team sync**: Markdown lines for the status-bar tooltip (the error is escaped: data)."""
    more = f" (+ {st['pending']} not yet checkpointed)" if st["pending"] else ""
    lines = ["**Team sync**", "", f"- {st['queued']} record(s) queued{more}"]
    lines.append(f"- last push: {_ago(st['lastSuccess'], now_ms)}")
    if st["lastError"]:
        lines.append(f"- last error, {_ago(st['lastErrorAt'], now_ms)}: {md(st['lastError'])}")
    return "\n".join(lines)
