"""Import speed: `usage-ls import` vs ccusage reading the same logs, big and small.

    .venv/bin/python bench/import_bench.py                 # 1 GB of Claude Code logs, then 10 and 40 MB of Claude Code + Codex
    .venv/bin/python bench/import_bench.py --mb 100        # a quicker big figure
    .venv/bin/python bench/import_bench.py --small 10,40,100 --mb 0   # only the small figures, at these sizes

Generates realistic logs under bench/out/ (reused when already there) and, for each figure,
times ccusage 20.0.24 `daily --json --offline` (scripts/setup.d/40-ccusage.sh installs it) and
a first usage-ls import into a fresh data directory, alternately, --repeat times each, prints
the ratio of the medians, times a re-import of the unchanged files, and checks both give the
same per-day tokens.

- The big figure: `--mb` MB of Claude Code logs, `usage-ls import claude-code`, plus one
  import with an empty price cache (what a first command on a new machine pays).
- The small figures (`--small`, MB): Claude Code and Codex logs (3:1 by bytes), `usage-ls
  import all` against ccusage's `daily`, which reads both tools too. What most users have:
  here start-up and the writes, not the reading, are most of the time.

The machine's speed drifts (other tenants): only the alternating runs compare, as medians.
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
from synth_logs import claude_bulk, codex_bulk  # noqa: E402

CODEX_SHARE = 0.25  # of the small figures' bytes


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.jsonl"))


def timed(cmd, env) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if out.returncode:
        sys.exit(f"{cmd[0]} failed:\n{out.stderr[-2000:]}")
    return dt, out


def generate(folder: Path, target: int, make) -> None:
    if not folder.exists() or du(folder) < target * 0.95:
        shutil.rmtree(folder, ignore_errors=True)
        make(folder, target)


def show(ts: list[float]) -> str:
    return f"{statistics.median(ts):7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in ts)})"


def same_tokens(cc_stdout: str, data: Path, env: dict) -> str:
    """Whether usage-ls's per-day tokens (after the import into `data`) equal ccusage's."""
    theirs = {d.get("date") or d["period"]: d for d in json.loads(cc_stdout)["daily"]}
    mine = our_daily(data, min(theirs), max(theirs), env=env)
    same = all(
        mine[day]["input"] == d["inputTokens"]
        and mine[day]["output"] == d["outputTokens"]
        and mine[day]["cacheWrite"] == d["cacheCreationTokens"]
        and mine[day]["cacheRead"] == d["cacheReadTokens"]
        for day, d in theirs.items()
        if day in mine
    ) and sorted(mine) == sorted(theirs)
    return f"{same} ({len(theirs)} days)"


class Side:
    """One usage-ls import command against ccusage, on one set of logs."""

    def __init__(self, out: Path, env: dict, tool: str):
        self.data = out / "data"
        self.env = env
        self.cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(self.data), "import", tool, "--json"]
        self.binary = ccusage_binary()
        self.cc_cmd = [str(self.binary), "daily", "--json", "--offline", "--timezone", "UTC"] if self.binary else None

    def fresh(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        write_config(self.data, 'timezone = "UTC"\n')

    def ours(self, env: dict | None = None) -> tuple[float, dict]:
        self.fresh()
        dt, res = timed(self.cmd, env or self.env)
        return dt, json.loads(res.stdout)

    def alternate(self, repeat: int) -> tuple[list[float], list[float], dict, str | None]:
        """ccusage and a first import, alternately, `repeat` times each (after one untimed run
        of each: the price cache filled, files and byte code in the page cache)."""
        if self.cc_cmd:
            timed(self.cc_cmd, self.env)
        self.ours()
        cc_times, our_times, cc_out, result = [], [], None, {}
        for _ in range(max(1, repeat)):  # alternating, so both sides see the same machine
            if self.cc_cmd:
                dt, res = timed(self.cc_cmd, self.env)
                cc_times.append(dt)
                cc_out = res.stdout
            dt, result = self.ours()
            our_times.append(dt)
        return cc_times, our_times, result, cc_out

    def again(self) -> tuple[float, dict]:
        dt, res = timed(self.cmd, self.env)
        return dt, json.loads(res.stdout)


def big_figure(args, out: Path) -> None:
    logs = out / f"claude-{args.mb}mb"
    t0 = time.perf_counter()
    generate(logs, args.mb * 1024 * 1024, claude_bulk)
    size, files = du(logs), sum(1 for _ in logs.rglob("*.jsonl"))
    print(f"logs: {size / 1e6:.0f} MB of Claude Code logs in {files} files ({logs}; {time.perf_counter() - t0:.1f} s)")
    # the price cache (genai-prices' answers per model and day, usage_ls.pricing) lives in the
    # bench's own folder: the untimed first run fills it, as a user's first command does
    env = clean_env(out, CLAUDE_CONFIG_DIR=logs, USAGE_LS_CACHE_DIR=out / "cache")
    side = Side(out, env, "claude-code")
    if side.binary is None:
        print("ccusage not installed (bash scripts/setup.d/40-ccusage.sh): no ratio")
    cc_times, our_times, result, cc_out = side.alternate(args.repeat)
    ours = statistics.median(our_times)
    if cc_times:
        print(f"ccusage daily --json --offline:        {show(cc_times)}")
    print(
        f"usage-ls import claude-code (first):   {show(our_times)}  {result['imported']} records, {result['duplicates']} duplicate lines"
    )
    cc_time = statistics.median(cc_times) if cc_times else None
    if cc_time:
        print(
            f"ratio usage-ls / ccusage (medians):    {ours / cc_time:7.2f}  ({'faster' if ours < cc_time else 'SLOWER'} than ccusage)"
        )
    again, res2 = side.again()
    print(f"usage-ls re-import (unchanged files):  {again:7.2f} s  ({res2['imported']} records)")
    if cc_out is not None:
        print(f"same per-day tokens as ccusage:        {same_tokens(cc_out, side.data, env)}")
    # once more with an empty price cache: what a first command on a new machine pays
    cold_env = dict(env, USAGE_LS_CACHE_DIR=str(out / "cache-cold"))
    shutil.rmtree(out / "cache-cold", ignore_errors=True)
    cold, _ = side.ours(cold_env)
    print(
        f"usage-ls import, empty price cache:    {cold:7.2f} s  (genai-prices loaded; ratio {cold / cc_time:.2f})"
        if cc_time
        else f"usage-ls import, empty price cache:    {cold:7.2f} s"
    )


def small_figures(args, out: Path) -> None:
    sizes = [int(x) for x in args.small.split(",") if x.strip()]
    if not sizes:
        return
    print(
        f"\nsmall imports: Claude Code + Codex logs ({1 - CODEX_SHARE:.0%} / {CODEX_SHARE:.0%} of the bytes), "
        f"`usage-ls import all` vs ccusage `daily --json --offline` (both tools), {args.repeat} runs each, alternately"
    )
    print(
        f"{'logs':>14}  {'files':>5}  {'ccusage':>8}  {'usage-ls':>8}  {'ratio':>5}  {'re-import':>9}  {'records':>7}  "
        "same tokens"
    )
    for mb in sizes:
        folder = out / f"mixed-{mb}mb"
        target = mb * 1024 * 1024
        generate(folder / "claude", int(target * (1 - CODEX_SHARE)), claude_bulk)
        generate(folder / "codex", int(target * CODEX_SHARE), codex_bulk)
        size = du(folder)
        files = sum(1 for _ in folder.rglob("*.jsonl"))
        env = clean_env(
            folder, CLAUDE_CONFIG_DIR=folder / "claude", CODEX_HOME=folder / "codex", USAGE_LS_CACHE_DIR=out / "cache"
        )
        side = Side(folder, env, "all")
        cc_times, our_times, result, cc_out = side.alternate(args.repeat)
        again, _ = side.again()
        ours = statistics.median(our_times)
        cc = f"{statistics.median(cc_times):7.2f}s" if cc_times else "      - "
        ratio = f"{ours / statistics.median(cc_times):5.2f}" if cc_times else "    -"
        same = same_tokens(cc_out, side.data, env) if cc_out is not None else "-"
        print(
            f"{size / 1e6:10.1f} MB  {files:5d}  {cc}  {ours:7.2f}s  {ratio}  {again:8.2f}s  {result['imported']:7d}  {same}"
        )
        print(
            f"{'':14}  runs: ccusage {', '.join(f'{t:.2f}' for t in cc_times) or '-'}; "
            f"usage-ls {', '.join(f'{t:.2f}' for t in our_times)}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--mb", type=int, default=1024, help="Claude Code logs of the big figure (default 1024 MB; 0: none)"
    )
    ap.add_argument(
        "--small", default="10,40", help="sizes in MB of the Claude Code + Codex figures (default 10,40; '': none)"
    )
    ap.add_argument("--out", default=str(REPO / "bench" / "out"), help="work folder (git-ignored)")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each side, alternating; medians are compared (default 3)"
    )
    args = ap.parse_args()
    out = Path(args.out)
    # byte-code compiled, as an installed package is (with PYTHONDONTWRITEBYTECODE set, an
    # editable install would compile every module at every start)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "usage_ls")], check=True)
    if args.mb:
        big_figure(args, out)
    small_figures(args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
