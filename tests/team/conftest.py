"""A real PostgreSQL for the team tests: a throwaway cluster (initdb + pg_ctl in a temp folder),
one per test session, listening on a unix socket in that folder and on 127.0.0.1 at a free
port (loopback only). Each test gets a database of its own (`pg`). Installed by
scripts/setup.d/60-postgresql.sh (Debian's `postgresql`); skipped, saying why, only when its
binaries are missing here. As root (CI), the cluster runs as the `postgres` user: PostgreSQL
refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg_cluster import make_cluster, remove


@pytest.fixture(scope="session")
def cluster():
    c = make_cluster()
    if c is None and os.environ.get("CI"):  # CI installs it (scripts/setup.d): missing there is a failure
        pytest.fail(
            "PostgreSQL's server binaries (initdb, pg_ctl) are missing: scripts/setup.d/60-postgresql.sh failed?"
        )
    if c is None:
        pytest.skip(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: bash scripts/setup.d/60-postgresql.sh"
        )
    try:
        yield c
    finally:
        remove(c)


@pytest.fixture
def pg(cluster):
    """A fresh database of the session's cluster; its conninfo (socket, superuser)."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield cluster.conninfo(name)
    with contextlib.suppress(Exception), psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def main(monkeypatch, capsys):
    """`usage-ls --data-dir DIR ARGS…` in this process (the CLI's own `main`): the same code as
    the command without an interpreter's start per call. Returns returncode, stdout, stderr."""
    from types import SimpleNamespace

    from usage_ls.cli import main as cli_main

    def run(data_dir, *args: str):
        monkeypatch.setenv("USAGE_LS_DATA_DIR", str(data_dir))  # (main sets it; restored after the test)
        capsys.readouterr()
        code = cli_main(["--data-dir", str(data_dir), *args])
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)

    return run
