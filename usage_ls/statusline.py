"""`usage-ls statusline`, fast enough to run after every assistant message.

A status line command runs as a new process each time (Claude Code calls its `statusLine`
command after every assistant message; tmux every few seconds). Opening the ledger costs
tenths of a second on a big store, so the line comes from `status-cache.json` in the data
directory: the status bar text and today's numbers, written by whoever last computed them (the
editor's server on every change it pushes, or this command's slow path), with a stamp of the
ledger's files (`store/stamp.py`). While the stamp and the date still hold, the line costs a
few stat calls; otherwise the full CLI computes it (and writes the cache for the next call).

`--claude-code` reads Claude Code's statusLine JSON on stdin: its `rate_limits` (a
subscriber's 5-hour and weekly windows) are stored as limit observations
(`store/limits.py`), and the line shows the model, the session's cost as Claude Code reckons
it, today's credits and the windows with the time to their reset.

This module imports only the standard library (json: orjson's import alone takes ~12 ms) and
the two small store modules above:
`main` is called before the CLI (argparse, the service, numpy) is imported at all.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from usage_ls.store import stamp
from usage_ls.store.limits import LimitError, LimitLog, Observation, epoch_ms, percent

CACHE = "status-cache.json"


# -- the cache ------------------------------------------------------------------------------


def read_cache(root: Path, billing: str, now_ms: int) -> dict[str, Any] | None:
    """The cached status of `billing`, when the ledger has not changed since and it is still
    the day it was made for."""
    try:
        fd = os.open(root / CACHE, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            cache = json.loads(f.read())
        entry = cache[billing]
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        return None
    if not isinstance(entry, dict) or not now_ms < entry.get("validUntil", 0):
        return None
    if entry.get("stamp") != stamp.change_stamp(root):
        return None
    return entry


def write_cache(root: Path, billing: str, entry: dict[str, Any]) -> None:
    """Keep `entry` ({stamp, validUntil, text, credits, creditsText, costUsd}) for `billing`. The stamp must
    be taken before the numbers were computed: a write in between then invalidates it."""
    from usage_ls.fileio import atomic_write  # the writers have imported it already

    path = root / CACHE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            cache = json.loads(f.read())
        if not isinstance(cache, dict):
            cache = {}
    except (OSError, ValueError, RecursionError):
        cache = {}
    cache[billing] = entry
    try:
        atomic_write(path, json.dumps(cache).encode(), durable=False)  # a cache: lost, it is remade
    except OSError:
        pass  # a read-only data directory: every call takes the slow path


# -- Claude Code's statusLine JSON ------------------------------------------------------------

CLAUDE_WINDOWS = (("five_hour", "5h"), ("seven_day", "7d"))


def claude_observations(payload: dict[str, Any], now_ms: int) -> tuple[list[Observation], list[str]]:
    """The windows in Claude Code's `rate_limits` (absent for API-key users; either window may
    be missing), and a problem per window that is there but malformed."""
    limits = payload.get("rate_limits")
    if not isinstance(limits, dict):
        return [], []
    out, problems = [], []
    for key, window in CLAUDE_WINDOWS:
        raw = limits.get(key)
        if raw is None:
            continue
        if not isinstance(raw, dict):
            problems.append(f"rate_limits.{key}: expected an object, got {type(raw).__name__}")
            continue
        try:
            used = percent(raw.get("used_percentage"), f"rate_limits.{key}.used_percentage")
            resets = epoch_ms(raw.get("resets_at"), f"rate_limits.{key}.resets_at")
        except LimitError as exc:
            problems.append(str(exc))
            continue
        out.append(Observation("claude-code", window, used, resets, now_ms))
    return out, problems


def until(resets_at: int | None, now_ms: int) -> str:
    """`2h10m`, `3d4h`, `12m` until a reset; empty when unknown or past."""
    if resets_at is None or resets_at <= now_ms:
        return ""
    minutes = (resets_at - now_ms) // 60_000
    if minutes >= 24 * 60:
        return f"{minutes // 1440}d{minutes % 1440 // 60}h"
    if minutes >= 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{max(minutes, 1)}m"


def windows_text(observations: list[Observation], now_ms: int) -> str:
    parts = []
    for obs in sorted(observations, key=lambda o: o.window != "5h"):
        label = {"5h": "5h", "7d": "wk"}.get(obs.window, obs.window)
        left = until(obs.resets_at, now_ms)
        parts.append(f"{label} {obs.used_percent:.0f}%" + (f" ↻{left}" if left else ""))
    return " · ".join(parts)


def plain(value: object, limit: int = 40) -> str:
    """A string from the tool's JSON as plain text: no control characters (a terminal would run
    them), at most `limit` characters."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def claude_line(
    payload: dict[str, Any], status: dict[str, Any] | None, observations: list[Observation], now_ms: int
) -> str:
    parts = []
    model = payload.get("model")
    if isinstance(model, dict) and (model.get("display_name") or model.get("id")):
        parts.append(plain(model.get("display_name") or model.get("id")))
    cost = payload.get("cost")
    session_usd = cost.get("total_cost_usd") if isinstance(cost, dict) else None
    if isinstance(session_usd, (int, float)) and not isinstance(session_usd, bool):
        parts.append(f"${session_usd:,.2f} session")
    if status is not None:
        parts.append(f"{status['creditsText']} cr today")
    windows = windows_text(observations, now_ms)
    if windows:
        parts.append(windows)
    return " · ".join(parts)


