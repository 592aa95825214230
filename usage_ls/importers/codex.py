"""OpenAI Codex CLI: the rollout files it writes per session.

Format read
    `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<uuid>.jsonl` and
    `$CODEX_HOME/archived_sessions/` (default `CODEX_HOME`: `~/.codex`; when a file is in both,
    the active copy is read). Lines are `{timestamp, type, payload}`; read are `session_meta`
    (session id, cwd, git), `turn_context` (`payload.model`) and `event_msg`, of which
    `payload.type == "token_count"` carries usage: `info: {total_token_usage,
    last_token_usage}` (either may be missing; `info` may be null), each `{input_tokens,
    cached_input_tokens, cache_write_input_tokens (0.171+), output_tokens,
    reasoning_output_tokens, total_tokens}`. Every other line (`response_item`, `compacted`,
    and in 0.171 `world_state` and `token_usage_record`, which repeats a `token_count`'s
    numbers with the response id) is not usage and is skipped without a word: new types come
    with new versions. Only a line that is not JSON is unreadable.

Mapping
    `cached_input_tokens` and `cache_write_input_tokens` are parts of `input_tokens` (the API's
    `input_tokens_details.cached_tokens` and `.cache_write_tokens`), and
    `reasoning_output_tokens` is part of `output_tokens` (OpenAI's accounting), so: input =
    input - cached - cache writes, cache reads = cached, cache writes = cache writes, output =
    output (reasoning included). The model is the one named on the event, else the latest
    `turn_context` before it, else `gpt-5` (as ccusage). project = last segment of the
    session's cwd (else its git repository); session = `session_meta.payload.id`; feature =
    `codex`.

Dedupe key
    A turn's usage is `last_token_usage`, or the advance of `total_token_usage` when only the
    running total is written. Record id: a hash of (event timestamp, model, the five counts),
    the same key ccusage dedupes on, so a branch or fork that copies its parent's history
    (same timestamps, same counts) counts each turn once, across files and across runs.

Pitfalls handled (checked against ccusage 20.0.24's binary)
    - Codex re-emits `token_count` with unchanged running totals: an event whose
      `total_token_usage` equals the previous one in the file is not a new turn.
    - a total that goes down (a resumed or compacted session) never makes a negative delta.
    - sub-agent sessions (`thread_spawn` in their first 16 KiB) start by replaying the parent's
      token counts, all stamped in the second they were spawned: those are skipped (their
      totals still seed the running total).
    - `info: null` events (rate-limit updates) and all-zero usage record nothing.
    - the running total and model carry across incremental reads (kept in imports.json).
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from usage_ls.errors import describe
from usage_ls.importers.base import Tool, count, parse_ts, project_of, short_hash
from usage_ls.importers.lines import FileResult, json_objects, read_from
from usage_ls.store.limits import LimitError, Observation, epoch_ms, percent, window_name

FEATURE = "codex"
READ_TYPES = frozenset(("session_meta", "turn_context", "event_msg"))  # the lines this module reads
FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
    "cache_write_input_tokens",
)


def _usage(value) -> list[int] | None:
    """[input, cached, output, reasoning, total, cache writes] of a usage object (missing or
    null counts are 0; total defaults to input + output), or None when a count is not a
    non-negative integer."""
    if not isinstance(value, dict):
        return None
    out = []
    for k in FIELDS[:4]:
        v = value.get(k, 0)
        if v is None:
            v = 0
        v = count(v)
        if v is None:
            return None
        out.append(v)
    total = value.get("total_tokens")
    total = count(total) if total is not None else None
    out.append(total if total is not None else out[0] + out[2])
    writes = value.get("cache_write_input_tokens")
    writes = count(writes) if writes is not None else 0
    if writes is None:
        return None
    out.append(writes)
    return out


def _model_of(d) -> str | None:
    if not isinstance(d, dict):
        return None
    for value in (
        d.get("model"),
        d.get("model_name"),
        (d.get("metadata") or {}).get("model") if isinstance(d.get("metadata"), dict) else None,
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class Codex(Tool):
    name = "codex"
    feature = FEATURE
    provider = "openai"

    def home(self) -> Path:
        env = os.environ.get("CODEX_HOME")
        return Path(env).expanduser() if env and env.strip() else Path.home() / ".codex"

    def roots(self) -> list[Path]:
        home = self.home()
        return [home / "sessions", home / "archived_sessions"]

    def discover(self, paths) -> list[Path]:
        files = super().discover(paths)
        if paths:
            return files
        home = self.home().resolve() if self.home().exists() else self.home()
        active = {str(p.relative_to(home / "sessions")) for p in files if _under(p, home / "sessions")}
        return [
            p
            for p in files
            if not (_under(p, home / "archived_sessions") and str(p.relative_to(home / "archived_sessions")) in active)
        ]

    def read(self, path: Path, start: int, state: dict, result: FileResult, *, final: bool) -> None:
        st = dict(state)
        if start == 0:
            st = {"session": path.stem[-36:] if len(path.stem) >= 36 else path.stem}
            head, _ = read_from(path, 0)
            if b"thread_spawn" in head[: 16 * 1024]:
                st["replay"] = _replay_second(head)
                st["skip"] = st["replay"] is not None
        prev = st.get("prev")
        if prev is not None and len(prev) == 5:  # saved before cache writes were read
            prev = [*prev, 0]
        model = st.get("model")
        for offset, obj in json_objects(path, start, result, final=final):
            kind = obj.get("type")
            payload = obj.get("payload")
            if kind not in READ_TYPES or not isinstance(payload, dict):
                continue  # not usage (`world_state`, `token_usage_record`, types to come): no problem
            if kind == "session_meta":
                if isinstance(payload.get("id"), str) and payload["id"]:
                    st["session"] = payload["id"]
                if isinstance(payload.get("cwd"), str):
                    st["cwd"] = payload["cwd"]
                git = payload.get("git")
                if isinstance(git, dict) and isinstance(git.get("repository_url"), str):
                    st["repo"] = git["repository_url"]
                continue
            if kind == "turn_context":
                m = _model_of(payload)
                if m:
                    model = m
                    st["fallback"] = False
                if isinstance(payload.get("cwd"), str):
                    st["cwd"] = payload["cwd"]
                continue
            if kind != "event_msg" or payload.get("type") != "token_count":
                continue
            ts_raw = obj.get("timestamp")
            ts_str = ts_raw.strip() if isinstance(ts_raw, str) else None
            if payload.get("rate_limits") is not None:
                problem = _windows(payload["rate_limits"], parse_ts(ts_str), result.observations)
                if problem:
                    result.bad(f"{path.name}:{offset}", problem)
            if st.get("skip"):
                if not ts_str:
                    continue
                if ts_str[:19] == st.get("replay"):
                    info = payload.get("info")
                    total = _usage(info.get("total_token_usage")) if isinstance(info, dict) else None
                    if total is not None:
                        prev = total
                    continue
                st["skip"] = False
            info = payload.get("info")
            if info is None:
                continue
            if not isinstance(info, dict):
                result.bad(f"{path.name}:{offset}", "token_count info is not an object")
                continue
            total = _usage(info.get("total_token_usage"))
            last = _usage(info.get("last_token_usage"))
            if total is not None and prev is not None and total[:5] == prev[:5]:
                continue  # re-emitted: the running total did not move
            if last is not None:
                raw = last
            elif total is not None:
                raw = [max(0, a - b) for a, b in zip(total, prev)] if prev is not None else list(total)
            else:
                if info.get("total_token_usage") is not None or info.get("last_token_usage") is not None:
                    result.bad(f"{path.name}:{offset}", "token counts are not non-negative integers")
                continue
            if total is not None:
                prev = total
            if not (raw[0] or raw[1] or raw[2] or raw[3]):
                continue
            ts = parse_ts(ts_str)
            if ts is None:
                result.bad(f"{path.name}:{offset}", f"timestamp is not RFC 3339 with an offset, got {describe(ts_raw)}")
                continue
            event_model = _model_of(payload) or _model_of(info)
            if event_model:
                model = event_model
                st["fallback"] = False
            if not model:
                model = "gpt-5"
                st["fallback"] = True
            inp, cached, out, reasoning, tot, writes = raw
            cached = min(cached, inp)
            writes = min(writes, inp - cached)
            rec = {
                "id": "codex:" + short_hash(ts_str, model, inp, cached, out, reasoning, tot),
                "timestamp": ts,
                "model": model,
                "provider": "openai",
                "project": project_of(st.get("cwd")) or project_of(st.get("repo")) or "(no project)",
                "inputTokens": inp - cached - writes,
                "outputTokens": out,
                "cacheReadTokens": cached,
                "cacheWriteTokens": writes,
                "feature": FEATURE,
                "session": str(st.get("session") or path.stem)[:200],
            }
            result.entries.append(rec)
        st["prev"] = prev
        st["model"] = model
        result.state = st


ACCOUNT_LIMITS = (None, "codex")  # other limit ids (a model's, "premium") are not the plan's windows


def _windows(limits: object, observed_at: int | None, out: list) -> str | None:
    """The plan windows of a `token_count` event's `rate_limits` (`primary`/`secondary`,
    identified by `window_minutes`, reset as `resets_at` epoch seconds or, before 0.58,
    `resets_in_seconds` from the line's time) -> `out`; a problem with them, or None."""
    if not isinstance(limits, dict) or observed_at is None:
        return None if observed_at is None else f"rate_limits: expected an object, got {describe(limits)}"
    limit_id = limits.get("limit_id")
    if limit_id not in ACCOUNT_LIMITS:
        return None
    for slot in ("primary", "secondary"):
        window = limits.get(slot)
        if window is None:
            continue
        if not isinstance(window, dict):
            return f"rate_limits.{slot}: expected an object, got {describe(window)}"
        minutes = window.get("window_minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            continue  # without its length a window cannot be told apart
        try:
            used = percent(window.get("used_percent"), f"rate_limits.{slot}.used_percent")
            resets = epoch_ms(window.get("resets_at"), f"rate_limits.{slot}.resets_at")
            if resets is None and window.get("resets_in_seconds") is not None:
                seconds = epoch_ms(window["resets_in_seconds"], f"rate_limits.{slot}.resets_in_seconds")
                resets = None if seconds is None else observed_at + seconds
        except LimitError as exc:
            return str(exc)
        out.append(Observation("codex", window_name(minutes), used, resets, observed_at))  # the account's
    return None


def _under(p: Path, root: Path) -> bool:
    try:
        p.relative_to(root)
        return True
    except ValueError:
        return False


def _replay_second(data: bytes) -> str | None:
    """The second a sub-agent's replayed token counts are stamped with: when the first two
    token_count events share it."""
    first = None
    for line in data.split(b"\n"):
        if b"token_count" not in line:
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or obj.get("type") != "event_msg":
            continue
        payload = obj.get("payload")
        if not isinstance(payload, dict) or payload.get("type") != "token_count":
            continue
        info = payload.get("info")
        if not isinstance(info, dict) or (
            info.get("last_token_usage") is None and info.get("total_token_usage") is None
        ):
            continue
        ts = obj.get("timestamp")
        if not isinstance(ts, str) or len(ts.strip()) < 19:
            continue
        second = ts.strip()[:19]
        if first is None:
            first = second
        else:
            return second if second == first else None
    return None
