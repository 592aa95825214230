"""Realistic bulk logs of every other tool usage-ls imports, generated (deterministic for a
seed): for bench/import_bench.py (~40 MB each) and for tests that want many sessions.

Each generator writes about `target_bytes` into `root` the way the tool lays its files out
(docs/importers.md, ../shared/IMPORT_FORMATS.md, ../shared/MORE_IMPORT_FORMATS.md, the
fixtures under tests/fixtures/logs/more): sessions over two months, each within one day, with
the bulk a real log has beside the usage (prompts, answers, tool output, thinking), so that
usage is a small part of the bytes, as it is on disk. `BULK[name]` says how to make a tool's
logs, where its tool's variables must point (`env(root)`) and which paths to name on the
command line (`paths(root)`, for tools with no default place).

The data avoids ccusage's known misreadings where a real log need not have them (times with
milliseconds, no empty Amp ledgers, no branch copies in pi, sessions within one day for the
tools that keep running totals), so that both readers can be compared on it; the qwen logs
carry cached tokens, which ccusage counts twice whatever the log (docs/importers.md, `qwen`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import random
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

BASE = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
DAYS = 60
PROJECTS = ["widget", "billing-api", "infra", "docs-site", "ml-pipeline", "mobile-app"]
_TEXT = (
    "the parser fails when the input has trailing whitespace so we strip it before tokenizing and add a "
    "regression test covering empty lines unicode escapes and very long identifiers then run the suite "
    "def return self import from class if else for while async await const let function => { } ( ) ; "
    "README.md src/main.py tests/test_api.py error warning passed failed 200 OK 404 Not Found"
)
_WORDS = _TEXT.split()
CLAUDE = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"]


def _corpus() -> str:
    rng = random.Random(1234)
    lines, size = [], 0
    while size < 1 << 18:
        line = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 18)))
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


CORPUS = _corpus()


class Gen:
    """Shared randomness: text of a given size, times, token counts, ids."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def text(self, n: int) -> str:
        start = self.rng.randrange(0, len(CORPUS) - n - 1) if n < len(CORPUS) - 1 else 0
        return CORPUS[start : start + n]

    def bulk(self) -> str:
        """What a turn writes beside its usage: a prompt, an answer, a tool's output."""
        return self.text(self.rng.choice([300, 1200, 3000, 6000]))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def start(self, s: int) -> dt.datetime:
        """Session `s`'s start: one of 60 days, early enough to end the same day (UTC)."""
        r = self.rng
        return BASE + dt.timedelta(days=s % DAYS, hours=r.randint(0, 20), minutes=r.randint(0, 59),
                                   seconds=r.randint(0, 59), milliseconds=r.randint(0, 999))  # fmt: skip

    def step(self, t: dt.datetime) -> dt.datetime:
        return t + dt.timedelta(seconds=self.rng.randint(5, 90), milliseconds=self.rng.randint(0, 999))

    def tokens(self) -> tuple[int, int, int, int]:
        """(input without cache, output, cache read, cache write)"""
        r = self.rng
        return (r.randint(1, 4000), r.randint(20, 3000), r.choice([0, r.randint(5_000, 150_000)]),
                r.choice([0, 0, r.randint(100, 20_000)]))  # fmt: skip

    def turns(self) -> int:
        return self.rng.randint(8, 40)


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def sql_ts(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _j(obj) -> bytes:
    return orjson.dumps(obj)


def _jsonl(objs) -> bytes:
    return b"".join(orjson.dumps(o) + b"\n" for o in objs)


def _write(path: Path, data: bytes, when: dt.datetime | None = None) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if when is not None:  # the file was last written at the session's end
        os.utime(path, (when.timestamp(), when.timestamp()))
    return len(data)


def size_of(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


# -- JSON and JSONL logs ------------------------------------------------------------------------


def gemini_bulk(root: Path, target: int, seed: int = 21) -> None:
    g, written, s = Gen(seed), 0, 0
    while written < target:
        project = PROJECTS[s % len(PROJECTS)]
        t, sid = g.start(s), g.uuid()
        folder = root / "tmp" / project
        if not (folder / ".project_root").exists():
            _write(folder / ".project_root", f"/home/dev/src/{project}".encode())
        lines: list[dict] = [{"sessionId": sid, "projectHash": hashlib.sha256(project.encode()).hexdigest(),
                              "startTime": iso(t), "lastUpdated": iso(t), "kind": "main"}]  # fmt: skip
        model = g.rng.choice(["gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview"])
        for _ in range(g.turns()):
            lines.append({"id": g.uuid(), "timestamp": iso(t), "type": "user", "content": [{"text": g.text(200)}]})
            t = g.step(t)
            inp, out, cached, _cw = g.tokens()
            thoughts, tool = g.rng.choice([0, g.rng.randint(50, 800)]), g.rng.choice([0, 0, g.rng.randint(10, 300)])
            tokens = {"input": inp + cached, "output": out, "cached": cached, "thoughts": thoughts, "tool": tool,
                      "total": inp + cached + out + thoughts + tool}  # fmt: skip
            lines.append({"id": g.uuid(), "timestamp": iso(t), "type": "gemini", "content": g.bulk(),
                          "thoughts": [{"subject": "Planning", "description": g.text(400), "timestamp": iso(t)}],
                          "tokens": tokens, "model": model})  # fmt: skip
            t = g.step(t)
        name = f"session-{t:%Y-%m-%dT%H-%M}-{sid[:8]}.jsonl"
        written += _write(folder / "chats" / name, _jsonl(lines), t)
        s += 1


def amp_bulk(root: Path, target: int, seed: int = 22) -> None:
    g, written, s = Gen(seed), 0, 0
    while written < target:
        t, tid = g.start(s), f"T-{g.uuid()}"
        messages: list[dict] = []
        model = g.rng.choice(CLAUDE[:2])
        for i in range(g.turns()):
            messages.append({"role": "user", "messageId": 2 * i, "content": [{"type": "text", "text": g.text(300)}],
                             "meta": {"sentAt": ms(t)}})  # fmt: skip
            t = g.step(t)
            inp, out, cr, cw = g.tokens()
            usage = {"model": model, "timestamp": iso(t), "inputTokens": inp, "outputTokens": out,
                     "cacheCreationInputTokens": cw, "cacheReadInputTokens": cr, "totalInputTokens": inp + cw + cr}  # fmt: skip
            messages.append({"role": "assistant", "messageId": 2 * i + 1,
                             "content": [{"type": "text", "text": g.bulk()}, {"type": "tool_use", "id": f"toolu_{i}",
                                         "name": "Read", "input": {"path": "src/main.py"}}],
                             "state": {"type": "complete", "stopReason": "tool_use"}, "usage": usage})  # fmt: skip
            t = g.step(t)
        doc = {"v": len(messages), "id": tid, "created": ms(g.start(s)), "title": g.text(40), "messages": messages,
               "env": {"initial": {"trees": [{"displayName": PROJECTS[s % 6]}]}}}  # fmt: skip
        written += _write(root / "threads" / f"{tid}.json", _j(doc), t)
        s += 1


def droid_bulk(root: Path, target: int, seed: int = 23) -> None:
    g, written, s = Gen(seed), 0, 0
    models = ["Claude-Sonnet-4.5-[Anthropic]", "Claude-Opus-4.1-[Anthropic]", "GPT-5-[OpenAI]"]
    while written < target:
        project = PROJECTS[s % len(PROJECTS)]
        cwd = f"/home/dev/src/{project}"
        t, sid = g.start(s), g.uuid()
        start = t
        lines: list[dict] = [{"type": "session_start", "id": sid, "title": g.text(30), "cwd": cwd}]
        total = [0, 0, 0, 0]
        for _ in range(g.turns()):
            lines.append({"type": "message", "id": g.uuid(), "timestamp": iso(t),
                          "message": {"role": "user", "content": [{"type": "text", "text": g.text(300)}]}})  # fmt: skip
            t = g.step(t)
            total = [a + b for a, b in zip(total, g.tokens(), strict=True)]
            lines.append({"type": "message", "id": g.uuid(), "timestamp": iso(t),
                          "message": {"role": "assistant", "content": [{"type": "text", "text": g.bulk()}]}})  # fmt: skip
            t = g.step(t)
        folder = root / "sessions" / cwd.replace("/", "-")
        written += _write(folder / f"{sid}.jsonl", _jsonl(lines), t)
        model = models[s % 3]
        settings = {"assistantActiveTimeMs": ms(t) - ms(start), "model": model,
                    "providerLock": "openai" if "GPT" in model else "anthropic", "providerLockTimestamp": iso(start),
                    "tokenUsage": {"inputTokens": total[0], "outputTokens": total[1], "cacheCreationTokens": total[3],
                                   "cacheReadTokens": total[2], "thinkingTokens": 0}}  # fmt: skip
        written += _write(folder / f"{sid}.settings.json", _j(settings), t)
        s += 1


def codebuff_bulk(root: Path, target: int, seed: int = 24) -> None:
    g, written, s = Gen(seed), 0, 0
    while written < target:
        project = PROJECTS[s % len(PROJECTS)]
        t = g.start(s)
        chat = t.strftime("%Y-%m-%dT%H-%M-%S.") + f"{t.microsecond // 1000:03d}Z"
        msgs: list[dict] = []
        for _ in range(g.turns()):
            msgs.append({"id": g.uuid(), "variant": "user", "text": g.text(300), "timestamp": iso(t)})
            t = g.step(t)
            inp, out, cr, cw = g.tokens()
            usage = {
                "inputTokens": inp,
                "outputTokens": out,
                "cacheCreationInputTokens": cw,
                "cacheReadInputTokens": cr,
            }
            msgs.append({"id": g.uuid(), "variant": "ai", "role": "assistant", "text": g.bulk(), "timestamp": iso(t),
                         "metadata": {"model": CLAUDE[s % 2], "usage": usage}, "credits": round(out / 400, 2)})  # fmt: skip
            t = g.step(t)
        path = root / "manicode" / "projects" / project / "chats" / chat / "chat-messages.json"
        written += _write(path, _j(msgs), t)
        s += 1


def kimi_bulk(root: Path, target: int, seed: int = 25) -> None:
    g, written, s = Gen(seed), 0, 0
    dirs = [f"/home/dev/src/{p}" for p in PROJECTS]
    _write(root / "config.toml", b'default_model = "kimi-for-coding"\n\n[models.kimi-for-coding]\n'
           b'provider = "managed:kimi-code"\nmodel = "kimi-for-coding"\nmax_context_size = 262144\n')  # fmt: skip
    _write(root / "kimi.json", _j({"work_dirs": [{"path": d, "kaos": "local"} for d in dirs]}))
    while written < target:
        wd = dirs[s % len(dirs)]
        t, sid = g.start(s), g.uuid()
        lines: list[dict] = [{"type": "metadata", "protocol_version": "1.3"}]
        for i in range(g.turns()):
            lines.append({"timestamp": t.timestamp(), "message": {"type": "TurnBegin",
                                                                  "payload": {"user_input": g.text(300)}}})  # fmt: skip
            t = g.step(t)
            lines.append({"timestamp": t.timestamp(), "message": {"type": "ContentPart",
                                                                  "payload": {"type": "text", "text": g.bulk()}}})  # fmt: skip
            inp, out, cr, cw = g.tokens()
            usage = {"input_other": inp, "output": out, "input_cache_read": cr, "input_cache_creation": cw}
            lines.append({"timestamp": round(t.timestamp(), 3), "message": {"type": "StatusUpdate", "payload": {
                "context_usage": 0.1, "token_usage": usage, "message_id": f"chatcmpl-{sid[:8]}-{i}"}}})  # fmt: skip
            t = g.step(t)
        folder = root / "sessions" / hashlib.md5(wd.encode()).hexdigest() / sid
        written += _write(folder / "wire.jsonl", _jsonl(lines), t)
        s += 1


def qwen_bulk(root: Path, target: int, seed: int = 26) -> None:
    g, written, s = Gen(seed), 0, 0
    records = []
    while written < target:
        project = PROJECTS[s % len(PROJECTS)]
        cwd = f"/home/dev/src/{project}"
        t, sid = g.start(s), g.uuid()
        lines: list[dict] = []
        parent = None
        sums = {"requests": 0, "inputTokens": 0, "outputTokens": 0, "cachedTokens": 0, "thoughtsTokens": 0}
        for _ in range(g.turns()):
            u = g.uuid()
            lines.append({"uuid": u, "parentUuid": parent, "sessionId": sid, "timestamp": iso(t), "type": "user",
                          "cwd": cwd, "version": "0.24.4", "message": {"role": "user", "parts": [{"text": g.text(300)}]}})  # fmt: skip
            parent, t = u, g.step(t)
            inp, out, cr, _cw = g.tokens()
            meta = {"promptTokenCount": inp + cr, "candidatesTokenCount": out, "thoughtsTokenCount": 0,
                    "cachedContentTokenCount": cr, "totalTokenCount": inp + cr + out}  # fmt: skip
            u = g.uuid()
            lines.append({"uuid": u, "parentUuid": parent, "sessionId": sid, "timestamp": iso(t), "type": "assistant",
                          "cwd": cwd, "version": "0.24.4", "model": "qwen3-coder-plus",
                          "message": {"role": "model", "parts": [{"text": g.bulk()}]}, "usageMetadata": meta})  # fmt: skip
            parent, t = u, g.step(t)
            for k, v in (("requests", 1), ("inputTokens", inp + cr), ("outputTokens", out), ("cachedTokens", cr)):
                sums[k] += v
        written += _write(root / "projects" / cwd.replace("/", "-") / "chats" / f"{sid}.jsonl", _jsonl(lines), t)
        # the session's totals, as the chat log counted them (nothing to top up)
        records.append({"version": 1, "sessionId": sid, "timestamp": ms(t), "startTime": iso(g.start(s)),
                        "project": cwd, "models": {"qwen3-coder-plus": dict(sums, totalTokens=0)}})  # fmt: skip
        s += 1
    _write(root / "usage_record.jsonl", _jsonl(records))


def _pi_lines(g: Gen, t: dt.datetime, sid: str, cwd: str, provider: str, model: str) -> tuple[list[dict], dt.datetime]:
    lines: list[dict] = [{"type": "session", "version": 3, "id": sid, "timestamp": iso(t), "cwd": cwd}]
    lines.append(
        {"type": "model_change", "id": g.uuid()[:8], "timestamp": iso(t), "provider": provider, "modelId": model}
    )
    for _ in range(g.turns()):
        lines.append({"type": "message", "id": g.uuid()[:8], "timestamp": iso(t),
                      "message": {"role": "user", "content": [{"type": "text", "text": g.text(300)}], "timestamp": ms(t)}})  # fmt: skip
        t = g.step(t)
        inp, out, cr, cw = g.tokens()
        cost = {"input": inp * 3e-6, "output": out * 15e-6, "cacheRead": cr * 3e-7, "cacheWrite": cw * 3.75e-6}
        cost["total"] = sum(cost.values())
        usage = {"input": inp, "output": out, "cacheRead": cr, "cacheWrite": cw, "totalTokens": inp + out + cr + cw,
                 "cost": cost}  # fmt: skip
        lines.append({"type": "message", "id": g.uuid()[:8], "timestamp": iso(t),
                      "message": {"role": "assistant", "content": [{"type": "text", "text": g.bulk()}],
                                  "api": "anthropic-messages", "provider": provider, "model": model, "usage": usage,
                                  "stopReason": "stop", "timestamp": ms(t)}})  # fmt: skip
        t = g.step(t)
    return lines, t


def pi_bulk(root: Path, target: int, seed: int = 27) -> None:
    g, written, s = Gen(seed), 0, 0
    while written < target:
        cwd = f"/home/dev/src/{PROJECTS[s % len(PROJECTS)]}"
        t, sid = g.start(s), g.uuid()
        name = f"{t:%Y-%m-%dT%H-%M-%S}-{t.microsecond // 1000:03d}Z_{sid}.jsonl"
        lines, end = _pi_lines(g, t, sid, cwd, "anthropic", "claude-sonnet-4-5")
        written += _write(root / "sessions" / f"--{cwd.strip('/').replace('/', '-')}--" / name, _jsonl(lines), end)
        s += 1


def openclaw_bulk(root: Path, target: int, seed: int = 28) -> None:
    g, written, s = Gen(seed), 0, 0
    agents = ["main", "work", "research"]
    while written < target:
        t, sid = g.start(s), g.uuid()
        lines, end = _pi_lines(g, t, sid, f"/home/dev/.openclaw/workspace-{agents[s % 3]}", "openai-codex", "gpt-5.2")
        for ln in lines:  # OpenClaw's messages name no model: the model_change line sets it
            if ln["type"] == "message":
                ln["message"].pop("model", None)
        name = f"{sid}.jsonl" if s % 5 else f"{sid}.jsonl.reset.{end:%Y-%m-%dT%H-%M-%S}.000Z"
        written += _write(root / "agents" / agents[s % 3] / "sessions" / name, _jsonl(lines), end)
        s += 1


def _copilot_usage_record(g: Gen, sid: str, seq: int, model: str, byok: bool, tokens: tuple) -> dict:
    """A `session.usage_record` as Copilot CLI 1.0.102 writes one per request (`isByok`: made with
    the user's own key; its other fields are read by nobody, but make the line its real size)."""
    inp, out, cr, cw = tokens
    call = "msg_" + g.uuid().replace("-", "")[:24]
    usage = {"model": model, "modelDisplayName": model, "inputTokens": inp + cr + cw, "outputTokens": out,
             "cacheReadTokens": cr, "cacheWriteTokens": cw, "cost": 0 if byok else 1,
             "duration": g.rng.randint(800, 40_000), "timeToFirstTokenMs": g.rng.random() * 3000,
             "initiator": "user", "interactionType": "conversation-agent", "isByok": byok}  # fmt: skip
    if byok:
        usage |= {"byokKind": "local_user", "modelProvider": "anthropic" if "claude" in model else "openai"}
    usage |= {"isAuto": False, "maxPromptTokens": 168000, "maxOutputTokens": 32000, "transport": "http",
              "requestBodyBytes": g.rng.randint(20_000, 400_000), "apiCallId": call,
              "providerCallId": "req_" + g.uuid().replace("-", "")[:24], "rte": False,
              "apiEndpoint": "/v1/messages" if "claude" in model else "/responses",
              "accounting": {"sourceSessionId": sid, "sequence": seq, "usageId": call},
              "aiCreditsStatus": "unavailable" if byok else "complete", "availableToolCount": 17,
              "toolTokenCount": 6335, "frontierSource": "reported_writes", "cacheDetailsReported": True,
              "numToolCalls": 1, "toolCounts": {"view": 1}, "finishReason": "tool_calls"}  # fmt: skip
    return {"usage": usage}


def copilot_cli_bulk(root: Path, target: int, seed: int = 29) -> None:
    g, written, s = Gen(seed), 0, 0
    while written < target:
        t, sid = g.start(s), g.uuid()
        lines: list[dict] = [{"type": "session.start", "id": g.uuid(), "timestamp": iso(t), "parentId": None,
                              "data": {"sessionId": sid, "copilotVersion": "1.0.102",
                                       "context": {"cwd": f"/home/dev/src/{PROJECTS[s % 6]}"}}}]  # fmt: skip
        model = ["claude-sonnet-4.5", "gpt-5", "claude-opus-4.5"][s % 3]
        byok = s % 4 == 1  # a quarter of the sessions with the user's own key
        total = {"inputTokens": 0, "outputTokens": 0, "cacheReadTokens": 0, "cacheWriteTokens": 0}
        requests = 0
        for turn in range(g.turns()):
            lines.append(
                {"type": "user.message", "id": g.uuid(), "timestamp": iso(t), "data": {"content": g.text(300)}}
            )
            t = g.step(t)
            inp, out, cr, cw = g.tokens()
            for k, v in (("inputTokens", inp + cr + cw), ("outputTokens", out), ("cacheReadTokens", cr),
                         ("cacheWriteTokens", cw)):  # fmt: skip
                total[k] += v
            requests += 1
            lines.append({"type": "assistant.message", "id": g.uuid(), "timestamp": iso(t),
                          "data": {"content": g.bulk(), "toolRequests": []}})  # fmt: skip
            lines.append({"type": "session.usage_record", "id": g.uuid(), "timestamp": iso(t),
                          "data": _copilot_usage_record(g, sid, requests, model, byok, (inp, out, cr, cw))})  # fmt: skip
            t = g.step(t)
            if turn % 15 == 14:  # the session ends, and is resumed: its figures so far (running totals)
                metrics = {
                    model: {"requests": {"count": requests, "cost": requests}, "usage": dict(total, reasoningTokens=0)}
                }
                lines.append(
                    {"type": "session.shutdown", "id": g.uuid(), "timestamp": iso(t), "data": {"modelMetrics": metrics}}
                )
                t = g.step(t)
                lines.append({"type": "session.resume", "id": g.uuid(), "timestamp": iso(t), "data": {}})
        metrics = {model: {"requests": {"count": requests, "cost": requests}, "usage": dict(total, reasoningTokens=0)}}
        lines.append(
            {"type": "session.shutdown", "id": g.uuid(), "timestamp": iso(t), "data": {"modelMetrics": metrics}}
        )
        written += _write(root / "session-state" / sid / "events.jsonl", _jsonl(lines), t)
        s += 1


def cline_bulk(root: Path, target: int, seed: int = 30) -> None:
    g, written, s = Gen(seed), 0, 0
    exts = ["saoudrizwan.claude-dev", "rooveterinaryinc.roo-cline", "kilocode.kilo-code"]
    while written < target:
        t = g.start(s)
        task = str(ms(t))
        cwd = f"/home/dev/src/{PROJECTS[s % 6]}"
        ui: list[dict] = [{"ts": ms(t), "type": "say", "say": "task", "text": g.text(400)}]
        for _ in range(g.turns()):
            t = g.step(t)
            inp, out, cr, cw = g.tokens()
            req = {"request": f"<task>\n{g.text(200)}\n</task>\n\n# Current Working Directory ({cwd}) Files\n{g.text(300)}",
                   "tokensIn": inp, "tokensOut": out, "cacheWrites": cw, "cacheReads": cr,
                   "cost": round(inp * 3e-6 + out * 15e-6 + cw * 3.75e-6 + cr * 3e-7, 6),
                   "providerId": "anthropic", "modelId": CLAUDE[0]}  # fmt: skip
            ui.append({"ts": ms(t), "type": "say", "say": "api_req_started", "text": orjson.dumps(req).decode()})
            t = g.step(t)
            ui.append({"ts": ms(t), "type": "say", "say": "text", "text": g.bulk(), "partial": False})
        folder = root / "User" / "globalStorage" / exts[s % 3] / "tasks" / task
        written += _write(folder / "ui_messages.json", _j(ui), t)
        s += 1


def continue_bulk(root: Path, target: int, seed: int = 31) -> None:
    """Continue's dev_data folder: the token log, and the chat log beside it that holds most of
    the bytes (not usage)."""
    g, written, s = Gen(seed), 0, 0
    tokens, chats = [], []
    models = [("claude-sonnet-4-5-20250929", "anthropic"), ("gpt-5", "openai"), ("qwen2.5-coder:7b", "ollama")]
    while written < target:
        t = g.start(s)
        for _ in range(g.turns()):
            t = g.step(t)
            model, provider = models[g.rng.randrange(3)]
            inp, out, _cr, _cw = g.tokens()
            line = _j({"model": model, "provider": provider, "promptTokens": inp, "generatedTokens": out,
                       "createdAt": iso(t)}) + b"\n"  # fmt: skip
            chat = _j({"eventName": "chatInteraction", "timestamp": iso(t), "prompt": g.text(300),
                       "completion": g.bulk(), "modelTitle": model}) + b"\n"  # fmt: skip
            tokens.append(line)
            chats.append(chat)
            written += len(line) + len(chat)
        s += 1
    _write(root / "dev_data" / "0.2.0" / "tokensGenerated.jsonl", b"".join(tokens))
    _write(root / "dev_data" / "0.2.0" / "chatInteraction.jsonl", b"".join(chats))


def aider_bulk(root: Path, target: int, seed: int = 32) -> None:
    """One `.aider.chat.history.md` per repository, sessions appended."""
    g, written, s = Gen(seed), 0, 0
    texts: dict[str, list[str]] = {p: [] for p in PROJECTS}
    while written < target:
        project = PROJECTS[s % len(PROJECTS)]
        t = g.start(s)
        parts = [f"\n# aider chat started at {t:%Y-%m-%d %H:%M:%S}\n\n> /home/dev/.local/bin/aider --model sonnet\n"
                 "> Aider v0.86.1\n> Main model: anthropic/claude-sonnet-4-5-20250929 with diff edit format, infinite output\n"
                 "> Weak model: anthropic/claude-haiku-4-5-20251001\n> Git repo: .git with 412 files\n\n"]  # fmt: skip
        session = 0.0
        for _ in range(g.turns()):
            inp, out, cr, cw = g.tokens()
            cost = round(inp * 3e-6 + out * 15e-6 + cw * 3.75e-6 + cr * 3e-7, 2)
            session += cost
            sent = inp + cr + cw
            parts.append(f"#### {g.text(200)}\n\n{g.bulk()}\n\n> Tokens: {sent:,} sent, {cw:,} cache write, "
                         f"{cr:,} cache hit, {out:,} received. Cost: ${cost:.2f} message, ${session:.2f} session.\n\n")  # fmt: skip
        text = "".join(parts)
        texts[project].append(text)
        written += len(text.encode())
        s += 1
    for project, chunks in texts.items():
        if chunks:
            _write(root / project / ".aider.chat.history.md", "".join(chunks).encode())


# -- SQLite stores --------------------------------------------------------------------------------


def _db(path: Path, schema: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.executescript(schema)
    return con


def opencode_db_bulk(root: Path, target: int, seed: int = 33, name: str = "opencode") -> None:
    """`<root>/<name>/<name>.db`: opencode's (and Kilo CLI's) store, messages and their parts."""
    g, s = Gen(seed), 0
    path = root / name / f"{name}.db"
    con = _db(path, "CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT, parent_id TEXT, directory TEXT, "
                    "title TEXT, time_created INTEGER, time_updated INTEGER);"
                    "CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, time_created INTEGER, "
                    "time_updated INTEGER, data TEXT NOT NULL);"
                    "CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, session_id TEXT NOT NULL, "
                    "time_created INTEGER, time_updated INTEGER, data TEXT NOT NULL);")  # fmt: skip
    written = 0
    while written < target:
        rows_m, rows_p = [], []
        for _ in range(20):
            cwd = f"/home/dev/src/{PROJECTS[s % 6]}"
            t, sid = g.start(s), f"ses_{g.uuid().replace('-', '')[:26]}"
            con.execute("INSERT INTO session VALUES (?,?,?,?,?,?,?)", (sid, "p", None, cwd, g.text(30), ms(t), ms(t)))
            for i in range(g.turns()):
                mid = f"msg_{sid[4:16]}{i:04d}u"
                rows_m.append((mid, sid, ms(t), ms(t), _j({"role": "user", "time": {"created": ms(t)}}).decode()))
                rows_p.append(
                    (f"prt_{mid[4:]}", mid, sid, ms(t), ms(t), _j({"type": "text", "text": g.text(300)}).decode())
                )
                t0, t = t, g.step(t)
                inp, out, cr, cw = g.tokens()
                doc = {"role": "assistant", "time": {"created": ms(t0), "completed": ms(t)}, "modelID": "claude-sonnet-4-5",
                       "providerID": "anthropic", "mode": "build", "path": {"cwd": cwd, "root": cwd},
                       "cost": round(inp * 3e-6 + out * 15e-6 + cw * 3.75e-6 + cr * 3e-7, 6),
                       "tokens": {"input": inp, "output": out, "reasoning": 0, "cache": {"read": cr, "write": cw}},
                       "finish": "tool-calls"}  # fmt: skip
                mid = f"msg_{sid[4:16]}{i:04d}a"
                rows_m.append((mid, sid, ms(t0), ms(t), _j(doc).decode()))
                part = {"type": "tool", "tool": "read", "state": {"status": "completed", "input": {"filePath": cwd},
                                                                  "output": g.bulk()}}  # fmt: skip
                rows_p.append((f"prt_{mid[4:]}", mid, sid, ms(t), ms(t), _j(part).decode()))
                t = g.step(t)
            s += 1
        con.executemany("INSERT INTO message VALUES (?,?,?,?,?)", rows_m)
        con.executemany("INSERT INTO part VALUES (?,?,?,?,?,?)", rows_p)
        con.commit()
        written = path.stat().st_size
    con.close()


def kilo_bulk(root: Path, target: int, seed: int = 34) -> None:
    opencode_db_bulk(root, target, seed, name="kilo")


def opencode_json_bulk(root: Path, target: int, seed: int = 35) -> None:
    """opencode's older storage: `storage/message/<session>/msg_*.json` and the parts beside."""
    g, written, s = Gen(seed), 0, 0
    storage = root / "opencode" / "storage"
    while written < target:
        cwd = f"/home/dev/src/{PROJECTS[s % 6]}"
        t, sid = g.start(s), f"ses_{g.uuid().replace('-', '')[:26]}"
        written += _write(
            storage / "session" / "p" / f"{sid}.json", _j({"id": sid, "directory": cwd, "title": g.text(30)})
        )
        for i in range(g.turns()):
            t0, t = t, g.step(t)
            inp, out, cr, cw = g.tokens()
            mid = f"msg_{sid[4:16]}{i:04d}a"
            doc = {"id": mid, "sessionID": sid, "role": "assistant", "time": {"created": ms(t0), "completed": ms(t)},
                   "modelID": "claude-sonnet-4-5", "providerID": "anthropic", "path": {"cwd": cwd, "root": cwd},
                   "cost": round(inp * 3e-6 + out * 15e-6 + cw * 3.75e-6 + cr * 3e-7, 6),
                   "tokens": {"input": inp, "output": out, "reasoning": 0, "cache": {"read": cr, "write": cw}}}  # fmt: skip
            written += _write(storage / "message" / sid / f"{mid}.json", _j(doc))
            part = {"id": f"prt_{mid[4:]}", "messageID": mid, "sessionID": sid, "type": "text", "text": g.bulk()}
            written += _write(storage / "part" / mid / f"prt_{mid[4:]}.json", _j(part))
            t = g.step(t)
        s += 1


def goose_bulk(root: Path, target: int, seed: int = 36) -> None:
    g, s = Gen(seed), 0
    path = root / "data" / "sessions" / "sessions.db"
    con = _db(path, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY); INSERT INTO schema_version VALUES (10);"
                    "CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL "
                    "DEFAULT '', session_type TEXT NOT NULL DEFAULT 'user', working_dir TEXT NOT NULL, created_at TIMESTAMP, "
                    "updated_at TIMESTAMP, extension_data TEXT DEFAULT '{}', total_tokens INTEGER, input_tokens INTEGER, "
                    "output_tokens INTEGER, accumulated_total_tokens INTEGER, accumulated_input_tokens INTEGER, "
                    "accumulated_output_tokens INTEGER, schedule_id TEXT, recipe_json TEXT, user_recipe_values_json TEXT, "
                    "provider_name TEXT, model_config_json TEXT);"
                    "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, role TEXT NOT NULL, "
                    "content_json TEXT NOT NULL, created_timestamp INTEGER NOT NULL, timestamp TIMESTAMP);")  # fmt: skip
    written = 0
    while written < target:
        for _ in range(20):
            t = g.start(s)
            start, sid = t, f"{t:%Y%m%d}_{s}"
            rows, acc_in, acc_out = [], 0, 0
            last = (0, 0)
            for _ in range(g.turns()):
                rows.append(
                    (sid, "user", _j([{"type": "text", "text": g.text(300)}]).decode(), int(t.timestamp()), sql_ts(t))
                )
                t = g.step(t)
                inp, out, cr, cw = g.tokens()
                acc_in, acc_out, last = acc_in + inp + cr + cw, acc_out + out, (inp + cr + cw, out)
                rows.append(
                    (sid, "assistant", _j([{"type": "text", "text": g.bulk()}]).decode(), int(t.timestamp()), sql_ts(t))
                )
                t = g.step(t)
            con.executemany("INSERT INTO messages (session_id, role, content_json, created_timestamp, timestamp) "
                            "VALUES (?,?,?,?,?)", rows)  # fmt: skip
            con.execute("INSERT INTO sessions (id, name, working_dir, created_at, updated_at, total_tokens, input_tokens, "
                        "output_tokens, accumulated_total_tokens, accumulated_input_tokens, accumulated_output_tokens, "
                        "provider_name, model_config_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (sid, g.text(30), f"/home/dev/src/{PROJECTS[s % 6]}", sql_ts(start), sql_ts(t), sum(last), *last,
                         acc_in + acc_out, acc_in, acc_out, "anthropic",
                         _j({"model_name": CLAUDE[0], "context_limit": 200000}).decode()))  # fmt: skip
            s += 1
        con.commit()
        written = path.stat().st_size
    con.close()


def hermes_bulk(root: Path, target: int, seed: int = 37) -> None:
    g, s = Gen(seed), 0
    path = root / "state.db"
    con = _db(path, "CREATE TABLE sessions (id TEXT PRIMARY KEY, source TEXT NOT NULL, user_id TEXT, model TEXT, "
                    "model_config TEXT, system_prompt TEXT, parent_session_id TEXT, started_at REAL NOT NULL, ended_at REAL, "
                    "end_reason TEXT, message_count INTEGER DEFAULT 0, tool_call_count INTEGER DEFAULT 0, input_tokens "
                    "INTEGER DEFAULT 0, output_tokens INTEGER DEFAULT 0, cache_read_tokens INTEGER DEFAULT 0, "
                    "cache_write_tokens INTEGER DEFAULT 0, reasoning_tokens INTEGER DEFAULT 0, billing_provider TEXT, "
                    "billing_base_url TEXT, billing_mode TEXT, estimated_cost_usd REAL, actual_cost_usd REAL, "
                    "cost_status TEXT, cost_source TEXT, pricing_version TEXT, title TEXT, api_call_count INTEGER DEFAULT 0);"
                    "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, role TEXT NOT "
                    "NULL, content TEXT, tool_call_id TEXT, tool_calls TEXT, tool_name TEXT, timestamp REAL NOT NULL, "
                    "token_count INTEGER, finish_reason TEXT);")  # fmt: skip
    written = 0
    while written < target:
        for _ in range(20):
            t = g.start(s)
            start, sid = t, f"{t:%Y%m%d_%H%M%S}_{s:04x}"
            rows, tot, calls = [], [0, 0, 0, 0], 0
            for _ in range(g.turns()):
                rows.append((sid, "user", g.text(300), t.timestamp()))
                t = g.step(t)
                tot = [a + b for a, b in zip(tot, g.tokens(), strict=True)]
                calls += 1
                rows.append((sid, "assistant", g.bulk(), t.timestamp()))
                t = g.step(t)
            con.executemany("INSERT INTO messages (session_id, role, content, timestamp) VALUES (?,?,?,?)", rows)
            cost = tot[0] * 3e-6 + tot[1] * 15e-6 + tot[2] * 3e-7 + tot[3] * 3.75e-6
            con.execute("INSERT INTO sessions (id, source, model, started_at, ended_at, message_count, input_tokens, "
                        "output_tokens, cache_read_tokens, cache_write_tokens, billing_provider, estimated_cost_usd, "
                        "api_call_count, system_prompt) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (sid, "cli", CLAUDE[0], start.timestamp(), t.timestamp(), len(rows), *tot, "anthropic",
                         round(cost, 6), calls, g.text(2000)))  # fmt: skip
            s += 1
        con.commit()
        written = path.stat().st_size
    con.close()