# -- entry ------------------------------------------------------------------------------------


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The options of `[--data-dir D] statusline [--billing B] [--claude-code]`, or None for any
    other command line (the full CLI takes it)."""
    opts: dict[str, Any] = {"data_dir": None, "billing": "auto", "claude": False}
    args = list(argv)
    if args[:1] == ["--data-dir"] and len(args) >= 2:
        opts["data_dir"], args = args[1], args[2:]
    elif args[:1] and args[0].startswith("--data-dir="):
        opts["data_dir"], args = args[0].split("=", 1)[1], args[1:]
    if args[:1] != ["statusline"]:
        return None
    rest = args[1:]
    while rest:
        arg = rest.pop(0)
        if arg == "--claude-code":
            opts["claude"] = True
        elif arg == "--billing" and rest and rest[0] in ("premium", "byok", "auto"):
            opts["billing"] = rest.pop(0)
        elif arg in ("--billing=premium", "--billing=byok", "--billing=auto"):
            opts["billing"] = arg.split("=", 1)[1]
        else:
            return None  # help, a typo: argparse says it properly
    return opts


def data_root(option: str | None) -> Path:
    if option:
        return Path(option).expanduser()
    from usage_ls.paths import default_data_dir

    return default_data_dir()


def main(argv: list[str]) -> int | None:
    """Answer a status line command; None when `argv` is not one (or the cache cannot answer
    and the full CLI must)."""
    opts = parse(argv)
    if opts is None:
        return None
    root = data_root(opts["data_dir"])
    now_ms = time.time_ns() // 1_000_000
    status = read_cache(root, opts["billing"], now_ms)
    if not opts["claude"]:
        if status is None:
            return None
        print(status["text"])
        return 0
    return claude(root, opts["billing"], status)


def claude(root: Path, billing: str, status: dict[str, Any] | None) -> int:
    """`statusline --claude-code`: keep the windows of Claude Code's JSON on stdin, print the line."""
    now_ms = time.time_ns() // 1_000_000
    raw = sys.stdin.buffer.read()
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):
        print("usage-ls: the statusLine input is not JSON", file=sys.stderr)
        payload = {}
    if not isinstance(payload, dict):
        print("usage-ls: the statusLine input is not a JSON object", file=sys.stderr)
        payload = {}
    observations, problems = claude_observations(payload, now_ms)
    for problem in problems:
        print(f"usage-ls: statusLine input: {problem}; ignored", file=sys.stderr)
    try:
        LimitLog(root).append(observations)
    except OSError as exc:
        print(f"usage-ls: cannot keep the limit observations in {root}: {exc.strerror}", file=sys.stderr)
    if status is None:
        status = slow_status(root, billing)
    print(claude_line(payload, status, observations, now_ms))
    return 0


def slow_status(root: Path, billing: str) -> dict[str, Any] | None:
    """Open the ledger (the full way) and compute today's status; None when it cannot be."""
    from usage_ls.service import Usage

    try:
        svc = Usage(data_dir=root, tag="cli", writable=False).open()
    except Exception:  # a statusline never fails loudly: the line shows what it can
        return None
    try:
        return cache_status(svc, {"billing": billing})
    finally:
        svc.close()


def cache_status(svc: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """`views.status_bar` for `params`, kept in the cache for the next status line call."""
    from usage_ls import days
    from usage_ls.render.text import credits
    from usage_ls.views import status_bar

    taken = stamp.change_stamp(svc.cfg.data_dir)
    bar = status_bar(svc, params)
    tomorrow = days.shift(svc.today(), 1)
    entry = {
        "stamp": taken,
        "validUntil": days.midnight_ms(tomorrow, svc.tz),
        "text": bar["text"],
        "credits": bar["credits"],
        "creditsText": credits(bar["credits"]),
        "costUsd": bar["costUsd"],
    }
    write_cache(svc.cfg.data_dir, bar["billing"], entry)
    if (params or {}).get("billing") in (None, "auto"):  # "auto" resolved to this billing: kept as both
        write_cache(svc.cfg.data_dir, "auto", entry)
    return entry
