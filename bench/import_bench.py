"""Import speed: `usage-ls import claude-code` vs ccusage reading the same Claude Code logs.

    .venv/bin/python bench/import_bench.py            # ~1 GB of generated logs
    .venv/bin/python bench/import_bench.py --mb 100   # a quicker run

Generates realistic Claude Code JSONL under bench/out/ (reused when already there), then, in
one run: times ccusage 20.0.24 `daily --json --offline` (scripts/setup.d/40-ccusage.sh installs
it) and a first `usage-ls import claude-code` into a fresh data directory, alternately, --repeat
times each, prints the ratio of the medians, times a re-import of the unchanged files, and
checks both give the same per-day tokens, and times one more import with an empty price cache
(what a first command on a new machine pays).
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

from ccusage_compare import ccusage_binary, clean_env, our_daily, write_config  # noqa: E402
from synth_logs import claude_bulk  # noqa: E402


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.jsonl"))


def timed(cmd, env) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if out.returncode:
        sys.exit(f"{cmd[0]} failed:\n{out.stderr[-2000:]}")
    return dt, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=1024, help="size of the generated logs (default 1024 MB)")
    ap.add_argument("--out", default=str(REPO / "bench" / "out"), help="work folder (git-ignored)")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each side, alternating; medians are compared (default 3)"
    )
    args = ap.parse_args()
    out = Path(args.out)
    logs = out / f"claude-{args.mb}mb"
    target = args.mb * 1024 * 1024
    if not logs.exists() or du(logs) < target * 0.95:
        shutil.rmtree(logs, ignore_errors=True)
        t0 = time.perf_counter()
        written = claude_bulk(logs, target)
        print(f"generated {written / 1e6:.0f} MB of Claude Code logs in {time.perf_counter() - t0:.1f} s")
    size = du(logs)
    files = sum(1 for _ in logs.rglob("*.jsonl"))
    print(f"logs: {size / 1e6:.0f} MB in {files} files ({logs})")
    # the price cache (genai-prices' answers per model and day, usage_ls.pricing) lives in the
    # bench's own folder: the first run fills it, as a user's first command does
    env = clean_env(out, CLAUDE_CONFIG_DIR=logs, USAGE_LS_CACHE_DIR=out / "cache")
    # byte-code compiled, as an installed package is (with PYTHONDONTWRITEBYTECODE set, an
    # editable install would compile every module at every start)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "usage_ls")], check=True)
    # warm the page cache so neither side pays for the disk
    for p in logs.rglob("*.jsonl"):
        p.read_bytes()

    binary = ccusage_binary()
    if binary is None:
        print("ccusage not installed (bash scripts/setup.d/40-ccusage.sh): no ratio")
    data = out / "data"
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "import", "claude-code", "--json"]
    cc_times, our_times = [], []
    for _ in range(max(1, args.repeat)):  # alternating, so both sides see the same machine
        if binary is not None:
            dt, cc_out = timed([str(binary), "daily", "--json", "--offline", "--timezone", "UTC"], env)
            cc_times.append(dt)
        shutil.rmtree(data, ignore_errors=True)
        write_config(data, 'timezone = "UTC"\n')
        dt, res = timed(cmd, env)
        our_times.append(dt)
    result = json.loads(res.stdout)
    show = lambda ts: f"{statistics.median(ts):7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in ts)})"
    cc_time = statistics.median(cc_times) if cc_times else None
    ours = statistics.median(our_times)
    if cc_times:
        print(f"ccusage daily --json --offline:        {show(cc_times)}")
    print(
        f"usage-ls import claude-code (first):   {show(our_times)}  {result['imported']} records, {result['duplicates']} duplicate lines"
    )
    if cc_time:
        print(
            f"ratio usage-ls / ccusage (medians):    {ours / cc_time:7.2f}  ({'faster' if ours < cc_time else 'SLOWER'} than ccusage)"
        )
    again, res2 = timed(cmd, env)
    print(f"usage-ls re-import (unchanged files):  {again:7.2f} s  ({json.loads(res2.stdout)['imported']} records)")
    # once more with an empty price cache: what a first command on a new machine pays
    cold_env = dict(env, USAGE_LS_CACHE_DIR=str(out / "cache-cold"))
    shutil.rmtree(out / "cache-cold", ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    write_config(data, 'timezone = "UTC"\n')
    cold, _ = timed(cmd, cold_env)
    print(
        f"usage-ls import, empty price cache:    {cold:7.2f} s  (genai-prices loaded in each worker; ratio {cold / cc_time:.2f})"
        if cc_time
        else f"usage-ls import, empty price cache:    {cold:7.2f} s"
    )

    if binary is not None:
        theirs = {d.get("date") or d["period"]: d for d in json.loads(cc_out.stdout)["daily"]}
        mine = our_daily(data, min(theirs), max(theirs), env=env)
        same = all(
            mine[day]["input"] == d["inputTokens"]
            and mine[day]["output"] == d["outputTokens"]
            and mine[day]["cacheWrite"] == d["cacheCreationTokens"]
            and mine[day]["cacheRead"] == d["cacheReadTokens"]
            for day, d in theirs.items()
        ) and sorted(mine) == sorted(theirs)
        print(f"same per-day tokens as ccusage:        {same} ({len(theirs)} days)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
