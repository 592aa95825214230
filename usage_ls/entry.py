"""The `usage-ls` command's entry point: a status line is answered before the CLI loads."""

from __future__ import annotations

import os
import sys

QUICK_EXIT = ("import",)  # one-shot commands that leave nothing to finish once they return


def main() -> int:
    if "statusline" in sys.argv[1:4]:
        from usage_ls import statusline  # (its own reading of the command line decides)

        done = statusline.main(sys.argv[1:])
        if done is not None:
            return done
    from usage_ls.cli import main as cli_main

    code = cli_main()
    if command(sys.argv[1:]) in QUICK_EXIT:
        # everything is written, fsynced and closed: skip tearing the interpreter down (freeing
        # every object and module one by one, ~20 ms after an import: a tenth of a small one)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code or 0)
    return code


def command(argv: list[str]) -> str | None:
    """The subcommand named in `argv` (after the global options)."""
    rest = iter(argv)
    for arg in rest:
        if arg == "--data-dir":
            next(rest, None)
        elif not arg.startswith("-"):
            return arg
    return None
