"""The `usage-ls` command: serve, record, report, statusline, demo and friends."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from usage_ls import days, lazy
from usage_ls.cli_parser import build_parser
from usage_ls.errors import InvalidParams, StoreRefused

if TYPE_CHECKING:
    from usage_ls.render import periods as periods_render
    from usage_ls.render import tables
    from usage_ls.render import text as fmt
else:  # loaded by the commands that print them, not by every command (an import prints a tally)
    periods_render = lazy.module("usage_ls.render.periods")
    tables = lazy.module("usage_ls.render.tables")
    fmt = lazy.module("usage_ls.render.text")


def _service(args, writable: bool = False, tag: str = "cli"):
    from usage_ls.service import Usage

    svc = Usage(data_dir=args.data_dir, tag=tag, writable=writable).open()
    for problem in svc.cfg.errors:
        print(f"usage-ls: config: {problem}", file=sys.stderr)
    return svc


def _day(text: str | None) -> str | None:
    """A day as the protocol takes it: YYYYMMDD (ccusage's --since/--until) as YYYY-MM-DD."""
    if text is not None and len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def _filter(args) -> dict:
    out = {"from": _day(args.start), "to": _day(args.end), "project": args.project, "user": args.user}
    out["model"] = args.model
    out["billing"] = args.billing
    out["tool"] = getattr(args, "tool", None)
    return {k: v for k, v in out.items() if v is not None}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data_dir:
        os.environ["USAGE_LS_DATA_DIR"] = args.data_dir
    try:
        return COMMANDS[args.cmd](args)
    except (InvalidParams, StoreRefused) as exc:
        print(f"usage-ls: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except Exception as exc:
        team_db = sys.modules.get("usage_ls.team.db")  # (not loaded: no team error can come)
        if team_db is None or not isinstance(exc, team_db.TeamError):
            raise
        # the team database: down, refusing, too new (said without secrets)
        print(f"usage-ls: {exc}", file=sys.stderr)
        return 1


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
    if args.team and args.what == "limits":
        raise InvalidParams("--team", f"does not apply to `report {args.what}` (this machine's)")
    if args.what == "session":
        return _report_session(args)
    from usage_ls import reports

    svc = _service(args)
    params = _filter(args)
    if args.team:
        params["scope"] = "team"
    elif params.get("tool") not in (None, "all") and args.what != "agents":
        _unknown_tool(svc, args, params)
    for flag, given in (("--breakdown", args.breakdown), ("--by-tool", args.by_tool)):
        if given and args.what not in ("daily", "weekly", "monthly"):
            raise InvalidParams(flag, "applies to daily, weekly and monthly")
    if args.breakdown and args.by_tool and not args.json:
        raise InvalidParams("--by-tool", "one split at a time in a table: --breakdown (models) or --by-tool")
    if args.by_tool:
        params["byTool"] = True
    if args.what in ("weekly", "monthly", "blocks", "limits", "sessions") or (
        (args.breakdown or args.by_tool) and args.what == "daily" and not args.json
    ):
        return reports.run(args, svc, params)
    if args.what == "daily" and "from" not in params:
        params["from"] = days.shift(svc.today(), -6)
    if args.what == "interactions":
        result = svc.interactions({**params, "limit": args.limit, "sort": args.sort})
    elif args.what == "agents":  # where the money went inside the tools: agents, skills, MCP servers...
        result = svc.attribution(params)
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
    elif args.what == "daily":
        print(periods_render.daily(result, reports.color_wanted()))
    else:
        print(getattr(tables, args.what)(result))
    return 0


def _unknown_tool(svc, args, params: dict) -> None:
    """Say so (on stderr) when `--tool` selects nothing in the range, naming the tools that
    have records there: `--tool claude` (ccusage's name) is `claude-code` here."""
    from usage_ls import reports
    from usage_ls.importers.cline import EXTENSIONS
    from usage_ls.importers.registry import TOOL_NAMES

    if params["tool"] in TOOL_NAMES or params["tool"] in EXTENSIONS.values():
        return  # a tool usage-ls imports: no records of it is an answer
    flt = {**params}
    if "from" not in flt and args.what in ("daily", "weekly", "monthly", "sessions", "blocks"):
        flt["from"] = reports.default_from(args.what, svc.today(), svc.cfg.week_start)
    f = svc.parse_filter(flt)
    if svc.summary(flt)["messages"]:
        return
    known = ", ".join(fmt.plain(t) for t in svc.tools(flt)["tools"]) or "none"
    print(
        f"usage-ls: no records of tool {fmt.plain(f.tool or '')!r} in {f.start} .. {f.end}; tools with records there: {known}",
        file=sys.stderr,
    )


def _report_session(args) -> int:
    """`usage-ls report session <id> [--team]`: a session's models (with --team, every machine's
    records of it), and Claude Code's own cost beside ours."""
    from usage_ls.sessions import session_report

    if not args.session:
        print("usage-ls report session: give the session id (as the tool names it)", file=sys.stderr)
        return 2
    svc = _service(args)
    args.start, args.end = _day(args.start), _day(args.end)
    for day in (args.start, args.end):
        if day is not None:
            svc.parse_filter({"from": day})  # a bad day is refused, naming the field
    result = session_report(svc, args.session, args.start, args.end, team=args.team)
    if args.json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return 0
    where = ", ".join(fmt.plain(p) for p in result["projects"]) or "no records"
    tools = ", ".join(result["features"])
    team = " · scope=team" if args.team else ""
    print(f"session {fmt.plain(args.session)} · {result['from']} .. {result['to']} · {tools or '-'} · {where}{team}")
    print(tables.session(result))
    return 0


def cmd_insights(args) -> int:
    from usage_ls import commands

    return commands.insights(_service(args), {**_filter(args), **({"scope": "team"} if args.team else {})}, args.json)


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

    return serve.main(args, _service(args), {**_filter(args), **({"scope": "team"} if args.team else {})})


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
