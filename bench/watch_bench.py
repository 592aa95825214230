"""Log watching benchmark: how soon a line a tool appends reaches the editor, and what watching
costs while nothing happens.

    .venv/bin/python bench/watch_bench.py                          # the figures in docs/performance.md
    .venv/bin/python bench/watch_bench.py --appends 5 --bursts 1 --idle 1 --sessions 5 --quiet 0.5 --no-compare --tools 2  # CI

Both against a real `usage-ls serve` started as a new user's editor starts it: a fake home
holding the tools' logs, a fresh data directory, no config (`[import] watch = "auto"`).

- appended line -> `usage/didChange`: Claude Code's transcript gets a finished response line
  every `--gap` seconds (a tool answers; the first push of each is the leading edge), timed
  from the write to the didChange that counts it; then the same in bursts of `--burst` lines
  written back to back (their pushes coalesce);
- idle CPU: the server's CPU seconds (/proc/<pid>/stat) over `--idle` seconds while 7 tools'
  folders are watched and nobody writes, against the same server with watching off
  (`USAGE_LS_WATCH=off`) and with the fallback poll forced (`USAGE_LS_WATCH_POLL=1`).

Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "importers")]

import orjson  # noqa: E402
from otlp_bench import Lsp, pct  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def line(mid: str, out: int) -> bytes:
    """A Claude Code 2.1 transcript line: a finished response (its stop_reason is set)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return (
        orjson.dumps(
            {
                "type": "assistant",
                "sessionId": "bench-1",
                "cwd": "/home/dev/proj/widget",
                "uuid": f"u-{mid}",
                "timestamp": now,
                "requestId": f"req-{mid}",
                "message": {
                    "id": mid,
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": 7, "output_tokens": out, "cache_read_input_tokens": 100},
                },
            }
        )
        + b"\n"
    )


def fake_home(home: Path, sessions: int, tools: int = 7) -> tuple[Path, Path]:
    """The log folders of `tools` tools (of 7), as a machine that has used them; the Claude
    Code session to append to and the folder to start the server in (aider's history is in
    the working folder)."""
    from synth_logs import claude_logs, codex_logs

    claude = home / ".claude" / "projects"
    claude_logs(home / ".claude", sessions=sessions, days=20)
    work = home / "proj"
    work.mkdir()
    others = [
        lambda: codex_logs(home / ".codex", sessions=max(1, sessions // 4)),
        lambda: (home / ".gemini" / "tmp" / "abc" / "chats").mkdir(parents=True),
        lambda: (home / ".local" / "share" / "opencode" / "storage" / "message").mkdir(parents=True),
        lambda: (home / ".continue" / "dev_data").mkdir(parents=True),
        lambda: (home / ".config" / "Code" / "User" / "globalStorage" / "saoudrizwan.claude-dev" / "tasks").mkdir(
            parents=True
        ),
        lambda: (work / ".aider.chat.history.md").write_text("# aider chat started at 2026-11-20 10:00:00\n"),
    ]
    for make in others[: tools - 1]:
        make()
    session = claude / "-home-dev-proj-widget" / "bench-1.jsonl"
    session.parent.mkdir(parents=True, exist_ok=True)
    session.write_bytes(line("msg_bench_0", 1))
    return session, work


def env_for(home: Path, data: Path, **extra: str) -> dict:
    drop = ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_DATA_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME")
    drop += ("CONTINUE_GLOBAL_DIR", "USAGE_LS_VSCODE_USER_DIRS", "USAGE_LS_WATCH", "USAGE_LS_WATCH_POLL")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "HOME": str(home), "USAGE_LS_DATA_DIR": str(data), **extra}


async def start(data: Path, env: dict, cwd: Path) -> tuple[asyncio.subprocess.Process, Lsp]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "usage_ls",
        "serve",
        "--stdio",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
        limit=1 << 26,
    )
    lsp = Lsp(proc)
    await lsp.request(
        "initialize", {"processId": None, "capabilities": {}, "initializationOptions": {"dataDir": str(data)}}
    )
    lsp.notify("initialized", {})
    return proc, lsp


async def stop(proc, lsp) -> None:
    await lsp.request("shutdown")
    lsp.notify("exit", None)
    await proc.wait()


def children(pid: int) -> list[str]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += (task / "children").read_text().split()
        except OSError:
            pass
    return out


QUIET = [2.0]  # --quiet


async def settled(proc, lsp: Lsp, limit: float = 300.0, starting: bool = True) -> None:
    """Until the history is imported (no `usage-ls import` child of the server) and the server
    has pushed nothing for `--quiet` seconds."""
    if starting:
        await asyncio.sleep(1.0)  # the backfill starts 0.3 s after `initialized`
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        n = len(lsp.changes)
        await asyncio.sleep(QUIET[0])
        if len(lsp.changes) == n and n and not children(proc.pid):
            return


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


