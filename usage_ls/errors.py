"""The errors every face reports the same way: a request parameter that is not acceptable, a
data directory that is not safe to use.

`InvalidParams` is raised by queries (filters, paging), the service (records batches, status-bar modes) and the
dashboard (nonce, mode, preset); the language server answers it as JSON-RPC InvalidParams,
the dashboard's HTTP API as 400, the CLI as a message. It names the field and says what was
expected; it never repeats a value that may be a secret: `describe` says what a rejected
value was (its type, a string's length) and shows it only when it cannot be one. `StoreRefused` is raised by the
store when it opens (store/safety.py).
"""

from __future__ import annotations

import re


class InvalidParams(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_PLAIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:/+-]{0,31}")
# the shapes of well-known credentials: never shown, however short
_KEY_PREFIX = re.compile(r"(?i)(sk|pk|rk)[-_]|gh[opsu]_|github_pat_|glpat-|xox[abpr]-|akia|aiza")


def kind(value: object) -> str:
    """A value's JSON type, for a message: "a string", "an object", "an array", "a number"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__}"


def describe(value: object) -> str:
    """A rejected value, for an error message that may be shown, logged or sent back: its type,
    and the value itself only when it cannot be a secret: a number, a boolean, null, or a short
    plain word (at most 32 letters, digits, spaces and ._:/+-, not shaped like an API key: an
    enum value, a date). Objects and arrays are never shown; other strings by their length."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()
    if isinstance(value, int):
        text = str(value)  # (JSON and TOML integers have at most 4,300 digits)
        return text if len(text) <= 30 else f"a number of {len(text.lstrip('-'))} digits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        if _PLAIN_WORD.fullmatch(value) and not _KEY_PREFIX.match(value):
            return f'"{value}"'
        return f"a string of {_count(len(value), 'character')}" if value else "an empty string"
    if isinstance(value, (list, tuple)):
        return f"an array of {_count(len(value), 'item')}"
    return kind(value)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class StoreRefused(RuntimeError):
    """The data directory is not safe to use (another owner, writable by others, a store folder
    that is a symbolic link): what is wrong, where, and the command that fixes it. Every face
    reports it as is and stops; `usage-ls doctor` lists the same."""
