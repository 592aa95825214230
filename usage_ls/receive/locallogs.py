"""The AI tools' own logs on this machine, as seen from an OTel event: one API call, one record.

- **Claude Code.** Its `api_request` event's `request_id` is the transcript's `requestId`, and
  the event's `session.id` names the transcript (`<projects>/<folder>/<session>.jsonl`, and its
  sub-agents' `<session>/subagents/*.jsonl`). The log importer's record id is
  `claude-code:<message id>:<request id>`; the event has no message id, so it is read from the
  transcript line with that `requestId`, and the event's record gets the importer's own id (and
  the transcript's project and model): whichever of the two reaches the ledger first is kept, the other is
  a duplicate. Claude Code writes the line before it sends the event; when the line is not
  there yet the event waits (`Resolver.resolve` says "wait") for up to `WAIT_SECONDS`. Without a
  transcript on this machine the event keeps its own id (`claude-code:otel:<request id>`).
- **Codex, Gemini CLI.** Their events carry no id their logs also have (no response id; the
  chat recording's message ids are its own), so the rule is per session: when this machine
  holds the session's rollout (`rollout-*-<conversation.id>.jsonl`) or chat recording
  (`chats/session-*-<first 8 of session.id>.json[l]`), that log is the record of its calls
  (`usage-ls import` and the log watcher read it) and the session's events are not stored.

Files are found where the importers look (`$CLAUDE_CONFIG_DIR`, `$CODEX_HOME`,
`$GEMINI_DATA_DIR`, else the home folder). Transcripts are read incrementally: only bytes
added since the last look, and only lines that name a `requestId`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson

from usage_ls import attribution

WAIT_SECONDS = 60.0
RECHECK_SECONDS = 5.0  # how often a session without a log on this machine is looked for again
SAFE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")  # ids that may appear in a file name pattern
REQUEST_MARK = b'"requestId"'
READ_BLOCK = 4 * 1024 * 1024


class Transcript:
    """One transcript file: requestId -> (record id, project, model, feature) of the lines read so far."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.ids: dict[str, tuple[str, str | None, str | None, str | None]] = {}

    def catch_up(self) -> None:
        """Read the lines added since the last look (complete lines only, a block at a time)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                rest = b""
                while block := f.read(READ_BLOCK):
                    data = rest + block
                    end = data.rfind(b"\n") + 1
                    self._lines(data[:end])
                    self.offset += end
                    rest = data[end:]
        except OSError:
            return

    def _lines(self, data: bytes) -> None:
        from usage_ls.importers.claude_lines import slow_entry

        for line in data.splitlines():
            if REQUEST_MARK not in line:
                continue
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if type(obj) is not dict:
                continue
            entry, _problem = slow_entry(obj, None, self.path.parent.name, None)
            if entry is not None and entry.request_id and entry.message_id:
                rec = entry.record
                self.ids.setdefault(
                    entry.request_id, (rec["id"], rec.get("project"), rec.get("model"), rec.get("feature"))
                )


class Resolver:
    """Ties OTel events to the tools' logs on this machine (see the module's rules)."""

    def __init__(self) -> None:
        self.transcripts: dict[Path, Transcript] = {}
        self.sessions: dict[tuple[str, str], tuple[float, list[Path]]] = {}  # (tool, id) -> (when, files)

    def _files(self, tool: str, session: str, now: float) -> list[Path]:
        key = (tool, session)
        cached = self.sessions.get(key)
        if cached is not None:
            when, files = cached
            # Codex and Gemini logs found stay found; a Claude Code session may add sub-agents
            if (files and tool != "claude-code") or now - when < RECHECK_SECONDS:
                return files
        files = _find(tool, session) if SAFE_ID.match(session) else []
        if len(self.sessions) > 10_000:
            self.sessions.clear()
        self.sessions[key] = (now, files)
        return files

    def resolve(self, call: Any, now: float | None = None) -> str:
        """What to do with an event's call: "store" (perhaps under the log's own record id, set
        on `call.record`), "wait" (its transcript line is not written yet) or "skip" (the
        session's log on this machine is the record of it)."""
        now = time.monotonic() if now is None else now
        if not call.session:
            return "store"
        files = self._files(call.tool, call.session, now)
        if call.tool in ("codex", "gemini"):
            return "skip" if files else "store"
        if call.tool != "claude-code" or not files or not call.request_id:
            return "store"
        for path in files:
            transcript = self.transcripts.get(path)
            if transcript is None:
                if len(self.transcripts) > 1000:
                    self.transcripts.clear()
                transcript = self.transcripts[path] = Transcript(path)
            transcript.catch_up()
            found = transcript.ids.get(call.request_id)
            if found is not None:
                # the importer's id, and its project and model (the API's answer may name a
                # dated model where the event names the one asked for): one record either way
                call.record["id"], project, model, feature = found
                if project:
                    call.record["project"] = project
                if model:
                    call.record["model"] = model
                if feature:  # the line's attribution (real names where the event may say "custom"), then the event's
                    call.record["feature"] = attribution.merged(feature, call.record.get("feature")) or feature
                return "store"
        return "wait"


def _find(tool: str, session: str) -> list[Path]:
    """The log files of one session of `tool` on this machine."""
    found: list[Path] = []
    try:
        if tool == "claude-code":
            from usage_ls.importers.claude_code import ClaudeCode

            for root in ClaudeCode().roots():
                if root.is_dir():
                    found += root.glob(f"*/{session}.jsonl")
                    found += root.glob(f"*/{session}/subagents/*.jsonl")
        elif tool == "codex":
            from usage_ls.importers.codex import Codex

            for root in Codex().roots():
                if root.is_dir():
                    found += root.glob(f"*/*/*/rollout-*-{session}.jsonl")
                    found += root.glob(f"rollout-*-{session}.jsonl")
        elif tool == "gemini":
            from usage_ls.importers.gemini import Gemini

            for root in Gemini().roots():
                if root.is_dir():
                    found += root.glob(f"*/chats/session-*-{session[:8]}.json*")
    except OSError:
        return []
    return sorted(found)
