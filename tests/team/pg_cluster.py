"""A throwaway PostgreSQL cluster (initdb + pg_ctl in a temp folder), for the team tests and
bench/team_bench.py: a unix socket in that folder and 127.0.0.1 on a free port (loopback
only), trust on the socket, scram-sha-256 over TCP. As root it runs as the `postgres` user
(PostgreSQL refuses to run as root). `pg_ctl` logs to a file (`-l`): a captured pipe would
never close.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "admin"
PASSWORD_USER, PASSWORD = "pwuser", "Sup3r-Secr3t-pw"


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    bindir: Path
    root: Path
    port: int
    as_user: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def start(self) -> None:
        opts = (
            f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=40 -c shared_buffers=32MB"
        )
        self.ctl("start", "-w", "-t", "60", "-l", str(self.root / "server.log"), "-o", opts)

    def stop(self, mode: str = "fast") -> None:
        self.ctl("stop", "-w", "-m", mode, check=False)

    def conninfo(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        return f"host={self.root} port={self.port} dbname={dbname} user={user}"

    def uri(self, dbname: str, user: str, password: str) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{dbname}"


def make_cluster() -> Cluster | None:
    """A started cluster, or None when PostgreSQL's server binaries are not installed."""
    bindir = _bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        return None
    root = Path(tempfile.mkdtemp(prefix="usage-ls-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    os.chmod(root, 0o700)
    c = Cluster(bindir, root, _free_port(), as_user)
    pwfile = root / "pw"
    pwfile.write_text("admin-pw\n")
    if as_user:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    subprocess.run(
        [
            *as_user,
            str(bindir / "initdb"),
            "-D",
            str(c.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    c.start()
    return c


def remove(c: Cluster) -> None:
    c.stop("immediate")
    shutil.rmtree(c.root, ignore_errors=True)
