"""`usage-ls` run as a child of a running server: the checkpoint, the history import, the team
push and the editors' dashboard each run so, never blocking the server's loop (a leaf)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def start(
    data_dir: str | Path,
    *args: str,
    stdin: int = asyncio.subprocess.DEVNULL,
    stdout: int = asyncio.subprocess.DEVNULL,
    stderr: int = asyncio.subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """`usage-ls --data-dir <data_dir> <args>` with this interpreter (no shell), stdin closed
    unless asked for (the push worker reads its requests there)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "usage_ls",
        "--data-dir",
        str(data_dir),
        *args,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=env,
    )
