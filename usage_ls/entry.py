"""The `usage-ls` command's entry point: a status line is answered before the CLI loads."""

from __future__ import annotations

import sys


def main() -> int:
    from usage_ls import statusline

    done = statusline.main(sys.argv[1:])
    if done is not None:
        return done
    from usage_ls.cli import main as cli_main

    return cli_main()
