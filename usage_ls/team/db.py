"""Connecting to the team database: libpq's conventions, time limits, errors without secrets.

The connection string from `[sync] postgres` goes to psycopg (libpq) as written: a URI or
`key=value` words, with PG* environment variables, ~/.pgpass, a service file and `sslmode`
all working as they do for psql. We never parse it to connect; `secrets.mask` hides its
passwords in every message. psycopg is imported on first use: most commands never sync (the
CLI imports this module for `TeamError` alone).
"""

from __future__ import annotations

from typing import Any

CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_MS = 120_000


class TeamError(RuntimeError):
    """The team database could not do what was asked; the message holds no password."""


def connect(conninfo: str) -> Any:
    """An autocommit psycopg connection (transactions are explicit), or TeamError."""
    import psycopg

    try:
        return psycopg.connect(
            conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="usage-ls",
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )
    except psycopg.Error as exc:
        raise TeamError(f"cannot connect to the team database: {said(exc, conninfo)}") from None


def said(exc: BaseException, conninfo: str | None) -> str:
    """An error's message on one line, every password masked."""
    from usage_ls.team.secrets import mask

    text = " ".join(str(exc).split()) or type(exc).__name__
    return mask(text, conninfo)
