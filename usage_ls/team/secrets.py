"""Passwords never shown: connection strings and error messages with every secret masked.

A libpq connection string may hold a password in three places: the URI's user info
(`postgresql://alice:SECRET@host/db`), its `password=` query parameter, or a `password=`
keyword (`host=db password=SECRET`); PGPASSWORD may hold one too. `mask` replaces each of
them, and any other occurrence of the same secret in the text (libpq and the server may quote
the connection string in an error), with `***`. We never parse a connection string to
connect: libpq does that; this only hides.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

MASK = "***"
_URI_USERINFO = re.compile(r"(?i)(postgres(?:ql)?://[^:@/?#\s]*:)([^@/?#\s]*)(@)")
_KEYWORD = re.compile(r"""(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&'"]+)""")


def secrets_of(conninfo: str | None) -> list[str]:
    """The passwords a connection string (and PGPASSWORD) holds, as written and decoded,
    longest first (so a secret containing another is masked whole)."""
    found: set[str] = set()
    text = conninfo or ""
    for match in _URI_USERINFO.finditer(text):
        found.add(match.group(2))
    for match in _KEYWORD.finditer(text):
        value = match.group(2)
        if value[:1] in ("'", '"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        found.add(value)
    env = os.environ.get("PGPASSWORD")
    if env:
        found.add(env)
    for value in list(found):
        found.add(unquote(value))
    return sorted((s for s in found if s), key=len, reverse=True)


def mask(text: str, conninfo: str | None = None) -> str:
    """`text` with every password masked: the shapes above, and each secret of `conninfo`."""
    out = _URI_USERINFO.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    out = _KEYWORD.sub(lambda m: m.group(1) + MASK, out)
    for secret in secrets_of(conninfo):
        out = out.replace(secret, MASK)
    return out


def shown(conninfo: str | None) -> str:
    """A connection string as it may be shown: passwords masked; libpq's defaults named."""
    if conninfo is None:
        return "off"
    if not conninfo:
        return "libpq's defaults (PGHOST, PGDATABASE, PGSERVICE ... and ~/.pgpass)"
    return mask(conninfo, conninfo)
