"""`usage-ls import` counts what ccusage counts: per-day tokens exactly, cost within 0.5%.

The shared sample files are checked against ccusage 20.0.24's published numbers (always), and
the samples plus realistic generated logs against the ccusage binary itself when it is
installed (scripts/setup.d/40-ccusage.sh); in CI (CI=true) the binary must be there.
"""

from __future__ import annotations

import os
import shutil

import pytest
from ccusage_compare import FIXTURES, ccusage_binary, ccusage_daily, clean_env, import_json, our_daily, write_config
from synth_logs import claude_logs, codex_logs

SAMPLES = FIXTURES / "samples"
TOKENS = ("input", "output", "cacheWrite", "cacheRead")


@pytest.fixture
def ccusage():
    binary = ccusage_binary()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("ccusage is not installed (scripts/setup.d/40-ccusage.sh); the comparison must run in CI")
        pytest.skip("ccusage not installed: run scripts/setup.d/40-ccusage.sh")
    return binary


def _data(tmp_path, tz="UTC"):
    data = tmp_path / f"data-{tz.replace('/', '_')}"
    write_config(data, f'timezone = "{tz}"\n')
    return data


def assert_same_days(ours: dict, theirs: dict, tolerance: float = 0.005) -> None:
    assert sorted(ours) == sorted(theirs), f"days differ: ours {sorted(ours)}, ccusage {sorted(theirs)}"
    for day in sorted(theirs):
        for k in TOKENS:
            assert ours[day][k] == theirs[day][k], f"{day} {k}: ours {ours[day][k]}, ccusage {theirs[day][k]}"
        t_cost, o_cost = theirs[day]["cost"], ours[day]["cost"]
        assert abs(o_cost - t_cost) <= tolerance * t_cost + 1e-9, f"{day} cost: ours {o_cost}, ccusage {t_cost}"


def _merge(*reports: dict) -> dict:
    out: dict[str, dict] = {}
    for rep in reports:
        for day, v in rep.items():
            acc = out.setdefault(day, {k: 0 for k in (*TOKENS, "cost")})
            for k in acc:
                acc[k] += v[k]
    return out


def test_shared_samples_give_ccusage_published_numbers(tmp_path):
    # ../shared/samples/README.md: ccusage 20.0.24 daily --json --offline --timezone UTC
    data = _data(tmp_path)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=SAMPLES / "claude", CODEX_HOME=SAMPLES / "codex")
    claude = import_json(data, "claude-code", env=env)
    codex = import_json(data, "codex", env=env)
    assert claude["unreadable"] == 0 and codex["unreadable"] == 0
    days = our_daily(data, "2026-11-18", "2026-11-21", env=env)
    assert sorted(days) == ["2026-11-19", "2026-11-20"]
    d19, d20 = days["2026-11-19"], days["2026-11-20"]
    # Claude: input 374, output 2,210, cache creation 16,500, cache read 32,000 over both days
    # Codex (11-19): input 27,000 of which 14,000 cached, output 1,300 (700 reasoning)
    assert d19["input"] + d20["input"] == 374 + (27_000 - 14_000)
    assert d19["output"] + d20["output"] == 2_210 + 1_300
    assert d19["cacheWrite"] + d20["cacheWrite"] == 16_500
    assert d19["cacheRead"] + d20["cacheRead"] == 32_000 + 14_000
    # per day: Claude $0.068511 + Codex $0.031 on the 19th, Claude $0.2107 on the 20th
    assert d19["cost"] == pytest.approx(0.068511 + 0.031, rel=0.005)
    assert d20["cost"] == pytest.approx(0.2107, rel=0.005)
    assert d20 == {
        "input": 362,
        "output": 1_260,
        "cacheWrite": 3_000,
        "cacheRead": 20_000,
        "cost": pytest.approx(0.2107, rel=0.005),
    }


def test_shared_samples_match_ccusage_binary(tmp_path, ccusage):
    data = _data(tmp_path)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=SAMPLES / "claude", CODEX_HOME=SAMPLES / "codex")
    import_json(data, "all", env=env)
    theirs = _merge(ccusage_daily(ccusage, "claude", env), ccusage_daily(ccusage, "codex", env))
    assert_same_days(our_daily(data, "2026-11-01", "2026-11-30", env=env), theirs)


