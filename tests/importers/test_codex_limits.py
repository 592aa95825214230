"""Codex's plan windows: the `rate_limits` of its rollout's token_count events become limit
observations (`usage-ls report limits`), never usage."""

from __future__ import annotations

import json
import time

import orjson
from ccusage_compare import clean_env, import_json, usage_ls


def _event(ts: str, limits: dict | None, inp: int = 1000) -> dict:
    info = {
        "total_token_usage": {"input_tokens": inp, "cached_input_tokens": 0, "output_tokens": 10,
                              "reasoning_output_tokens": 0, "total_tokens": inp + 10},
        "last_token_usage": {"input_tokens": inp, "cached_input_tokens": 0, "output_tokens": 10,
                             "reasoning_output_tokens": 0, "total_tokens": inp + 10},
    }  # fmt: skip
    return {
        "timestamp": ts,
        "type": "event_msg",
        "payload": {"type": "token_count", "info": info, "rate_limits": limits},
    }


def _rollout(root, name: str, lines: list[dict]) -> None:
    folder = root / "sessions" / "2026" / "12" / "06"
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"timestamp": lines[0]["timestamp"], "type": "session_meta", "payload": {"id": name, "cwd": "/src/app"}}
    ctx = {"timestamp": lines[0]["timestamp"], "type": "turn_context", "payload": {"model": "gpt-5.1-codex"}}
    body = b"".join(orjson.dumps(x) + b"\n" for x in [meta, ctx, *lines])
    (folder / f"rollout-2026-12-06T10-00-00-{name}.jsonl").write_bytes(body)


def test_codex_windows_from_rollouts(tmp_path):
    now = int(time.time())
    iso = lambda s: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(s))
    t0 = now - 600
    root, data = tmp_path / "codex", tmp_path / "data"
    _rollout(
        root,
        "a",
        [
            # the account windows (limit_id "codex"), identified by window_minutes, not by slot
            _event(iso(t0), {
                "limit_id": "codex",
                "primary": {"used_percent": 5.0, "window_minutes": 300, "resets_at": now + 3 * 3600},
                "secondary": {"used_percent": 18.0, "window_minutes": 10080, "resets_at": now + 4 * 86400},
            }),
            # a model's own limit is not the plan's
            _event(iso(t0 + 60), {
                "limit_id": "gpt-5.1-codex-max",
                "primary": {"used_percent": 99.0, "window_minutes": 300, "resets_at": now + 3 * 3600},
            }, inp=2000),
            _event(iso(t0 + 120), {
                "limit_id": "codex",
                "primary": {"used_percent": 9.0, "window_minutes": 300, "resets_at": now + 3 * 3600},
                "secondary": {"used_percent": 19.0, "window_minutes": 10080, "resets_at": now + 4 * 86400},
            }, inp=3000),
        ],
    )  # fmt: skip
    # an older build: resets_in_seconds from the line's time, no limit_id; a weekly-only plan
    _rollout(
        root,
        "b",
        [
            _event(
                iso(t0 + 300), {"primary": {"used_percent": 40.0, "window_minutes": 10080, "resets_in_seconds": 7200}}
            )
        ],
    )
    env = clean_env(tmp_path, CODEX_HOME=root)
    res = import_json(data, "codex", env=env)
    assert res["imported"] == 4 and res["unreadable"] == 0
    assert res["tools"][0]["planWindows"] == 5  # a: 5h 5% then 9%, weekly 18% then 19%; b: weekly 40%
    limits = json.loads(usage_ls(data, "report", "limits", "--json", env=env).stdout)
    got = {(w["source"], w["label"]): w for w in limits["windows"]}
    assert set(got) == {("codex", "5h"), ("codex", "wk")}
    assert got[("codex", "5h")]["usedPercent"] == 9.0 and got[("codex", "5h")]["resetsAt"] == (now + 3 * 3600) * 1000
    # the newest weekly observation wins: b's (older build, weekly-only plan), reset 2 h after its line
    assert got[("codex", "wk")]["usedPercent"] == 40.0
    assert got[("codex", "wk")]["resetsAt"] == (t0 + 300 + 7200) * 1000
    # windows are not usage
    first = time.strftime("%Y-%m-%d", time.gmtime(t0))
    daily = json.loads(usage_ls(data, "report", "daily", "--from", first, "--json", env=env).stdout)["days"]
    assert sum(d["messages"] for d in daily) == 4
    # a second import reads nothing new and keeps no window twice
    again = import_json(data, "codex", env=env)
    assert again["imported"] == 0 and again["tools"][0]["planWindows"] == 0
    table = usage_ls(data, "report", "limits", env=env).stdout
    assert "codex" in table and "5h" in table and "9%" in table and "40%" in table
