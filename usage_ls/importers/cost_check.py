"""Claude Code's own cost against ours: a standing check of our reading and our prices.

Claude Code (2.1 and later) writes a `cost-state` line into a session's transcript after each
turn: `{"type": "cost-state", "sessionId", "totalCostUSD", "modelUsage": {<model>:
{inputTokens, outputTokens, cacheReadInputTokens, cacheCreationInputTokens,
cacheCreationEphemeral1hInputTokens, costUSD, ...}}, "hasUnknownModelCost"}`: the session's
tokens and cost so far, per model, as Claude Code itself counts and prices them. Its models
are the ones requested (`claude-sonnet-4-5`), where the usage lines name the one that answered
(`claude-sonnet-4-5-20250929`): both are compared without a date suffix.

`check_session` reads the session's files the way the importer does (the transcript and its
sub-agents' files under `<session>/`, merged by the same rule, nothing held back) and prices
each response with our price table, then compares with the last `cost-state`, per model. It
compares the responses of that session's own files, not the ledger's records of the session:
a forked session (`--fork-session`) copies its parent's responses into its new transcript and
Claude Code counts them in its cost again, while the ledger counts each response once, under
the session it first appeared in.

Computed when asked (`usage-ls doctor`, `usage-ls report session`), from the files the
importer knows (`imports.json`): nothing is stored, so the check always uses today's prices
and reading. Figures that differ by more than a micro-dollar (`TOLERANCE_USD`), or token
counts that differ at all, are reported with what differs.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import orjson

from usage_ls.importers.base import ImportState
from usage_ls.importers.claude_code import ClaudeCode
from usage_ls.importers.lines import FileResult, Vanished, read_from

TOLERANCE_USD = 1e-6
BUDGET_BYTES = 256 * 1024 * 1024  # what `check_recent` reads at most (about half a second)
KINDS = ("input", "output", "cache read", "cache write", "1-hour cache write")
_TOOL_FIELDS = (
    "inputTokens",
    "outputTokens",
    "cacheReadInputTokens",
    "cacheCreationInputTokens",
    "cacheCreationEphemeral1hInputTokens",
)
_DATED = re.compile(r"-\d{8}$")
_MARK = b'"cost-state"'
_AGENT = re.compile(rb'"agentId":\s*"([0-9A-Za-z_-]{1,64})"')


def base_model(model: str) -> str:
    """A model name without its date suffix (`claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`)."""
    return _DATED.sub("", model)


def last_cost_state(data: bytes) -> dict | None:
    """The last `cost-state` line of a transcript's bytes, parsed, or None."""
    at = len(data)
    while True:
        at = data.rfind(_MARK, 0, at)
        if at < 0:
            return None
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        try:
            obj = orjson.loads(data[start : end if end >= 0 else len(data)])
        except orjson.JSONDecodeError:
            obj = None
        if (
            isinstance(obj, dict)
            and obj.get("type") == "cost-state"
            and isinstance(obj.get("modelUsage"), dict)
            and all(isinstance(v, dict) for v in obj["modelUsage"].values())
        ):
            return obj
        at = start


def session_files(transcript: Path, data: bytes | None = None) -> list[Path]:
    """A session's transcript and its sub-agents' files: those under `<session>/` and, for a
    session forked from another, the ones its copied tool results name (`"agentId"`), which
    stay under the session they were first run in (`<other session>/subagents/agent-<id>.jsonl`)."""
    side = transcript.parent / transcript.stem
    files = [transcript, *sorted(side.rglob("*.jsonl"))] if side.is_dir() else [transcript]
    if data:
        for agent in sorted(set(_AGENT.findall(data))):
            files += sorted(transcript.parent.glob(f"*/subagents/agent-{agent.decode()}.jsonl"))
    return list(dict.fromkeys(files))


def _tool_counts(usage: dict) -> list[int]:
    out = []
    for k in _TOOL_FIELDS:
        v = usage.get(k, 0)
        out.append(v if type(v) is int and v >= 0 else 0)
    return out


