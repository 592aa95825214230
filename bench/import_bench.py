"""Import speed: `usage-ls import` vs ccusage reading the same logs, for every tool usage-ls imports.

    .venv/bin/python bench/import_bench.py                     # 1 GB of Claude Code, then 40 MB of each tool
    .venv/bin/python bench/import_bench.py --mb 0 --tools qwen,goose --mb-per-tool 10
    .venv/bin/python bench/import_bench.py --mb 0 --mb-per-tool 1 --repeat 1   # what CI runs

Generates realistic logs under bench/out/ (deterministic; reused when already there:
tests/importers/synth_logs.py for Claude Code and Codex, tests/importers/synth_more.py for the
others) and prints:

- The big figure (`--mb`, MB of Claude Code logs): ccusage 20.0.24 `daily --json --offline`
  (scripts/setup.d/40-ccusage.sh installs it) and a first `usage-ls import claude-code` into a
  fresh data directory, alternately, `--repeat` times each after one untimed run of each (the
  price cache filled, files in the page cache); the ratio of the medians; a re-import of the
  unchanged files; whether both give the same per-day tokens; one import with an empty price
  cache (what a first command on a new machine pays).
- A table, one row a tool (`--mb-per-tool` MB each): the same alternating runs of a first
  `usage-ls import <tool>` and `ccusage <its command> daily --json --offline` on the same files,
  where ccusage reads the tool (else our time and MB/s only), and whether the per-day tokens
  are the same (where they differ for a reason docs/importers.md gives, the row says which).
- A re-import of all the unchanged files of all the tools in one data directory: `usage-ls
  import all` (every tool found by its variables) and the two imports of files named on the
  command line (aider's histories, a usage-ls export). The issue's target: under 1 s in total.

MB counts every file of a tool's folder, as a user has it (prompts, answers, tool output,
the messages tables of the SQLite stores...), not only the lines with usage. The machine's
speed drifts (other tenants): only the alternating runs compare, as medians.
"""

from __future__ import annotations

import argparse
import json
import os
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
from synth_more import BULK, Bulk, size_of  # noqa: E402

TOOLS: dict[str, Bulk] = {
    "claude-code": Bulk("claude-code", claude_bulk, lambda r: {"CLAUDE_CONFIG_DIR": r}, ccusage="claude"),
    "codex": Bulk("codex", codex_bulk, lambda r: {"CODEX_HOME": r}, ccusage="codex"),
    **BULK,
}
# where ccusage is known to read a tool's logs differently (docs/importers.md says why): how its
# per-day tokens follow from ours, the fields compared, and the note
KNOWN = {
    "qwen": (
        lambda d: dict(d, input=d["input"] + d["cacheRead"]),
        ("input", "output", "cacheWrite", "cacheRead"),
        "ccusage counts cached tokens twice (docs/importers.md, `qwen`)",
    ),
    "gemini": (
        lambda d: d,
        ("input", "cacheWrite", "cacheRead"),
        "ccusage leaves thoughts out of output (docs/importers.md, Matching ccusage)",
    ),
}
FIELDS = ("input", "output", "cacheWrite", "cacheRead")


def timed(cmd, env) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if out.returncode:
        sys.exit(f"{' '.join(map(str, cmd[:6]))} failed:\n{out.stderr[-2000:]}")
    return dt, out


def generate(folder: Path, target: int, make) -> None:
    """`make` the logs into `folder` unless a finished run of the same size is there."""
    stamp = folder / ".generated"
    if stamp.exists() and stamp.read_text() == str(target):
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    make(folder, target)
    stamp.write_text(str(target))


def show(ts: list[float]) -> str:
    return f"{statistics.median(ts):7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in ts)})"


