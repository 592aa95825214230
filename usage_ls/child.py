"""`usage-ls` run as a child of a running server: the checkpoint, the history import, the team
push worker and the editors' dashboard each run so, never blocking the server's loop (a leaf)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path


async def start(
    data_dir: str | Path,
    *args: str,
    stdout: int = asyncio.subprocess.DEVNULL,
    stderr: int = asyncio.subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """`usage-ls --data-dir <data_dir> <args>` with this interpreter (no shell), stdin closed."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "usage_ls",
        "--data-dir",
        str(data_dir),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        env=env,
    )


def popen(
    data_dir: str | Path,
    *args: str,
    stdin: int = subprocess.DEVNULL,
    stdout: int = subprocess.DEVNULL,
    stderr: int = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """The same, for a thread of the server (the team push's): a plain process, no loop."""
    return subprocess.Popen(
        [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args],
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=env,
    )