def check_session(transcript: Path, pricer) -> dict | None:
    """Our tokens and cost for the responses in a session's files against the transcript's last
    `cost-state`, per model; None when there is no `cost-state` (or the file is gone).

    {"session", "file", "toolUsd", "oursUsd", "agree", "models": [{"model", "ours": {"tokens",
    "costUsd"}, "tool": {"tokens", "costUsd"}, "differs": [what differs, in words]}], "from",
    "to" (epoch ms of the first and last response)}."""
    try:
        data, _st = read_from(transcript, 0)
    except Vanished:
        return None
    state = last_cost_state(data)
    if state is None:
        return None
    tool = ClaudeCode()
    tool.hold = False  # as the file is now: its cost-state counts what it holds
    entries: list = []
    for path in session_files(transcript, data):
        result = FileResult()
        try:
            tool.read(path, 0, {}, result, final=True)
        except Vanished:
            continue
        entries += result.entries
    records, _dups = tool.merge(entries, tool.empty_memory())
    ours: dict[str, list] = {}
    for rec in records:
        counts = [
            rec["inputTokens"],
            rec["outputTokens"],
            rec["cacheReadTokens"],
            rec["cacheWriteTokens"],
            rec["cacheWrite1hTokens"],
        ]
        cost = pricer.price(rec["model"], "anthropic", rec["timestamp"], *counts, rec.get("costUsd"), 0.0, "byok")[0]
        acc = ours.setdefault(base_model(rec["model"]), [0, 0, 0, 0, 0, 0.0, False])
        for i, n in enumerate(counts):
            acc[i] += n
        if cost is None:
            acc[6] = True  # a response we cannot price
        else:
            acc[5] += cost
    theirs = {base_model(m): u for m, u in state["modelUsage"].items()}
    unknown_cost = state.get("hasUnknownModelCost") is True
    models = []
    for model in sorted(set(ours) | set(theirs)):
        mine = ours.get(model, [0, 0, 0, 0, 0, 0.0, False])
        usage = theirs.get(model, {})
        tool_tokens = _tool_counts(usage)
        tool_cost = usage.get("costUSD")
        tool_cost = (
            float(tool_cost) if isinstance(tool_cost, (int, float)) and not isinstance(tool_cost, bool) else None
        )
        our_cost = None if mine[6] else round(mine[5], 10)
        differs = [
            f"{kind} tokens: ours {a:,}, Claude Code {b:,}"
            for kind, a, b in zip(KINDS, mine[:5], tool_tokens)
            if a != b
        ]
        if not usage:
            differs.insert(0, "Claude Code's cost-state does not name this model")
        elif not any(mine[:4]):
            differs.insert(0, "no usage line in the transcript names this model")
        if our_cost is None:
            differs.append("our price table does not know this model")
        elif tool_cost is not None and not unknown_cost and abs(our_cost - tool_cost) > TOLERANCE_USD:
            differs.append(f"cost: ours ${our_cost:.6f}, Claude Code ${tool_cost:.6f}")
        models.append(
            {
                "model": model,
                "ours": {"tokens": mine[:5], "costUsd": our_cost},
                "tool": {"tokens": tool_tokens, "costUsd": tool_cost},
                "differs": differs,
            }
        )
    ours_usd = sum(m["ours"]["costUsd"] or 0.0 for m in models)
    tool_usd = state.get("totalCostUSD")
    stamps = [rec["timestamp"] for rec in records]
    return {
        "session": str(state.get("sessionId") or transcript.stem),
        "file": str(transcript),
        "toolUsd": float(tool_usd) if isinstance(tool_usd, (int, float)) else None,
        "oursUsd": round(ours_usd, 10),
        "agree": not any(m["differs"] for m in models),
        "models": models,
        "from": min(stamps) if stamps else None,
        "to": max(stamps) if stamps else None,
    }


def imported_transcripts(data_dir: Path, days: int = 30, limit: int = 200) -> list[Path]:
    """Claude Code session transcripts the importer has read (not sub-agents' files), changed in
    the last `days` days (Claude Code keeps 30 by default), newest first, at most `limit`."""
    state = ImportState(data_dir).load()
    prefix = "claude-code:"
    since = time.time() - days * 86_400
    found = []
    for key in state.files:
        if not key.startswith(prefix):
            continue
        path = Path(key[len(prefix) :])
        if "subagents" in path.parts:
            continue
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            continue
        if mtime >= since:
            found.append((mtime, path))
    found.sort(reverse=True)
    return [p for _m, p in found[:limit]]


def find_transcript(data_dir: Path, session: str) -> Path | None:
    """The transcript of a session (`<session>.jsonl`) among the files the importer has read."""
    state = ImportState(data_dir).load()
    for key in state.files:
        if key.startswith("claude-code:") and key.endswith(f"/{session}.jsonl"):
            path = Path(key[len("claude-code:") :])
            if path.exists():
                return path
    return None


def check_recent(
    data_dir: Path, pricer, days: int = 30, limit: int = 200, budget: int = BUDGET_BYTES
) -> tuple[int, list[dict]]:
    """(sessions checked, the checks that disagree) over the recent imported transcripts,
    newest first, until `budget` bytes have been read (`usage-ls doctor` stays quick)."""
    checked, disagree = 0, []
    for path in imported_transcripts(data_dir, days, limit):
        if budget <= 0:
            break
        for f in session_files(path):
            try:
                budget -= f.stat().st_size
            except OSError:
                pass
        found = check_session(path, pricer)
        if found is None:
            continue
        checked += 1
        if not found["agree"]:
            disagree.append(found)
    return checked, disagree


def describe(check: dict) -> str:
    """One line: where ours and Claude Code's differ in a checked session."""
    parts = [f"{m['model']}: " + "; ".join(m["differs"]) for m in check["models"] if m["differs"]]
    tool = "?" if check["toolUsd"] is None else f"${check['toolUsd']:.6f}"
    return (
        f"session {check['session']}: Claude Code's own cost {tool}, ours ${check['oursUsd']:.6f} ("
        + " | ".join(parts)
        + ")"
    )