def theirs_daily(cc_stdout: str) -> dict[str, dict]:
    return {
        d.get("date") or d["period"]: {
            "input": d["inputTokens"],
            "output": d["outputTokens"],
            "cacheWrite": d.get("cacheCreationTokens", 0),
            "cacheRead": d["cacheReadTokens"],
        }
        for d in json.loads(cc_stdout)["daily"]
    }


def compare(name: str, cc_stdout: str, data: Path, env: dict) -> str:
    """Whether usage-ls's per-day tokens (after the import into `data`) equal ccusage's; where
    not, the first day that differs (or the known reason)."""
    theirs = theirs_daily(cc_stdout)
    if not theirs:
        return "ccusage read nothing"
    mine = our_daily(data, min(theirs), max(theirs), env=env)
    expect, fields, note = KNOWN.get(name, (lambda d: d, FIELDS, ""))
    bad = sorted(
        day
        for day in set(mine) | set(theirs)
        if day not in mine
        or day not in theirs
        or any(expect(mine[day])[f] != theirs[day][f] for f in fields)
        or mine[day]["output"] < theirs[day]["output"]  # ours may count more as output (gemini), never less
    )
    if not bad:
        return f"yes{', allowing for: ' + note if note else ''} ({len(theirs)} days)"
    day = bad[0]
    ours = {f: expect(mine[day])[f] for f in FIELDS} if day in mine else None
    return f"NO: {len(bad)} of {len(theirs)} days differ; {day}: ours {ours}, ccusage {theirs.get(day)}"