@pytest.mark.parametrize(
    ("tz", "workers"), [("UTC", "0"), ("UTC", "2"), ("Asia/Tokyo", "2"), ("America/Los_Angeles", "0")]
)
def test_generated_claude_code_logs_match_ccusage(tmp_path, ccusage, tz, workers):
    # 40 sessions over a week, midnight-straddling sessions, split responses with partial
    # counts, sidechain replays, resumed sessions, synthetic lines, five models; read in one
    # process and in two (as a big import is)
    root = claude_logs(tmp_path / "claude", seed=11, sessions=40)
    data = _data(tmp_path, tz)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=root, USAGE_LS_IMPORT_WORKERS=workers)
    result = import_json(data, "claude-code", env=env)
    assert result["imported"] > 300 and result["duplicates"] > 0 and result["unreadable"] == 0
    assert_same_days(our_daily(data, "2026-11-01", "2026-11-30", env=env), ccusage_daily(ccusage, "claude", env, tz))


@pytest.mark.parametrize("tz", ["UTC", "Asia/Tokyo"])
def test_generated_codex_logs_match_ccusage(tmp_path, ccusage, tz):
    # re-emitted totals, totals-only events, info:null, model switches, a fork copying its
    # parent's history, a sub-agent replaying the parent's counts
    root = codex_logs(tmp_path / "codex", seed=5, sessions=24)
    data = _data(tmp_path, tz)
    env = clean_env(tmp_path, CODEX_HOME=root)
    result = import_json(data, "codex", env=env)
    assert result["imported"] > 100 and result["unreadable"] == 0
    assert_same_days(our_daily(data, "2026-11-01", "2026-11-30", env=env), ccusage_daily(ccusage, "codex", env, tz))


def test_incremental_imports_add_up_to_ccusage_on_the_final_files(tmp_path, ccusage):
    """Import while the logs are still being written (half of each file, then the rest, plus
    sidechain files that appear later): the ledger ends where one full ccusage read does."""
    full = claude_logs(tmp_path / "full", seed=23, sessions=30)
    live = tmp_path / "live"
    data = _data(tmp_path)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=live)
    files = sorted(p for p in full.rglob("*.jsonl"))
    mains = [p for p in files if "subagents" not in p.parts]
    for p in mains:  # first half of every main session file
        dest = live / p.relative_to(full)
        dest.parent.mkdir(parents=True, exist_ok=True)
        lines = p.read_bytes().splitlines(keepends=True)
        dest.write_bytes(b"".join(lines[: len(lines) // 2]))
    first = import_json(data, "claude-code", env=env)
    assert first["imported"] > 0
    for p in files:  # the rest, and the sidechain files
        dest = live / p.relative_to(full)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    second = import_json(data, "claude-code", env=env)
    assert second["imported"] > 0
    env_full = clean_env(tmp_path, CLAUDE_CONFIG_DIR=full)
    assert_same_days(our_daily(data, "2026-11-01", "2026-11-30", env=env), ccusage_daily(ccusage, "claude", env_full))


def test_long_context_request_is_priced_as_anthropic_publishes(tmp_path):
    """docs/importers.md: a Sonnet 4.5 request over 200K input tokens is charged entirely at the
    long-context rates ($6 / $22.50 per MTok, cache at 1.25x / 0.1x of that); ccusage 20.0.24
    tiers each token kind separately and says $0.12381 (tokens agree)."""
    import orjson

    root = tmp_path / "claude" / "projects" / "-home-dev-big"
    root.mkdir(parents=True)
    line = {
        "parentUuid": None,
        "isSidechain": False,
        "cwd": "/home/dev/big",
        "sessionId": "s",
        "version": "2.0.14",
        "type": "assistant",
        "uuid": "u1",
        "timestamp": "2026-11-19T10:00:00.000Z",
        "requestId": "r1",
        "message": {
            "id": "m1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [],
            "usage": {
                "input_tokens": 20,
                "output_tokens": 1000,
                "cache_creation_input_tokens": 5000,
                "cache_read_input_tokens": 250000,
            },
        },
    }
    (root / "s.jsonl").write_bytes(orjson.dumps(line) + b"\n")
    data = _data(tmp_path)
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=tmp_path / "claude")
    import_json(data, "claude-code", env=env)
    day = our_daily(data, "2026-11-19", "2026-11-19", env=env)["2026-11-19"]
    published = 20 * 6e-6 + 1000 * 22.5e-6 + 5000 * 7.5e-6 + 250_000 * 0.6e-6
    assert day["cost"] == pytest.approx(published, rel=1e-9) == pytest.approx(0.21012)
    binary = ccusage_binary()
    if binary is not None:
        theirs = ccusage_daily(binary, "claude", env)["2026-11-19"]
        assert {k: theirs[k] for k in TOKENS} == {k: day[k] for k in TOKENS}
        assert theirs["cost"] == pytest.approx(0.12381)
