"""Status line speed: `usage-ls statusline --claude-code` as Claude Code runs it, against
ccusage's `statusline` on the same input and the same logs.

    .venv/bin/python bench/statusline_bench.py              # 100 MB of logs, 30 runs each
    .venv/bin/python bench/statusline_bench.py --mb 10 --runs 5   # as CI runs it

Claude Code starts its statusLine command as a new process after every assistant message, so
the figure is the whole process, start to exit. Generates Claude Code logs, imports them, then
times alternately: ours served from the status cache (the common case: the editor's server
keeps it fresh), ours after the ledger changed (the cache is rebuilt: the full CLI opens the
ledger), and ccusage 20's `statusline --offline` reading the same logs and the same statusLine
JSON; then prints both lines. Figures only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "importers"))

from ccusage_compare import ccusage_binary, clean_env, write_config  # noqa: E402
from synth_logs import claude_bulk  # noqa: E402


def timed(cmd: list[str], env: dict, stdin: bytes) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, input=stdin, capture_output=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {done.stderr.decode()[:400]}")
    return elapsed, done.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=100, help="size of the generated Claude Code logs (default 100 MB)")
    ap.add_argument("--runs", type=int, default=30, help="runs of each side, alternating (default 30)")
    ap.add_argument("--out", default=str(REPO / "bench" / "out"), help="work folder (git-ignored)")
    args = ap.parse_args()
    out = Path(args.out)
    logs = out / f"claude-{args.mb}mb"
    if not logs.exists():
        claude_bulk(logs, args.mb * 1024 * 1024)
    session = next(logs.rglob("*.jsonl"))
    env = clean_env(out, CLAUDE_CONFIG_DIR=logs, USAGE_LS_CACHE_DIR=out / "cache")
    data = out / "statusline-data"
    shutil.rmtree(data, ignore_errors=True)
    write_config(data, 'timezone = "UTC"\n')
    usage_ls = [str(Path(sys.executable).with_name("usage-ls")), "--data-dir", str(data)]
    subprocess.run([*usage_ls, "import", "claude-code"], env=env, check=True, capture_output=True)
    now = int(time.time())
    payload = json.dumps(
        {
            "session_id": session.stem,
            "transcript_path": str(session),
            "cwd": "/home/dev/src/app",
            "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
            "workspace": {"current_dir": "/home/dev/src/app", "project_dir": "/home/dev/src/app"},
            "version": "2.1.332",
            "cost": {"total_cost_usd": 1.23, "total_duration_ms": 60000},
            "rate_limits": {
                "five_hour": {"used_percentage": 42.0, "resets_at": now + 7200},
                "seven_day": {"used_percentage": 18.0, "resets_at": now + 3 * 86400},
            },
        }
    ).encode()
    ours = [*usage_ls, "statusline", "--claude-code"]
    cached, rebuilt, theirs, theirs_fresh, bare = [], [], [], [], []
    binary = ccusage_binary()
    line = their_line = b""
    for i in range(max(1, args.runs)):
        dt, _ = timed([sys.executable, "-c", "pass"], env, b"")
        bare.append(dt)
        dt, line = timed(ours, env, payload)
        cached.append(dt)
        (data / "status-cache.json").unlink(missing_ok=True)  # as after a record: rebuilt by the full CLI
        dt, _ = timed(ours, env, payload)
        rebuilt.append(dt)
        if binary is not None:
            dt, _ = timed([str(binary), "statusline", "--offline"], env, payload)
            theirs.append(dt)  # ccusage keeps its line until the transcript changes, as we do
            session.touch()  # as after a message: it reads the logs again
            dt, their_line = timed([str(binary), "statusline", "--offline"], env, payload)
            theirs_fresh.append(dt)
    ms = lambda ts: f"p50 {statistics.median(ts) * 1000:6.0f} ms  p90 {sorted(ts)[int(len(ts) * 0.9)] * 1000:6.0f} ms"
    records = sum(1 for _ in logs.rglob("*.jsonl"))
    print(f"status line, whole process, {len(cached)} runs each; {args.mb} MB of logs in {records} files")
    print(f"  python -c pass (the interpreter's own start) {ms(bare)}")
    print(f"  usage-ls statusline --claude-code (cache)    {ms(cached)}   target p50 < 50 ms")
    print(f"  usage-ls, cache rebuilt (ledger opened)      {ms(rebuilt)}")
    if theirs:
        print(f"  ccusage statusline --offline (its cache)     {ms(theirs)}")
        print(f"  ccusage, transcript changed (logs re-read)   {ms(theirs_fresh)}")
        fresh = statistics.median(theirs_fresh) / statistics.median(rebuilt)
        print(
            f"  after a change: ccusage / usage-ls, medians  {fresh:6.2f}x  (ours rebuilds only when the ledger changed)"
        )
    else:
        print("  ccusage not installed (bash scripts/setup.d/40-ccusage.sh): no comparison")
    print(f"  our line: {line.decode().strip()}")
    if their_line:
        print(f"  ccusage line: {their_line.decode().strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