class Side:
    """One usage-ls import command against ccusage, on one set of logs."""

    def __init__(self, work: Path, env: dict, tool: str, paths: list[Path], cc: list[str] | None):
        self.data = work / "data"
        self.env = env
        self.cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(self.data), "import", tool, *map(str, paths)]
        self.cmd.append("--json")
        self.binary = ccusage_binary()
        # `ccusage [<tool>] daily`, where ccusage reads the tool (cc: its command, [] for all)
        self.cc_cmd = None
        if self.binary and cc is not None:
            self.cc_cmd = [str(self.binary), *cc, "daily", "--json", "--offline", "--timezone", "UTC"]

    def fresh(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        write_config(self.data, 'timezone = "UTC"\n')

    def ours(self, env: dict | None = None) -> tuple[float, dict]:
        self.fresh()
        dt, res = timed(self.cmd, env or self.env)
        return dt, json.loads(res.stdout)

    def alternate(self, repeat: int, warm: bool = True) -> tuple[list[float], list[float], dict, str | None]:
        """ccusage and a first import, alternately, `repeat` times each (after one untimed run
        of each: the price cache filled, files and byte code in the page cache)."""
        if not self.cc_cmd:  # nothing to compare with: one run (the files are in the page cache)
            dt, result = self.ours()
            return [], [dt], result, None
        if warm:
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
    if not logs.exists() or sum(p.stat().st_size for p in logs.rglob("*.jsonl")) < args.mb * 1024 * 1024 * 0.95:
        shutil.rmtree(logs, ignore_errors=True)
        claude_bulk(logs, args.mb * 1024 * 1024)
    size, files = size_of(logs / "projects"), sum(1 for _ in logs.rglob("*.jsonl"))
    print(f"logs: {size / 1e6:.0f} MB of Claude Code logs in {files} files ({logs}; {time.perf_counter() - t0:.1f} s)")
    # the price cache (genai-prices' answers per model and day, usage_ls.pricing) lives in the
    # bench's own folder: the untimed first run fills it, as a user's first command does
    env = clean_env(out, CLAUDE_CONFIG_DIR=logs, USAGE_LS_CACHE_DIR=out / "cache")
    side = Side(out, env, "claude-code", [], [])
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
        print(f"same per-day tokens as ccusage:        {compare('claude-code', cc_out, side.data, env)}")
    # once more with an empty price cache: what a first command on a new machine pays
    cold_env = dict(env, USAGE_LS_CACHE_DIR=str(out / "cache-cold"))
    shutil.rmtree(out / "cache-cold", ignore_errors=True)
    cold, _ = side.ours(cold_env)
    print(
        f"usage-ls import, empty price cache:    {cold:7.2f} s  (genai-prices loaded; ratio {cold / cc_time:.2f})"
        if cc_time
        else f"usage-ls import, empty price cache:    {cold:7.2f} s"
    )


def tool_logs(out: Path, name: str, mb: float) -> Path:
    logs = out / "tools" / f"{name}-{mb:g}mb" / "logs"
    generate(logs, int(mb * 1024 * 1024), TOOLS[name].make)
    return logs


def per_tool(args, out: Path, names: list[str]) -> None:
    print(
        f"\nfirst import of {args.mb_per_tool:g} MB of each tool's logs into a fresh data directory vs ccusage "
        f"`<tool> daily --json --offline`, {args.repeat} run(s) each, alternately (medians)"
    )
    head = f"{'tool':<15} {'MB':>6} {'files':>6} {'records':>8} {'ours s':>7} {'MB/s':>6} {'ccusage s':>9} {'ratio':>6}  same tokens"
    print(head)
    print("-" * len(head))
    rows = []
    for name in names:
        spec = TOOLS[name]
        t0 = time.perf_counter()
        logs = tool_logs(out, name, args.mb_per_tool)
        gen_s = time.perf_counter() - t0
        work = logs.parent
        env = clean_env(work, USAGE_LS_CACHE_DIR=out / "cache", **spec.env(logs))
        side = Side(work, env, spec.tool, spec.paths(logs), [spec.ccusage] if spec.ccusage else None)
        cc_times, our_times, result, cc_out = side.alternate(args.repeat, warm=args.repeat > 1)
        size = size_of(logs) - (logs / ".generated").stat().st_size
        files = sum(1 for p in logs.rglob("*") if p.is_file()) - 1
        ours = statistics.median(our_times)
        cc = statistics.median(cc_times) if cc_times else None
        same = compare(name, cc_out, side.data, env) if cc_out is not None else "-"
        ratio = f"{ours / cc:6.2f}" if cc else "     -"
        cc_s = f"{cc:9.2f}" if cc is not None else "        -"
        print(
            f"{name:<15} {size / 1e6:6.1f} {files:6d} {result['imported']:8d} {ours:7.2f} {size / 1e6 / ours:6.1f} "
            f"{cc_s} {ratio}  {same}"
        )
        if args.verbose:
            print(
                f"{'':15} runs: ours {', '.join(f'{t:.2f}' for t in our_times)}; ccusage "
                f"{', '.join(f'{t:.2f}' for t in cc_times) or '-'}; generated in {gen_s:.1f} s"
            )
        rows.append((name, ours, cc))
    faster = [r for r in rows if r[2] and r[1] < r[2]]
    slower = [r for r in rows if r[2] and r[1] >= r[2]]
    print(
        f"faster than ccusage: {len(faster)} of {len(faster) + len(slower)} tools it reads"
        + (f"; slower: {', '.join(f'{n} ({o / c:.2f}x)' for n, o, c in slower)}" if slower else "")
    )


def reimport_all(args, out: Path, names: list[str]) -> None:
    """Every tool's logs in one data directory, then all of them imported again unchanged."""
    work = out / "tools" / f"all-{args.mb_per_tool:g}mb"
    env_vars: dict[str, Path] = {}
    named: list[tuple[str, list[Path]]] = []
    for name in names:
        spec = TOOLS[name]
        logs = tool_logs(out, name, args.mb_per_tool)
        if spec.paths(logs):
            named.append((spec.tool, spec.paths(logs)))
        elif name == "opencode-json" and "opencode-db" in names:
            continue  # one folder with both (below)
        else:
            env_vars.update(spec.env(logs))
    if "opencode-json" in names and "opencode-db" in names:
        # opencode's folder as a user who upgraded has it: the old message files and the database
        both = work / "xdg" / "opencode"
        if not (both / "opencode.db").exists():
            shutil.rmtree(both, ignore_errors=True)
            shutil.copytree(tool_logs(out, "opencode-json", args.mb_per_tool) / "opencode", both, copy_function=os.link)
            os.link(tool_logs(out, "opencode-db", args.mb_per_tool) / "opencode" / "opencode.db", both / "opencode.db")
        env_vars["XDG_DATA_HOME"] = work / "xdg"
    env = clean_env(work, USAGE_LS_CACHE_DIR=out / "cache", **env_vars)
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    write_config(data, 'timezone = "UTC"\n')
    base = [sys.executable, "-m", "usage_ls", "--data-dir", str(data), "import"]
    cmds = [[*base, "all", "--json"]] + [[*base, tool, *map(str, paths), "--json"] for tool, paths in named]
    first = []
    for cmd in cmds:
        dt, res = timed(cmd, env)
        first.append((dt, json.loads(res.stdout)))
    total_mb = sum(size_of(tool_logs(out, n, args.mb_per_tool)) for n in names) / 1e6
    records = sum(r["imported"] for _, r in first)
    print(
        f"\nall {len(names)} tools' logs ({total_mb:.0f} MB) into one data directory: first import {sum(d for d, _ in first):.2f} s "
        f"({records} records; `import all` + {len(named)} import(s) of named files)"
    )
    runs: list[list[float]] = [[] for _ in cmds]
    again = 0
    for _ in range(max(1, args.repeat)):
        for i, cmd in enumerate(cmds):
            dt, res = timed(cmd, env)
            runs[i].append(dt)
            again += json.loads(res.stdout)["imported"]
    medians = [statistics.median(r) for r in runs]
    parts = ", ".join(f"{' '.join(c[6:7])} {m:.2f} s" for c, m in zip(cmds, medians, strict=True))
    total = sum(medians)
    print(
        f"re-import of all unchanged files: {total:.2f} s in total ({parts}; {again} records imported again); "
        f"target < 1 s: {'met' if total < 1 else 'NOT met'}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--mb", type=int, default=1024, help="Claude Code logs of the big figure (default 1024 MB; 0: none)"
    )
    ap.add_argument(
        "--mb-per-tool", type=float, default=40, help="MB of logs per tool in the table (default 40; 0: none)"
    )
    ap.add_argument(
        "--tools", default="all", help=f"tools of the table, comma-separated (default all: {', '.join(TOOLS)})"
    )
    ap.add_argument("--out", default=str(REPO / "bench" / "out"), help="work folder (git-ignored)")
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each side, alternating; medians are compared (default 3)"
    )
    ap.add_argument("--no-reimport", action="store_true", help="skip the re-import of all the tools' files")
    ap.add_argument(
        "--no-table", action="store_true", help="skip the table (only the re-import of all the tools' files)"
    )
    ap.add_argument("--verbose", action="store_true", help="every run's time")
    args = ap.parse_args()
    names = list(TOOLS) if args.tools == "all" else [n.strip() for n in args.tools.split(",") if n.strip()]
    unknown = [n for n in names if n not in TOOLS]
    if unknown:
        ap.error(f"unknown tool(s) {', '.join(unknown)} (known: {', '.join(TOOLS)})")
    out = Path(args.out)
    # byte-code compiled, as an installed package is (with PYTHONDONTWRITEBYTECODE set, an
    # editable install would compile every module at every start)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "usage_ls")], check=True)
    if ccusage_binary() is None:
        print("ccusage not installed (bash scripts/setup.d/40-ccusage.sh): our times only")
    if args.mb:
        big_figure(args, out)
    if args.mb_per_tool and names:
        if not args.no_table:
            per_tool(args, out, names)
        if not args.no_reimport:
            reimport_all(args, out, names)
    return 0


if __name__ == "__main__":
    sys.exit(main())