async def counted(lsp: Lsp, messages: int, timeout: float = 10.0) -> float:
    while not lsp.changes or lsp.changes[-1][1]["today"]["messages"] < messages:
        lsp.changed.clear()
        await asyncio.wait_for(lsp.changed.wait(), timeout)
    return lsp.changes[-1][0]


async def bench_latency(work: Path, args) -> tuple[list[tuple[str, str]], float]:
    """The appends timed; then this server's idle CPU (7 tools watched by file events)."""
    home, data = work / "events-home", work / "events-data"
    session, cwd = fake_home(home, args.sessions, args.tools)
    proc, lsp = await start(data, env_for(home, data), cwd)
    await settled(proc, lsp)
    base = lsp.changes[-1][1]["today"]["messages"]
    single, burst = [], []
    with session.open("ab") as f:
        for i in range(args.appends):
            t = time.perf_counter()
            f.write(line(f"msg_single_{i}", 10))
            f.flush()
            single.append((await counted(lsp, base + i + 1) - t) * 1000)
            await asyncio.sleep(args.gap)
        base += args.appends
        for b in range(args.bursts):
            t = time.perf_counter()
            for j in range(args.burst):
                f.write(line(f"msg_burst_{b}_{j}", 10))
                f.flush()
            base += args.burst
            burst.append((await counted(lsp, base) - t) * 1000)
            await asyncio.sleep(args.gap)
    idle = await idle_cpu(proc, lsp, args)
    await stop(proc, lsp)
    if args.verbose:
        print("single:", " ".join(f"{x:.0f}" for x in single), "\nburst:", " ".join(f"{x:.0f}" for x in burst))
    rows = [
        (
            f"appended line -> usage/didChange p50 / p99 ({args.appends} lines, {args.gap:g} s apart)",
            f"{statistics.median(single):.1f} / {pct(single, 99):.1f} ms (max {max(single):.1f})",
        ),
        (
            f"burst of {args.burst} lines -> didChange counting all p50 / p99 ({args.bursts} bursts)",
            f"{statistics.median(burst):.1f} / {pct(burst, 99):.1f} ms",
        ),
    ]
    return rows, idle


async def idle_cpu(proc, lsp: Lsp, args, starting: bool = False) -> float:
    await settled(proc, lsp, starting=starting)
    before = cpu_seconds(proc.pid)
    await asyncio.sleep(args.idle)
    return cpu_seconds(proc.pid) - before


async def idle_server(work: Path, args, name: str, **extra: str) -> float:
    home, data = work / f"{name}-home", work / f"{name}-data"
    _session, cwd = fake_home(home, args.sessions, args.tools)
    proc, lsp = await start(data, env_for(home, data, **extra), cwd)
    used = await idle_cpu(proc, lsp, args, starting=True)
    await stop(proc, lsp)
    return used


async def run(args) -> list[tuple[str, str]]:
    work = Path(tempfile.mkdtemp(prefix="usage-ls-watch-bench-"))
    try:
        rows, events = await bench_latency(work, args)
        per = f"per {args.idle:g} s idle"
        if args.compare:
            off = await idle_server(work, args, "off", USAGE_LS_WATCH="off")
            polled = await idle_server(work, args, "poll", USAGE_LS_WATCH_POLL="1")
            rows += [
                (f"server CPU {per}: watching off", f"{off:.2f} s"),
                (
                    f"server CPU {per}: {args.tools} tools watched by file events",
                    f"{events:.2f} s ({events - off:+.2f} s)",
                ),
                (
                    f"server CPU {per}: {args.tools} tools polled (USAGE_LS_WATCH_POLL=1)",
                    f"{polled:.2f} s ({polled - off:+.2f} s)",
                ),
            ]
        else:
            rows.append((f"server CPU {per}: {args.tools} tools watched by file events", f"{events:.2f} s"))
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--appends", type=int, default=300, help="single lines appended and timed")
    ap.add_argument("--gap", type=float, default=0.2, help="seconds between appends")
    ap.add_argument("--burst", type=int, default=50, help="lines per burst")
    ap.add_argument("--bursts", type=int, default=20, help="bursts timed")
    ap.add_argument("--idle", type=float, default=60.0, help="seconds of idle CPU measured per server")
    ap.add_argument("--tools", type=int, default=7, choices=range(1, 8), help="tools with logs in the fake home")
    ap.add_argument("--sessions", type=int, default=200, help="Claude Code sessions in the fake home")
    ap.add_argument("--no-compare", dest="compare", action="store_false", help="no servers with watching off / polled")
    ap.add_argument("--quiet", type=float, default=2.0, help="seconds without a push that mean settled")
    ap.add_argument("--verbose", action="store_true", help="print every timing")
    args = ap.parse_args()
    QUIET[0] = args.quiet
    rows = asyncio.run(run(args))
    width = max(len(k) for k, _ in rows)
    print(f"Log watching (Python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    for what, figure in rows:
        print(f"  {what:<{width}}  {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
