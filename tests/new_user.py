"""A new user's machine for the editor tests: a home holding Claude Code and Codex logs (the
sample sessions, tests/fixtures/logs/samples) and nothing else, and the line Claude Code appends
when it answers once more, today."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import orjson

SAMPLES = Path(__file__).resolve().parent / "fixtures" / "logs" / "samples"


def make_home(home: Path, history_mb: int = 0) -> Path:
    """Claude Code's and Codex's logs under `home`; returns the Claude Code transcript (the
    sample session, project `widget`). `history_mb`: that much more Claude Code history besides
    (generated, September-October 2026, projects `widget-0` ...), so the import lasts long
    enough for an editor to draw its progress (VS Code draws it only once it has lasted a moment)."""
    shutil.copytree(SAMPLES / "claude", home / ".claude")
    shutil.copytree(SAMPLES / "codex", home / ".codex")
    transcript = next((home / ".claude").rglob("*.jsonl"))
    if history_mb:
        sys.path.insert(0, str(Path(__file__).parent / "importers"))
        from synth_logs import claude_bulk

        claude_bulk(home / ".claude", history_mb * 1_000_000, session_bytes=2_000_000)
    return transcript


def answer_line(transcript: Path, output_tokens: int = 40_000) -> bytes:
    """The transcript's last real answer, answered again now (a finished response, new ids),
    with `output_tokens` (enough to move the credits shown)."""
    replies = [orjson.loads(x) for x in transcript.read_bytes().splitlines() if b'"assistant"' in x and b'"usage"' in x]
    last = json.loads(json.dumps([r for r in replies if r["message"]["model"] != "<synthetic>"][-1]))
    now = dt.datetime.now(dt.UTC)
    last["timestamp"] = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    last["uuid"] = "live-line-uuid"
    last["requestId"] = "req_live_line"
    last["message"]["id"] = "msg_live_line"
    last["message"]["stop_reason"] = "end_turn"
    last["message"]["usage"]["output_tokens"] = output_tokens
    return orjson.dumps(last) + b"\n"
