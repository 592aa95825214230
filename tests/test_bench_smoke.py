"""The benchmark suites, small, on every run: they must work, and their figures are printed so
a regression shows as a changed number in the CI log (no timed assertions: machines are noisy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_bench(args: list[str]) -> str:
    out = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "TZ": "UTC"}
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_server_bench_small(capsys):
    text = run_bench(
        [
            "bench/server_bench.py",
            "--records",
            "5000",
            "--days",
            "50",
            "--iterations",
            "30",
            "--ingest-batches",
            "3",
            "--notifications",
            "500",
        ]
    )
    for line in (
        "cold start",
        "usage/statusBar p50 / p99",
        "usage/daily p50 / p99",
        "ingest, batches of 1,000",
        "single records as notifications",
        "plain TinyDB: one insert",
        "Speed-up over plain TinyDB",
    ):
        assert line in text
    with capsys.disabled():
        print("\n" + text)


def test_reliability_bench_small(capsys):
    text = run_bench(["bench/reliability_bench.py", "--trials", "2"])
    assert "RESULT: no acknowledged record lost, none counted twice" in text
    with capsys.disabled():
        print("\n" + text)


def test_import_bench_small(capsys, tmp_path):
    # 1 MB of every tool's logs, each imported once (against ccusage where it reads the tool),
    # then all re-imported; the big figure's path is the table's claude-code row, bigger
    text = run_bench(
        ["bench/import_bench.py", "--mb", "0", "--mb-per-tool", "1", "--repeat", "1", "--out", str(tmp_path)]
    )
    sys.path.insert(0, str(ROOT / "bench"))
    from import_bench import TOOLS

    rows = {line.split()[0]: line for line in text.splitlines() if line.split() and line.split()[0] in TOOLS}
    assert sorted(rows) == sorted(TOOLS), text  # a row a tool
    assert all(int(row.split()[3]) > 0 for row in rows.values()), text  # each imported records
    if "ccusage not installed" not in text:
        compared = [row for name, row in rows.items() if TOOLS[name].ccusage]
        assert compared and all(" yes" in row and "NO:" not in row for row in compared), text
    assert "re-import of all unchanged files:" in text and "0 records imported again" in text
    with capsys.disabled():
        print("\n" + text)


def test_statusline_bench_small(capsys, tmp_path):
    text = run_bench(["bench/statusline_bench.py", "--mb", "5", "--runs", "3", "--out", str(tmp_path)])
    assert "usage-ls statusline --claude-code (cache)" in text
    assert "our line: Sonnet 4.5 · $1.23 session · 0.0 cr today · 5h 42%" in text
    if "ccusage statusline --offline" in text:  # ccusage installed: its line for the same input
        assert "ccusage line: " in text and "Sonnet 4.5" in text.split("ccusage line: ", 1)[1]
    with capsys.disabled():
        print("\n" + text)


def test_limit_history_bench_small(capsys):
    text = run_bench(["bench/limit_history_bench.py", "--days", "10", "--every", "1"])
    for line in ("a process's first call", "after one more observation", "usage/limitHistory   7 days"):
        assert line in text
    with capsys.disabled():
        print("\n" + text)


def test_spike_calibration_small(capsys):
    text = run_bench(
        ["bench/spike_calibration.py", "--seeds", "5", "--days", "30", "--catch-seeds", "5", "--profiles", "reference"]
    )
    for line in ("false spikes (days + hours)", "before issue #16", "3x day:", "5x hour:", "runaway:"):
        assert line in text
    with capsys.disabled():
        print("\n" + text)


def test_otlp_bench_small(capsys):
    text = run_bench(
        ["bench/otlp_bench.py", "--requests", "3", "--points", "200", "--events", "100", "--latency", "10"]
    )
    for line in ("metric data points/s", "Claude Code events/s", "export -> stored", "export -> usage/didChange"):
        assert line in text
    with capsys.disabled():
        print("\n" + text)


def test_journal_bench_small(capsys):
    text = run_bench(["bench/journal_bench.py", "--records", "3000", "--repeat", "2"])
    assert "read_lines over the whole journal" in text and "another process catching up" in text
    with capsys.disabled():
        print("\n" + text)


def test_watch_bench_small(capsys):
    text = run_bench(
        [
            "bench/watch_bench.py",
            "--appends",
            "5",
            "--bursts",
            "1",
            "--idle",
            "1",
            "--sessions",
            "5",
            "--quiet",
            "0.5",
            "--no-compare",
            "--tools",
            "2",
        ]
    )
    for line in ("appended line -> usage/didChange", "burst of 50 lines", "2 tools watched by file events"):
        assert line in text
    with capsys.disabled():
        print("\n" + text)


def test_team_bench_small(capsys):
    """The team figures (bench/team_bench.py) at a tiny size: push, team queries over the
    protocol, sync lag; no record lost or doubled, the rollups equal the raw sums."""
    sys.path.insert(0, str(ROOT / "tests" / "team"))
    from pg_cluster import _bindir

    if _bindir() is None and not os.environ.get("CI"):
        import pytest

        pytest.skip("PostgreSQL's server binaries are not installed: bash scripts/setup.d/60-postgresql.sh")
    text = run_bench(
        ["bench/team_bench.py", "--records", "1000", "--days", "10", "--rows", "5000", "--queries", "10"]
        + ["--rate", "200", "--lag-seconds", "2", "--idle", "1"]
    )
    assert "push into an empty team database: " in text and "push again, nothing new: 0 sent" in text
    assert "rollups vs raw sums on 12 sample days" in text and ", 0 differ" in text
    assert "team usage/summary (365 days, 10 queries" in text and "team usage/daily (365 days" in text
    assert "sync lag at 200 records/s" in text and "never visible: 0;" in text
    with capsys.disabled():
        print("\n" + text)