# -- vendor exports and usage-ls's own export -----------------------------------------------------


def cursor_bulk(root: Path, target: int, seed: int = 38) -> None:
    """A team's usage-events export (Cursor's dashboard, Usage -> Export)."""
    g = Gen(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Date", "User", "Kind", "Model", "Max Mode", "Input (w/ Cache Write)", "Input (w/o Cache Write)",
                "Cache Read", "Output Tokens", "Total Tokens", "Cost"])  # fmt: skip
    models = ["claude-4.5-sonnet", "claude-4.5-sonnet-thinking", "gpt-5", "auto", "claude-4.1-opus"]
    users = [f"dev{i}@example.com" for i in range(12)]
    t = BASE
    while out.tell() < target:
        t = t + dt.timedelta(seconds=g.rng.randint(1, 120))
        inp, out_t, cr, cw = g.tokens()
        kind = g.rng.choice(["Included", "Included", "On-Demand", "Errored, No Charge"])
        cost = "Included" if kind == "Included" else f"${(inp * 3e-6 + out_t * 15e-6 + cr * 3e-7):.2f}"
        w.writerow([iso(t), g.rng.choice(users), kind, g.rng.choice(models), "No", inp + cw, inp, cr, out_t,
                    inp + cw + cr + out_t, cost])  # fmt: skip
    _write(root / "usage-events.csv", out.getvalue().encode())


