"""`usage-ls setup <tool> [--statusline] [--write [--yes] [--replace]]`: print the settings that
point a tool at usage-ls, or, asked to, put them into the tool's own config file: the diff
first, then a confirmation on a terminal (`--yes` skips it; without a terminal and without
`--yes` nothing is written), a backup, an atomic write (`usage_ls.toolconfig`)."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from usage_ls import toolconfig
from usage_ls.config import load_config
from usage_ls.receive import setup


def run(args: Any, stdin: TextIO | None = None) -> int:
    cfg = load_config()
    for problem in cfg.errors:
        print(f"usage-ls: config: {problem}", file=sys.stderr)
    if args.statusline and args.tool != "claude-code":
        print(
            "usage-ls setup: --statusline is Claude Code's (usage-ls setup claude-code --statusline)", file=sys.stderr
        )
        return 2
    if not args.write and (args.yes or args.replace):
        print("usage-ls setup: --yes and --replace go with --write", file=sys.stderr)
        return 2
    if not args.write:
        if args.statusline:
            print(statusline_lines(), end="")
        else:
            print(setup.lines(args.tool, cfg.receive_otlp, str(cfg.path)), end="")
            if args.tool != "copilot":
                try:
                    where = str(toolconfig.config_file(args.tool))
                except toolconfig.ConfigError as exc:
                    where = f"the tool's config file ({exc})"
                print(f"# `usage-ls setup {args.tool} --write` puts them into {where} (a diff and a backup first).")
        return 0
    if args.tool == "copilot":
        print(
            "usage-ls setup copilot: nothing written: Copilot Chat's settings are VS Code's settings.json "
            "(JSON with comments, per profile and workspace), and the Copilot CLI's are environment variables; "
            "add the lines below yourself",
            file=sys.stderr,
        )
        print(setup.lines(args.tool, cfg.receive_otlp, str(cfg.path)), end="")
        return 1
    try:
        path = toolconfig.config_file(args.tool)
        wanted = toolconfig.statusline_setting() if args.statusline else setup.wanted(args.tool, cfg.receive_otlp)
        plan = toolconfig.plan(path, wanted, replace=args.replace)
    except toolconfig.ConfigError as exc:
        print(f"usage-ls setup: {exc}", file=sys.stderr)
        return 1
    if plan.conflicts and not args.replace:
        for key, now, ours in plan.conflicts:
            print(
                f"{path}: `{'.'.join(key)}` is already set to {toolconfig.show(now)}; "
                f"usage-ls would set {toolconfig.show(ours)}",
                file=sys.stderr,
            )
        print("Nothing changed. `--replace` replaces them (the old file is kept as a backup).", file=sys.stderr)
        return 1
    if not plan.changed:
        print(f"{path}: already set; nothing to change.")
        return 0
    print(plan.diff(), end="", flush=True)
    if not args.yes and not confirm(f"Write {path}? [y/N] ", stdin or sys.stdin):
        return 1
    try:
        backup = toolconfig.write(plan)
    except toolconfig.ConfigError as exc:
        print(f"usage-ls setup: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"usage-ls setup: cannot write {plan.path}: {exc.strerror}; nothing changed", file=sys.stderr)
        return 1
    where = f"{path}" + (f" (that is {plan.path})" if plan.path != path else "")
    print(f"Wrote {where}" + (f"; the old file is kept as {backup}" if backup else "") + ".")
    if not args.statusline and cfg.receive_otlp is None:
        print(setup.receiver_note(None, str(cfg.path)), end="")
    print(f"{NAMES[args.tool]} reads it when it starts: restart the sessions that are open.")
    return 0


NAMES = {"claude-code": "Claude Code", "codex": "Codex", "gemini": "Gemini CLI"}


def confirm(question: str, stdin: TextIO) -> bool:
    """Ask on a terminal; no terminal: no (the user passes --yes)."""
    if not stdin.isatty():
        print("usage-ls setup: nothing written: no terminal to ask on; `--yes` writes without asking", file=sys.stderr)
        return False
    print(question, end="", flush=True)
    answer = stdin.readline()
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("Nothing changed.")
    return False


def statusline_lines() -> str:
    try:
        where = str(toolconfig.config_file("claude-code"))
    except toolconfig.ConfigError:
        where = "$CLAUDE_CONFIG_DIR/settings.json"
    setting = {"statusLine": toolconfig.statusline_setting()[("statusLine",)]}
    return (
        "# Claude Code's status line from usage-ls: model, session cost, today's credits, and a\n"
        "# subscriber's 5-hour and weekly windows (kept in the ledger: usage-ls report limits).\n"
        f"# In {where}:\n"
        + json.dumps(setting, indent=2)
        + "\n# `usage-ls setup claude-code --statusline --write` puts it there (a diff and a backup first).\n"
    )
