"""What the AI tools on this machine logged before the server started: imported in the
background when the server starts, with progress for the editor.

`[import] watch = "auto"` (the default) watches every tool whose logs are on this machine
(`detect`); the live watcher (`live.py`) then reads what the tools append. What they wrote
before is imported here, tool by tool, by `usage-ls import <tool>` in a child process, exactly
as a user running it would: records go straight into the day files (the bulk path, with its
crash safety), the import's own state says what was read, and the running server sees the new
records through the ledger's `state.json` like any other process's writes. Nothing blocks the
status bar meanwhile; the editor gets LSP work-done progress ("Importing Claude Code logs —
50%"). With several editor windows, the import lock makes the second backfill wait and then
find nothing new.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from pathlib import Path

import orjson

from usage_ls import child
from usage_ls.importers import TOOL_NAMES, Importer
from usage_ls.importers.registry import EXPORTS
from usage_ls.render.status import LABELS

log = logging.getLogger(__name__)

OFF = ("off", "none", "false", "no")


def detect(importer: Importer) -> list[str]:
    """The tools whose default log locations exist on this machine (not the vendor exports a
    user downloads: those are imported by hand)."""
    found = []
    for name in TOOL_NAMES:
        if name in EXPORTS:
            continue
        try:
            roots = importer.tool(name).roots()
        except Exception:  # a tool's lookup failing must not stop the others
            log.exception("detect %s", name)
            continue
        if any(Path(r).expanduser().exists() for r in roots):
            found.append(name)
    return found


def watch_setting(configured: list[str], explicit: bool) -> list[str]:
    """config.toml's `[import] watch` when it says; else `USAGE_LS_WATCH` (off, auto, or tool
    names separated by commas) when set; else the default, "auto"."""
    env = os.environ.get("USAGE_LS_WATCH")
    if explicit or env is None:
        return configured
    env = env.strip().lower()
    if env in OFF or not env:
        return []
    return [part.strip() for part in env.split(",") if part.strip()]


Progress = Callable[[int, str], None]


async def run(data_dir: Path, names: list[str], progress: Progress) -> dict[str, int]:
    """Import each tool's history in a child process; `progress(percent, message)` before each
    tool. Returns {tool: records imported} (a tool whose import failed is logged and skipped)."""
    imported: dict[str, int] = {}
    for i, name in enumerate(names):
        progress(100 * i // max(1, len(names)), f"Importing {LABELS.get(name, name)} logs")
        proc = await child.start(data_dir, "import", name, "--json", stdout=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if proc.returncode != 0:
            log.warning("backfill %s: usage-ls import exited %s: %s", name, proc.returncode, err.decode()[-500:])
            continue
        try:
            imported[name] = int(orjson.loads(out)["imported"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("backfill %s: unexpected output %r", name, out[:200])
    return imported
