"""The `usage-ls` command: serve, record, report, statusline, demo and friends."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import orjson

from usage_ls import __version__, days
from usage_ls.errors import InvalidParams, StoreRefused
from usage_ls.render import tables
from usage_ls.render import text as fmt
from usage_ls.team.db import TeamError


def _service(args, writable: bool = False, tag: str = "cli"):
    from usage_ls.service import Usage

    svc = Usage(data_dir=args.data_dir, tag=tag, writable=writable).open()
    for problem in svc.cfg.errors:
        print(f"usage-ls: config: {problem}", file=sys.stderr)
    return svc


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day (default: today)")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (default: today, or --from)")
    p.add_argument("--project")
    p.add_argument("--user")
    p.add_argument("--model")
    p.add_argument("--billing", choices=["premium", "byok", "all"])
    p.add_argument("--json", action="store_true", help="print the protocol's JSON result")


def _filter(args) -> dict:
    out = {"from": args.start, "to": args.end, "project": args.project, "user": args.user, "model": args.model}
    out["billing"] = args.billing
    return {k: v for k, v in out.items() if v is not None}


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
    _filter_args(rep)
    rep.add_argument("--breakdown", action="store_true", help="daily/weekly/monthly: each period's models too")
    rep.add_argument(
        "--tool",
        help="blocks: whose records (default claude-code, as ccusage; 'all' for every tool); agents: one tool's",
    )
    rep.add_argument("--limit", type=int, default=50, help="rows of `interactions` and `sessions` (default 50)")
    rep.add_argument(
        "--sort", default="-timestamp", help="column of `interactions` (`sessions`: default -start), - for descending"
    )
    rep.add_argument("--wide", action="store_true", help="sessions: whole session ids and models (past 80 columns)")
    rep.add_argument("--team", action="store_true", help="today/daily/models/projects: the team database's numbers")

    ins = sub.add_parser("insights", help="budgets left, burn rate, projection, spikes and money-saving tips")
    _filter_args(ins)

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
    _filter_args(db)

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
    sy.add_argument("--quiet", action="store_true", help="say nothing unless it fails (servers run it so)")
    sub.add_parser("config", help="show the data directory, config file and what it sets")
    sub.add_parser("doctor", help="check the data directory, config, price data, journals and files moved aside")
    sub.add_parser("checkpoint", help="fold pending journals into the day files now (servers do this themselves)")

    pr = sub.add_parser("prices", help="the price data in use; fetch newer genai-prices data (only when asked)")
    pr_sub = pr.add_subparsers(dest="action", required=True)
    pr_sub.add_parser("show", help="where the price data comes from and its date")
    up = pr_sub.add_parser("update", help="fetch genai-prices' current data, check it, price new records with it")
    up.add_argument("--url", help="where to fetch it (default: $USAGE_LS_PRICES_URL, else genai-prices' own URL)")
    up.add_argument("--from", dest="from_file", metavar="FILE", help="load a data.json file instead of fetching")
    pr_sub.add_parser("reset", help="forget fetched data: price new records with the bundled genai-prices table")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir:
        os.environ["USAGE_LS_DATA_DIR"] = args.data_dir
    try:
        return COMMANDS[args.cmd](args)
    except (InvalidParams, StoreRefused) as exc:
        print(f"usage-ls: {exc}", file=sys.stderr)
        return 2
    except TeamError as exc:  # the team database: down, refusing, too new (said without secrets)
        print(f"usage-ls: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


def cmd_serve(args) -> int:
    from usage_ls.server import serve

    return serve()


def cmd_record(args) -> int:
    fields = [
        "model",
        "inputTokens",
        "outputTokens",
        "cacheReadTokens",
        "cacheWriteTokens",
        "cacheWrite1hTokens",
        "costUsd",
        "credits",
        "billing",
        "project",
        "user",
        "provider",
        "feature",
        "session",
        "id",
        "timestamp",
    ]
    if args.model is not None:
        records = [{k: getattr(args, k) for k in fields if getattr(args, k) is not None}]
        source = "flags"
    else:
        if sys.stdin.isatty():
            print("usage-ls record: give --model/--input/--output, or JSON lines on stdin", file=sys.stderr)
            return 2
        records = []
        for n, line in enumerate(sys.stdin.buffer, 1):
            line = line.strip()
            if not line:
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                print(f"usage-ls record: line {n}: not JSON ({exc}); skipped", file=sys.stderr)
                records.append(None)
                continue
            if isinstance(value, dict) and isinstance(value.get("records"), list):
                records.extend(value["records"])
            else:
                records.append(value)
        source = "stdin"
    from usage_ls.service import default_name

    project, problem = default_name(Path.cwd().name, "project", "the current folder's name")
    if problem and args.project is None:
        print(f"usage-ls record: {problem} (--project sets one)", file=sys.stderr)
    svc = _service(args, writable=True, tag="cli")
    try:
        result = svc.record(records, svc.defaults(project=project))
    finally:
        svc.close()
    if args.json:
        print(orjson.dumps(result).decode())
    else:
        line = f"recorded {result['accepted']} from {source}"
        if result["duplicates"]:
            line += f", {result['duplicates']} duplicate(s) skipped"
        print(line)
    for r in result["rejected"]:
        print(f"usage-ls record: record {r['index']} rejected: {r['field']}: {r['message']}", file=sys.stderr)
    ignored = result.get("ignoredFields") or {}
    if ignored and not args.json:  # a typo ("ts" for "timestamp") would otherwise pass unseen
        names = ", ".join(f"{fmt.plain(k)} ({n})" for k, n in sorted(ignored.items()))
        print(
            f"usage-ls record: not record fields, ignored: {names} (docs/protocol.md lists the fields)", file=sys.stderr
        )
    if result.get("warning"):
        print(f"usage-ls record: {result['warning']}", file=sys.stderr)
    return 1 if result["rejected"] else 0


def cmd_report(args) -> int:
    if args.what == "session":
        return _report_session(args)
    from usage_ls import reports

    svc = _service(args)
    params = _filter(args)
    if args.tool is not None and args.what not in ("blocks", "agents"):
        raise InvalidParams("--tool", "applies to `report blocks` and `report agents` only")
    if args.team:
        if args.what not in ("today", "daily", "models", "projects") or args.breakdown:
            raise InvalidParams("--team", "applies to `report today`, `daily`, `models` and `projects` so far")
        params["scope"] = "team"
    if args.what in ("weekly", "monthly", "blocks", "limits", "sessions") or (
        args.breakdown and args.what == "daily" and not args.json
    ):
        return reports.run(args, svc, params)
    if args.breakdown and args.what != "daily":
        raise InvalidParams("--breakdown", "applies to daily, weekly and monthly")
    if args.what == "daily" and "from" not in params:
        params["from"] = days.shift(svc.today(), -6)
    if args.what == "interactions":
        result = svc.interactions({**params, "limit": args.limit, "sort": args.sort})
    elif args.what == "agents":  # where the money went inside the tools: agents, skills, MCP servers...
        result = svc.attribution({**params, **({"tool": args.tool} if args.tool else {})})
    else:
        result = {
            "today": svc.summary,
            "daily": svc.daily,
            "models": svc.token_split,
            "projects": svc.projects,
        }[args.what](params)
    for problem in svc.take_problems():  # e.g. a journal line skipped: said, the report goes on
        print(f"usage-ls: {fmt.plain(problem)}", file=sys.stderr)
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return 0
    f = svc.parse_filter({k: v for k, v in params.items() if k != "scope"})
    span = f.start if f.start == f.end else f"{f.start} .. {f.end}"
    scope = ", ".join(f"{k}={fmt.plain(v)}" for k, v in params.items() if k not in ("from", "to"))
    print(f"{args.what} · {span}" + (f" · {scope}" if scope else ""))
    if args.what == "today":
        print(tables.today(result, svc.token_split(params)))
    else:
        print(getattr(tables, args.what)(result))
    return 0


def _report_session(args) -> int:
    """`usage-ls report session <id>`: a session's models, and Claude Code's own cost beside ours."""
    from usage_ls.sessions import session_report

    if not args.session:
        print("usage-ls report session: give the session id (as the tool names it)", file=sys.stderr)
        return 2
    svc = _service(args)
    for day in (args.start, args.end):
        if day is not None:
            svc.parse_filter({"from": day})  # a bad day is refused, naming the field
    result = session_report(svc, args.session, args.start, args.end)
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return 0
    where = ", ".join(fmt.plain(p) for p in result["projects"]) or "no records"
    tools = ", ".join(result["features"])
    print(f"session {fmt.plain(args.session)} · {result['from']} .. {result['to']} · {tools or '-'} · {where}")
    print(tables.session(result))
    return 0


def cmd_insights(args) -> int:
    from usage_ls import commands

    return commands.insights(_service(args), _filter(args), args.json)


def cmd_prices(args) -> int:
    from usage_ls import commands

    return commands.prices(args)


def cmd_statusline(args) -> int:
    from usage_ls import statusline

    if args.claude_code:
        return statusline.claude(statusline.data_root(args.data_dir), args.billing, None)
    svc = _service(args)
    try:
        print(statusline.cache_status(svc, {"billing": args.billing})["text"])
    finally:
        svc.close()
    return 0


def cmd_demo(args) -> int:
    from usage_ls.demo import run_demo

    return run_demo(keep=args.keep)


def cmd_dashboard(args) -> int:
    from usage_ls.dashboard import serve

    return serve.main(args, _service(args), _filter(args))


def cmd_export(args) -> int:
    from usage_ls import exporting

    return exporting.main(args, _service(args), _filter(args))


def cmd_import(args) -> int:
    from usage_ls import importers

    return importers.main(args)


def cmd_receive(args) -> int:
    from usage_ls.receive.command import run_receive

    return run_receive(args)


def cmd_setup(args) -> int:
    from usage_ls.setup_command import run

    return run(args)


def cmd_config(args) -> int:
    from usage_ls.commands import show_config

    return show_config()


def cmd_checkpoint(args) -> int:
    from usage_ls.config import load_config
    from usage_ls.store.ledger import Ledger

    cfg = load_config()
    for problem in cfg.errors:
        print(f"usage-ls: config: {problem}", file=sys.stderr)
    ledger = Ledger(cfg.data_dir, cfg.tz)
    ledger.files.make_dirs()  # refuses a data directory that is not safe to use
    ledger.checkpoint(blocking=True)
    return 0


def cmd_sync(args) -> int:
    from usage_ls.team.command import run

    return run(args)


def cmd_doctor(args) -> int:
    from usage_ls.doctor import run

    return run()


COMMANDS = {
    "serve": cmd_serve,
    "record": cmd_record,
    "report": cmd_report,
    "statusline": cmd_statusline,
    "insights": cmd_insights,
    "demo": cmd_demo,
    "dashboard": cmd_dashboard,
    "export": cmd_export,
    "import": cmd_import,
    "receive": cmd_receive,
    "setup": cmd_setup,
    "config": cmd_config,
    "doctor": cmd_doctor,
    "sync": cmd_sync,
    "checkpoint": cmd_checkpoint,
    "prices": cmd_prices,
}
