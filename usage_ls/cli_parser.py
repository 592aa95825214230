"""The `usage-ls` command line's grammar: every subcommand, its flags and their help."""

from __future__ import annotations

import argparse

from usage_ls import __version__


def filter_args(p: argparse.ArgumentParser, tool: str | None = None) -> None:
    p.add_argument(
        "--from", "--since", dest="start", metavar="YYYY-MM-DD", help="first day (default: today; YYYYMMDD too)"
    )
    p.add_argument(
        "--to", "--until", dest="end", metavar="YYYY-MM-DD", help="last day (default: today, or --from; YYYYMMDD too)"
    )
    p.add_argument("--project")
    p.add_argument("--user")
    p.add_argument("--model")
    p.add_argument("--billing", choices=["premium", "byok", "all"])
    if tool is not None:
        p.add_argument("--tool", help=tool)
    p.add_argument("--json", action="store_true", help="print the protocol's JSON result")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="usage-ls", description="An honest ledger of what AI features cost.")
    p.add_argument("--version", action="version", version=f"usage-ls {__version__}")
    p.add_argument("--data-dir", help="data directory (default: $USAGE_LS_DATA_DIR or the platform's)")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("serve", help="run the language server over stdio")
    s.add_argument("--stdio", action="store_true", help="accepted for editor clients (stdio is the default)")

    r = sub.add_parser("record", help="record usage: one record from flags, or JSON lines on stdin")
    r.add_argument("--model")
    r.add_argument("--input", type=int, dest="inputTokens", help="input tokens, excluding cache")
    r.add_argument("--output", type=int, dest="outputTokens")
    r.add_argument("--cache-read", type=int, dest="cacheReadTokens")
    r.add_argument("--cache-write", type=int, dest="cacheWriteTokens")
    r.add_argument("--cache-write-1h", type=int, dest="cacheWrite1hTokens")
    r.add_argument("--cost", type=float, dest="costUsd", help="cost in USD as the tool reported it")
    r.add_argument("--credits", type=float)
    r.add_argument("--billing", choices=["premium", "byok"])
    r.add_argument("--project", help="default: the current directory's name")
    r.add_argument("--user")
    r.add_argument("--provider")
    r.add_argument("--feature")
    r.add_argument("--session")
    r.add_argument("--id")
    r.add_argument("--timestamp", help="RFC 3339 (default: now)")
    r.add_argument("--json", action="store_true", help="print the protocol's JSON result")

    rep = sub.add_parser("report", help="tables of usage")
    rep.add_argument(
        "what",
        choices=[
            "today",
            "daily",
            "weekly",
            "monthly",
            "blocks",
            "limits",
            "models",
            "projects",
            "interactions",
            "sessions",
            "session",
            "agents",
        ],
    )
    rep.add_argument("session", nargs="?", help="the session id, for `report session`")
    filter_args(
        rep,
        tool="one tool's records (claude-code, codex, gemini...: the names `report agents` and "
        "`import` use; 'all' for every tool); blocks: default claude-code, as ccusage",
    )
    rep.add_argument("--breakdown", action="store_true", help="daily/weekly/monthly: each period's models too")
    rep.add_argument("--by-tool", action="store_true", help="daily/weekly/monthly: each period's tools too")
    rep.add_argument("--limit", type=int, default=50, help="rows of `interactions` and `sessions` (default 50)")
    rep.add_argument(
        "--sort", default="-timestamp", help="column of `interactions` (`sessions`: default -start), - for descending"
    )
    rep.add_argument("--wide", action="store_true", help="sessions: whole session ids and models (past 80 columns)")
    rep.add_argument("--team", action="store_true", help="the team database's numbers (not limits)")

    ins = sub.add_parser("insights", help="budgets left, burn rate, projection, spikes and money-saving tips")
    filter_args(ins, tool="one tool's records (claude-code, codex...; 'all' for every tool)")
    ins.add_argument("--team", action="store_true", help="the team's insights, from the team database")

    st = sub.add_parser("statusline", help="one line for tmux, shell prompts and agent status lines")
    st.add_argument("--billing", choices=["auto", "premium", "byok"], default="auto")  # auto: see Usage.status_mode
    st.add_argument(
        "--claude-code",
        action="store_true",
        help="be Claude Code's statusLine command: read its JSON on stdin, keep its 5-hour and weekly windows",
    )

    d = sub.add_parser("demo", help="drive the real server with a realistic day and show what the editor shows")
    d.add_argument("--keep", action="store_true", help="keep the demo's data directory")

    db = sub.add_parser("dashboard", help="the Usage Dashboard in the browser")
    db.add_argument("--out", help="write a static snapshot to this file instead of serving")
    db.add_argument("--no-open", action="store_true", help="do not open a browser")
    db.add_argument(
        "--host", default="127.0.0.1", help="address to listen on: 127.0.0.1 (default), ::1, or 0.0.0.0 / :: for all"
    )
    db.add_argument("--port", type=int, default=0)
    filter_args(db, tool="open on one tool's records (claude-code, codex...: the Tool picker; 'all' for every tool)")
    db.add_argument("--team", action="store_true", help="open on the team's numbers (the Team switch; [sync] postgres)")

    imp = sub.add_parser("import", help="import usage from logs other AI tools write (Claude Code, Codex, ...)")
    imp.add_argument(
        "tool",
        help="claude-code, codex, aider, gemini, cline, opencode, continue, droid, goose, qwen, kimi, pi, "
        "openclaw, hermes, amp, codebuff, kilo, copilot-cli, cursor (its usage-events CSV), copilot-report (GitHub's Copilot usage report CSV), usage-ls (an export file), or all",
    )
    imp.add_argument("paths", nargs="*", help="files or folders (default: the tool's usual locations)")
    imp.add_argument("--json", action="store_true")

    exp = sub.add_parser("export", help="stored records as JSON lines or CSV (import them elsewhere: import usage-ls)")
    exp.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day (default: the first stored)")
    exp.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (default: today)")
    exp.add_argument("--project")
    exp.add_argument("--user")
    exp.add_argument("--model")
    exp.add_argument("--billing", choices=["premium", "byok"])
    exp.add_argument("--format", choices=["jsonl", "csv"], help="default: csv for an --out ending in .csv, else jsonl")
    exp.add_argument("--out", metavar="FILE", help="write here (atomically) instead of standard output")

    rcv = sub.add_parser("receive", help="receive OpenTelemetry (OTLP/HTTP) from AI tools without an editor")
    rcv.add_argument(
        "--listen", metavar="HOST:PORT", help="loopback address (default: [receive] otlp, else 127.0.0.1:4318)"
    )
    rcv.add_argument("--quiet", action="store_true", help="do not print a line per stored batch")

    stp = sub.add_parser(
        "setup", help="the settings that send a tool's telemetry to the receiver (printed; --write edits its config)"
    )
    stp.add_argument("tool", choices=["claude-code", "codex", "gemini", "copilot"])
    stp.add_argument("--write", action="store_true", help="edit the tool's own config file (diff, confirm, backup)")
    stp.add_argument("--yes", "-y", action="store_true", help="with --write: do not ask")
    stp.add_argument("--replace", action="store_true", help="with --write: replace settings that hold another value")
    stp.add_argument(
        "--statusline",
        action="store_true",
        help="claude-code: install `usage-ls statusline --claude-code` as statusLine",
    )

    sy = sub.add_parser(
        "sync", help="push this machine's records to the team database ([sync] postgres) and the OTLP export ([export])"
    )
    sy.add_argument("--status", action="store_true", help="records queued, last success, last error (no connection)")
    sy.add_argument("--init-roles", action="store_true", help="print the SQL of the least-privilege roles")
    sy.add_argument("--apply", action="store_true", help="with --init-roles: create the schema and the roles now")
    sy.add_argument("--quiet", action="store_true", help="say nothing unless it fails")
    sy.add_argument(
        "--worker",
        action="store_true",
        help="push each time a line `push` arrives on stdin, answering a JSON line (a language server runs one)",
    )
    sub.add_parser("config", help="show the data directory, config file and what it sets")
    sub.add_parser("doctor", help="check the data directory, config, price data, journals and files moved aside")
    sub.add_parser("checkpoint", help="fold pending journals into the day files now (servers do this themselves)")

    pr = sub.add_parser("prices", help="the price data in use; fetch newer genai-prices data (only when asked)")
    pr_sub = pr.add_subparsers(dest="action", required=True)
    pr_sub.add_parser("show", help="where the price data comes from, its date, your unpriced models")
    up = pr_sub.add_parser("update", help="fetch genai-prices' current data, check it, price new records with it")
    up.add_argument("--url", help="where to fetch it (default: $USAGE_LS_PRICES_URL, else genai-prices' own URL)")
    up.add_argument("--from", dest="from_file", metavar="FILE", help="load a data.json file instead of fetching")
    pr_sub.add_parser("reset", help="forget fetched data: price new records with the bundled genai-prices table")
    return p
