"""Realistic Claude Code and Codex logs, generated (deterministic for a seed).

Shaped like what the tools write (see ../shared/IMPORT_FORMATS.md): many sessions over several
days and projects, timestamps near midnight (so the day depends on the zone), user turns and
big tool results, responses split over several lines with the same message id and request id
(earlier lines with partial output counts), sub-agent sidechain files that replay parent
messages under new request ids, resumed sessions that copy earlier lines, `<synthetic>` error
lines, summaries and snapshots; Codex rollouts with `info: null` events, re-emitted totals,
totals-only events, model switches, a forked session that copies its parent's history and a
sub-agent session that replays the parent's counts in the second it was spawned.

Used by the tests (against ccusage) and by bench/import_bench.py (`claude_bulk`, ~1 GB;
`codex_bulk`).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path

import orjson

CLAUDE_MODELS = [
    ("claude-sonnet-4-5-20250929", 0.45),
    ("claude-opus-4-1-20250805", 0.15),
    ("claude-haiku-4-5-20251001", 0.15),
    ("claude-sonnet-4-20250514", 0.15),
    ("claude-3-5-haiku-20241022", 0.10),
]
CODEX_MODELS = ["gpt-5-codex", "gpt-5", "gpt-5.1-codex", "gpt-5-mini"]
PROJECTS = ["widget", "billing-api", "infra", "docs-site", "ml-pipeline", "mobile-app"]
WORDS = [
    "the",
    "parser",
    "fails",
    "when",
    "the",
    "input",
    "has",
    "trailing",
    "whitespace",
    "so",
    "we",
    "strip",
    "it",
    "before",
    "tokenizing",
    "and",
    "add",
    "a",
    "regression",
    "test",
    "covering",
    "empty",
    "lines",
    "unicode",
    "escapes",
    "and",
    "very",
    "long",
    "identifiers",
    "then",
    "run",
    "the",
    "suite",
]


def _dumps(obj) -> bytes:
    return orjson.dumps(obj)


def _ts(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _pick_model(rng: random.Random) -> str:
    r, acc = rng.random(), 0.0
    for name, weight in CLAUDE_MODELS:
        acc += weight
        if r < acc:
            return name
    return CLAUDE_MODELS[0][0]


class _Claude:
    def __init__(self, rng: random.Random, big: int = 0):
        self.rng = rng
        self.big = big  # extra bytes of tool output per user line (bulk data)
        self.n = 0

    def ids(self):
        self.n += 1
        r = self.rng
        return f"msg_01{r.getrandbits(64):016x}{self.n:06d}", f"req_011C{r.getrandbits(64):016x}{self.n:06d}"

    def user(self, t, cwd, session, parent, side=False, tool_output=0):
        content = _text(self.rng, 12)
        line = {
            "parentUuid": parent,
            "isSidechain": side,
            "userType": "external",
            "cwd": cwd,
            "sessionId": session,
            "version": "2.0.14",
            "gitBranch": "main",
            "type": "user",
            "message": {"role": "user", "content": content},
            "uuid": str(uuid.UUID(int=self.rng.getrandbits(128))),
            "timestamp": _ts(t),
        }
        if tool_output:
            body = ("x" * 60 + "\n") * (tool_output // 61 + 1)
            line["message"]["content"] = [
                {"tool_use_id": "toolu_01" + "a" * 20, "type": "tool_result", "content": body}
            ]
            line["toolUseResult"] = {"type": "text", "file": {"filePath": cwd + "/src/main.py", "numLines": 40}}
        return line

    def response(self, t, cwd, session, parent, model, side=False, mid=None, rid=None, usage=None, blocks=None):
        """The lines of one API response (one per content block)."""
        rng = self.rng
        if mid is None:
            mid, rid2 = self.ids()
            rid = rid or rid2
        if usage is None:
            cache_read = rng.choice([0, rng.randint(5_000, 150_000)])
            write = rng.choice([0, 0, rng.randint(100, 20_000)])
            one_h = write if (write and rng.random() < 0.2) else 0
            usage = {
                "input_tokens": rng.randint(1, 400),
                "cache_creation_input_tokens": write,
                "cache_read_input_tokens": cache_read,
                "cache_creation": {"ephemeral_5m_input_tokens": write - one_h, "ephemeral_1h_input_tokens": one_h},
                "output_tokens": rng.randint(20, 3_000),
                "service_tier": "standard",
            }
        blocks = blocks or rng.choice([1, 1, 2, 2, 3])
        lines = []
        for b in range(blocks):
            u = dict(usage)
            if b < blocks - 1 and rng.random() < 0.5:
                u["output_tokens"] = rng.randint(1, max(1, usage["output_tokens"] // 3))  # streamed partial
            block = (
                {"type": "text", "text": _text(rng, 30)}
                if b == 0
                else {
                    "type": "tool_use",
                    "id": f"toolu_01{rng.getrandbits(48):012x}",
                    "name": "Read",
                    "input": {"file_path": cwd + "/a.py"},
                }
            )
            lines.append(
                {
                    "parentUuid": parent,
                    "isSidechain": side,
                    "userType": "external",
                    "cwd": cwd,
                    "sessionId": session,
                    "version": "2.0.14",
                    "gitBranch": "main",
                    "message": {
                        "id": mid,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [block],
                        # a line written while the response streamed has none yet (the API
                        # sends it with the final counts)
                        "stop_reason": None if b < blocks - 1 else ("tool_use" if b else "end_turn"),
                        "stop_sequence": None,
                        "usage": u,
                    },
                    "requestId": rid,
                    "type": "assistant",
                    "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                    "timestamp": _ts(t + dt.timedelta(milliseconds=40 * b)),
                }
            )
        return lines, mid, rid, usage


def claude_logs(
    root: Path,
    seed: int = 1,
    sessions: int = 24,
    start: str = "2026-11-15",
    days: int = 6,
    replays: bool = True,
    resumes: bool = True,
) -> Path:
    """Write a Claude Code config dir (with `projects/`) under root; return root. Without
    `replays` no sidechain line repeats a parent message, without `resumes` no session copies
    another's responses (sub-agents' own answers stay)."""
    rng = random.Random(seed)
    gen = _Claude(rng)
    base = dt.datetime.fromisoformat(start + "T00:00:00+00:00")
    history: list[list[dict]] = []
    for s in range(sessions):
        project = PROJECTS[s % len(PROJECTS)]
        cwd = f"/home/dev/src/{project}"
        enc = cwd.replace("/", "-")
        session = str(uuid.UUID(int=rng.getrandbits(128)))
        # sessions start all over the day, some minutes before midnight UTC
        day = rng.randrange(days)
        if s % 4 == 0:
            t = base + dt.timedelta(days=day, hours=23, minutes=50, seconds=rng.randint(0, 500))
        else:
            t = base + dt.timedelta(days=day, hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        lines: list[dict] = [{"type": "summary", "summary": _text(rng, 4), "leafUuid": str(uuid.uuid4())}]
        if resumes and history and s % 5 == 3:  # a resumed session copies earlier responses verbatim
            copied = rng.choice(history)
            cut = min(8, len(copied))
            while cut < len(copied) and copied[cut]["message"]["id"] == copied[cut - 1]["message"]["id"]:
                cut += 1  # whole responses only: a resume copies finished history
            lines.extend(copied[:cut])
        parent = None
        model = _pick_model(rng)
        side_lines: list[dict] = []
        for turn in range(rng.randint(4, 14)):
            u = gen.user(t, cwd, session, parent, tool_output=rng.choice([0, 800, 3000]))
            lines.append(u)
            parent = u["uuid"]
            t += dt.timedelta(seconds=rng.randint(2, 90))
            if rng.random() < 0.15:
                model = _pick_model(rng)
            resp, mid, rid, usage = gen.response(t, cwd, session, parent, model)
            lines.extend(resp)
            parent = resp[-1]["uuid"]
            if rng.random() < 0.25:  # a sidechain replays this message under a new request id
                replay_usage = dict(usage, output_tokens=usage["output_tokens"] + rng.randint(0, 5))
                r_lines, *_ = gen.response(
                    t + dt.timedelta(seconds=1),
                    cwd,
                    session,
                    None,
                    model,
                    side=True,
                    mid=mid,
                    rid=gen.ids()[1],
                    usage=replay_usage,
                    blocks=1,
                )
                if replays:
                    side_lines.extend(r_lines)
            if rng.random() < 0.2:  # the sub-agent's own answer
                a_lines, *_ = gen.response(
                    t + dt.timedelta(seconds=2), cwd, session, None, "claude-haiku-4-5-20251001", side=True
                )
                side_lines.extend(a_lines)
            if rng.random() < 0.05:
                lines.append(
                    {
                        "parentUuid": parent,
                        "isSidechain": False,
                        "cwd": cwd,
                        "sessionId": session,
                        "version": "2.0.14",
                        "type": "assistant",
                        "uuid": str(uuid.uuid4()),
                        "timestamp": _ts(t),
                        "isApiErrorMessage": True,
                        "message": {
                            "id": str(uuid.uuid4()),
                            "type": "message",
                            "role": "assistant",
                            "model": "<synthetic>",
                            "content": [{"type": "text", "text": "API Error"}],
                            "usage": {
                                "input_tokens": 0,
                                "output_tokens": 0,
                                "cache_creation_input_tokens": 0,
                                "cache_read_input_tokens": 0,
                            },
                        },
                    }
                )
            if rng.random() < 0.1:
                lines.append(
                    {
                        "type": "file-history-snapshot",
                        "messageId": parent,
                        "snapshot": {"trackedFileBackups": {}},
                        "isSnapshotUpdate": False,
                    }
                )
            t += dt.timedelta(seconds=rng.randint(5, 400))
        history.append([ln for ln in lines if ln.get("type") == "assistant"])
        folder = root / "projects" / enc
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{session}.jsonl").write_bytes(b"".join(_dumps(ln) + b"\n" for ln in lines))
        if side_lines:
            sub = folder / session / "subagents"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"agent-{rng.getrandbits(32):08x}.jsonl").write_bytes(
                b"".join(_dumps(ln) + b"\n" for ln in side_lines)
            )
    return root


def claude_bulk(root: Path, target_bytes: int, seed: int = 7, session_bytes: int = 4_000_000) -> int:
    """About `target_bytes` of Claude Code logs (for the benchmark); returns bytes written."""
    rng = random.Random(seed)
    gen = _Claude(rng)
    written = 0
    base = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    s = 0
    while written < target_bytes:
        project = PROJECTS[s % len(PROJECTS)] + f"-{s % 40}"
        cwd = f"/home/dev/src/{project}"
        session = str(uuid.UUID(int=rng.getrandbits(128)))
        t = base + dt.timedelta(days=s % 60, hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        chunks = []
        size = 0
        parent = None
        model = _pick_model(rng)
        while size < session_bytes:
            u = gen.user(t, cwd, session, parent, tool_output=rng.choice([200, 1500, 4000, 9000]))
            b = _dumps(u) + b"\n"
            chunks.append(b)
            size += len(b)
            parent = u["uuid"]
            t += dt.timedelta(seconds=rng.randint(2, 60))
            resp, *_ = gen.response(t, cwd, session, parent, model)
            for ln in resp:
                b = _dumps(ln) + b"\n"
                chunks.append(b)
                size += len(b)
            parent = resp[-1]["uuid"]
            t += dt.timedelta(seconds=rng.randint(2, 120))
        folder = root / "projects" / cwd.replace("/", "-")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{session}.jsonl").write_bytes(b"".join(chunks))
        written += size
        s += 1
    return written


# -- Codex ----------------------------------------------------------------------------------------


def _usage(i, c, o, r):
    return {
        "input_tokens": i,
        "cached_input_tokens": c,
        "output_tokens": o,
        "reasoning_output_tokens": r,
        "total_tokens": i + o,
    }


def _add(a, b):
    return {k: a[k] + b[k] for k in a}


def codex_logs(
    root: Path,
    seed: int = 2,
    sessions: int = 16,
    start: str = "2026-11-15",
    days: int = 6,
    tool_output: int = 0,
    until_bytes: int = 0,
) -> Path:
    """Write a CODEX_HOME under root (sessions/YYYY/MM/DD/rollout-*.jsonl); return root.
    `tool_output`: words of a shell command's output after each call (as real rollouts hold);
    `until_bytes`: write sessions until the files hold that many bytes (`sessions` ignored)."""
    rng = random.Random(seed)
    base = dt.datetime.fromisoformat(start + "T00:00:00+00:00")
    parents: list[list[dict]] = []
    written = 0
    s = -1
    while (written < until_bytes) if until_bytes else (s + 1 < sessions):
        s += 1
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        project = PROJECTS[(s + 2) % len(PROJECTS)]
        day = rng.randrange(days)
        if s % 3 == 0:
            t = base + dt.timedelta(days=day, hours=23, minutes=45, seconds=rng.randint(0, 600))
        else:
            t = base + dt.timedelta(days=day, hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        lines: list[dict] = []
        meta = {
            "id": sid,
            "timestamp": _ts(t),
            "cwd": f"/home/dev/src/{project}",
            "originator": "codex_cli_rs",
            "cli_version": "0.58.0",
            "source": "cli",
            "model_provider": "openai",
            "git": {"commit_hash": "4e1b2c3d", "branch": "main", "repository_url": f"git@github.com:dev/{project}.git"},
        }
        subagent = s % 7 == 6 and parents
        if subagent:
            meta["source"] = {"subagent": {"thread_spawn": {"parent_thread_id": "p", "depth": 1}}}
        lines.append({"timestamp": _ts(t), "type": "session_meta", "payload": meta})
        total = _usage(0, 0, 0, 0)
        if s % 5 == 4 and parents:  # a fork: copies its parent's history verbatim, then goes on
            src = rng.choice(parents)
            lines.extend(src[1:])
            for ln in reversed(src):
                info = ln.get("payload", {}).get("info") if ln["type"] == "event_msg" else None
                if info:
                    total = dict(info["total_token_usage"])
                    break
        if subagent:  # replays the parent's counts, all stamped in the second it was spawned
            spawn = t
            for k in range(3):
                last = _usage(rng.randint(1000, 5000), 0, rng.randint(10, 200), 0)
                total = _add(total, last)
                lines.append(
                    {
                        "timestamp": _ts(spawn + dt.timedelta(milliseconds=10 * k)),
                        "type": "event_msg",
                        "payload": {
                            "type": "token_count",
                            "info": {
                                "total_token_usage": total,
                                "last_token_usage": last,
                                "model_context_window": 272000,
                            },
                        },
                    }
                )
        model = rng.choice(CODEX_MODELS)
        for turn in range(rng.randint(3, 10)):
            t += dt.timedelta(seconds=rng.randint(5, 300))
            if rng.random() < 0.2:
                model = rng.choice(CODEX_MODELS)
            lines.append(
                {
                    "timestamp": _ts(t),
                    "type": "turn_context",
                    "payload": {
                        "cwd": meta["cwd"],
                        "approval_policy": "on-request",
                        "model": model,
                        "effort": "medium",
                        "summary": "auto",
                    },
                }
            )
            lines.append(
                {
                    "timestamp": _ts(t),
                    "type": "event_msg",
                    "payload": {"type": "user_message", "message": _text(rng, 8), "images": []},
                }
            )
            lines.append(
                {
                    "timestamp": _ts(t),
                    "type": "response_item",
                    "payload": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": _text(rng, 20)}],
                    },
                }
            )
            lines.append(
                {
                    "timestamp": _ts(t + dt.timedelta(milliseconds=300)),
                    "type": "event_msg",
                    "payload": {
                        "type": "token_count",
                        "info": None,
                        "rate_limits": {"primary": {"used_percent": 10.0}},
                    },
                }
            )
            for step in range(rng.randint(1, 3)):
                t += dt.timedelta(seconds=rng.randint(2, 40))
                inp = rng.randint(2_000, 60_000)
                cached = rng.randint(0, inp)
                out = rng.randint(50, 4_000)
                reasoning = rng.randint(0, out)
                last = _usage(inp, cached, out, reasoning)
                total = _add(total, last)
                info = {"total_token_usage": dict(total), "last_token_usage": last, "model_context_window": 272000}
                if rng.random() < 0.15:
                    del info["last_token_usage"]  # older versions: running totals only
                lines.append(
                    {
                        "timestamp": _ts(t),
                        "type": "event_msg",
                        "payload": {"type": "token_count", "info": info, "rate_limits": None},
                    }
                )
                if rng.random() < 0.3:  # re-emitted with unchanged totals
                    lines.append(
                        {
                            "timestamp": _ts(t + dt.timedelta(milliseconds=13)),
                            "type": "event_msg",
                            "payload": {"type": "token_count", "info": info, "rate_limits": None},
                        }
                    )
                lines.append(
                    {
                        "timestamp": _ts(t),
                        "type": "response_item",
                        "payload": {
                            "type": "function_call",
                            "name": "shell",
                            "arguments": '{"command":["ls"]}',
                            "call_id": "call_1",
                        },
                    }
                )
                if tool_output:
                    lines.append(
                        {
                            "timestamp": _ts(t),
                            "type": "response_item",
                            "payload": {
                                "type": "function_call_output",
                                "call_id": "call_1",
                                "output": _text(rng, rng.randint(tool_output // 4, tool_output * 2)),
                            },
                        }
                    )
            lines.append(
                {
                    "timestamp": _ts(t),
                    "type": "event_msg",
                    "payload": {"type": "agent_message", "message": _text(rng, 10)},
                }
            )
        parents.append(lines)
        local = t  # file named by the session's start, in local time as Codex does; any is fine
        d = root / "sessions" / f"{local:%Y}" / f"{local:%m}" / f"{local:%d}"
        d.mkdir(parents=True, exist_ok=True)
        data = b"".join(_dumps(ln) + b"\n" for ln in lines)
        (d / f"rollout-{local:%Y-%m-%dT%H-%M-%S}-{sid}.jsonl").write_bytes(data)
        written += len(data)
    return root


def codex_bulk(root: Path, target_bytes: int, seed: int = 11) -> int:
    """About `target_bytes` of Codex rollouts over two months (for the benchmark); returns bytes
    written."""
    codex_logs(root, seed=seed, start="2026-09-01", days=60, tool_output=1500, until_bytes=target_bytes)
    return sum(p.stat().st_size for p in root.rglob("*.jsonl"))