def copilot_report_bulk(root: Path, target: int, seed: int = 39) -> None:
    """An enterprise's premium-request usage report (per day, user and model)."""
    g = Gen(seed)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["date", "product", "sku", "model", "quantity", "unit_type", "applied_cost_per_quantity", "gross_amount",
                "discount_amount", "net_amount", "exceeds_quota", "total_monthly_quota", "username", "organization",
                "repository", "cost_center_name"])  # fmt: skip
    models = ["Claude Sonnet 4.5", "GPT-5", "Claude Opus 4.5", "Gemini 2.5 Pro", "GPT-4.1"]
    day = 0
    while out.tell() < target:
        date = (BASE + dt.timedelta(days=day)).strftime("%Y-%m-%d")
        for u in range(400):
            for model in models:
                if g.rng.random() < 0.5:
                    continue
                q = g.rng.randint(1, 60)
                gross = round(q * 0.04, 2)
                w.writerow([date, "copilot", "copilot_premium_request", model, q, "requests", "0.04", gross, gross, "0",
                            "False", 300, f"user{u:04d}", "acme", f"acme/{PROJECTS[u % 6]}", "eng"])  # fmt: skip
        day += 1
    _write(root / "premium-requests.csv", out.getvalue().encode())


def export_bulk(root: Path, target: int, seed: int = 40) -> None:
    """Another machine's `usage-ls export` (JSON lines)."""
    g, written = Gen(seed), 0
    lines = []
    t = BASE
    n = 0
    while written < target:
        t = t + dt.timedelta(seconds=g.rng.randint(5, 200))
        inp, out, cr, cw = g.tokens()
        cost = round(inp * 3e-6 + out * 15e-6 + cr * 3e-7 + cw * 3.75e-6, 6)
        rec = {"id": f"claude-code:{g.uuid()}", "timestamp": iso(t), "model": CLAUDE[n % 3], "provider": "anthropic",
               "billing": "byok", "project": PROJECTS[n % 6], "user": "dev@laptop", "feature": "claude-code",
               "session": f"s{n // 40}", "inputTokens": inp, "outputTokens": out, "cacheReadTokens": cr,
               "cacheWriteTokens": cw, "costUsd": cost, "credits": None, "costSource": "computed"}  # fmt: skip
        line = _j(rec) + b"\n"
        lines.append(line)
        written += len(line)
        n += 1
    _write(root / "usage-ls-export.jsonl", b"".join(lines))


