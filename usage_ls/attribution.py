"""Attribution in a record's `feature`: the tool, then `key=value` words saying where inside it the
money went (`claude-code agent=code-reviewer mcp=github query=subagent`).

The OTLP receiver takes them from the tools' event attributes (`receive/mapping.py`), the Claude
Code importer from its transcript lines (`attributionAgent`...), the ledger merges a later
report's words into a stored record (`store/annotations.py`), and `usage/attribution` splits
cost by them. A leaf: standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

KEYS = ("agent", "skill", "plugin", "mcp", "query")  # the order words are written in
MAX_VALUE = 60
MAX_FEATURE = 200  # a record's feature (model.MAX_NAME)
_UNSAFE = re.compile(r"[\x00-\x20\x7f=]+")


def clean(value: object) -> str | None:
    """A value as a word may hold it: spaces, `=` and control characters made `_`, at most 60
    characters; None when nothing is left or it is not a string."""
    if not isinstance(value, str):
        return None
    out = _UNSAFE.sub("_", value.strip())[:MAX_VALUE]
    return out or None


def order(key: str) -> tuple[int, str]:
    return (KEYS.index(key) if key in KEYS else len(KEYS), key)


def join(tool: str | None, words: dict[str, str]) -> str:
    """`tool key=value ...` in KEYS order, whole words only within 200 characters."""
    parts = ([tool] if tool else []) + [f"{k}={words[k]}" for k in sorted(words, key=order)]
    while len(" ".join(parts)) > MAX_FEATURE and len(parts) > 1:
        parts.pop()
    return " ".join(parts)


def feature(tool: str, pairs: Iterable[tuple[str, object]]) -> str:
    """`tool` plus a word per (key, value) whose value is a usable string (the first per key
    wins; `query=main` is left out: the main thread is what is not attributed)."""
    words: dict[str, str] = {}
    for key, raw in pairs:
        value = clean(raw)
        if value is None or key in words or (key == "query" and value == "main"):
            continue
        words[key] = value
    return join(tool, words)


def parse(text: str | None) -> dict[str, str]:
    """The `key=value` words of a feature ({agent: code-reviewer, query: subagent})."""
    out: dict[str, str] = {}
    for word in (text or "").split(" "):
        key, eq, value = word.partition("=")
        if eq and key and value and key not in out:
            out[key] = value
    return out


def merged(stored: str | None, incoming: str | None) -> str | None:
    """The stored feature with the incoming one's words added (keys the stored one already has
    keep their value; its tool word stays); None when that adds nothing."""
    have = parse(stored)
    new = {k: v for k, v in parse(incoming).items() if k not in have}
    if not new:
        return None
    out = join(tool_of(stored) or tool_of(incoming), {**have, **new})
    return out if out != stored else None


def tool_of(text: str | None) -> str | None:
    """The feature's first word when it is not a `key=value` one (the tool)."""
    first = (text or "").split(" ", 1)[0]
    return first if first and "=" not in first else None