# -- what the bench and tests need to know ----------------------------------------------------------


@dataclass(frozen=True)
class Bulk:
    tool: str  # `usage-ls import <tool>`
    make: Callable[[Path, int, int], None] | Callable[[Path, int], None]
    env: Callable[[Path], dict[str, Path]] = lambda root: {}
    paths: Callable[[Path], list[Path]] = lambda root: []  # named on the command line
    ccusage: str | None = None  # ccusage's command for the tool, where it reads it
    extra: dict = field(default_factory=dict)


BULK: dict[str, Bulk] = {
    "gemini": Bulk("gemini", gemini_bulk, lambda r: {"GEMINI_DATA_DIR": r / "tmp"}, ccusage="gemini"),
    "aider": Bulk("aider", aider_bulk, paths=lambda r: [r]),
    "cline": Bulk("cline", cline_bulk, lambda r: {"USAGE_LS_VSCODE_USER_DIRS": r / "User"}),
    "opencode-db": Bulk("opencode", opencode_db_bulk, lambda r: {"XDG_DATA_HOME": r}, ccusage="opencode"),
    "opencode-json": Bulk("opencode", opencode_json_bulk, lambda r: {"XDG_DATA_HOME": r}, ccusage="opencode"),
    "continue": Bulk("continue", continue_bulk, lambda r: {"CONTINUE_GLOBAL_DIR": r}),
    "amp": Bulk("amp", amp_bulk, lambda r: {"AMP_DATA_DIR": r}, ccusage="amp"),
    "droid": Bulk("droid", droid_bulk, lambda r: {"DROID_SESSIONS_DIR": r / "sessions"}, ccusage="droid"),
    "codebuff": Bulk("codebuff", codebuff_bulk, lambda r: {"CODEBUFF_DATA_DIR": r / "manicode"}, ccusage="codebuff"),
    "goose": Bulk("goose", goose_bulk, lambda r: {"GOOSE_PATH_ROOT": r}, ccusage="goose"),
    "kimi": Bulk("kimi", kimi_bulk, lambda r: {"KIMI_SHARE_DIR": r, "KIMI_DATA_DIR": r}, ccusage="kimi"),
    "qwen": Bulk("qwen", qwen_bulk, lambda r: {"QWEN_DATA_DIR": r}, ccusage="qwen"),
    "copilot-cli": Bulk("copilot-cli", copilot_cli_bulk, lambda r: {"COPILOT_HOME": r}, ccusage="copilot"),
    "openclaw": Bulk("openclaw", openclaw_bulk, lambda r: {"OPENCLAW_DIR": r}, ccusage="openclaw"),
    "hermes": Bulk("hermes", hermes_bulk, lambda r: {"HERMES_HOME": r}, ccusage="hermes"),
    "pi": Bulk("pi", pi_bulk, lambda r: {"PI_AGENT_DIR": r / "sessions"}, ccusage="pi"),
    "kilo": Bulk("kilo", kilo_bulk, lambda r: {"KILO_DATA_DIR": r / "kilo"}, ccusage="kilo"),
    "cursor": Bulk("cursor", cursor_bulk, lambda r: {"USAGE_LS_CURSOR_CSV": r}),
    "copilot-report": Bulk("copilot-report", copilot_report_bulk, lambda r: {"USAGE_LS_COPILOT_REPORT": r}),
    "usage-ls": Bulk("usage-ls", export_bulk, paths=lambda r: [r / "usage-ls-export.jsonl"]),
}
