"""Tables no wider than 80 columns: exact numbers while the name column keeps its room, else
compact ones (12.3M), then names shortened with "…"; colour (only when asked for: the CLI asks
on a TTY without NO_COLOR) on whole lines."""

from __future__ import annotations

import re
from collections.abc import Callable

from usage_ls.render import text as fmt

WIDTH = 80
DATED = re.compile(r"-\d{8}$")
STYLES = {"head": "1", "model": "2", "total": "1", "active": "32", "note": "33"}


def paint(line: str, style: str | None, color: bool) -> str:
    if not color or style is None or not line:
        return line
    return f"\x1b[{STYLES[style]}m{line}\x1b[0m"


def _width(headers: list[str], rows: list[list[str]]) -> list[int]:
    return [max([len(h), *(len(fmt.plain(r[i])) for r in rows)]) for i, h in enumerate(headers)]


def _shorten(text: str, room: int) -> str:
    text = fmt.plain(text)
    return text if len(text) <= room else text[: max(1, room - 1)] + "…"


def fitted(
    headers: list[str],
    make_rows: Callable[[bool], list[list[str]]],
    align: str,
    styles: list[str | None],
    color: bool,
    elastic: int = 0,
    min_elastic: int = 20,
) -> str:
    """`fmt.table` of `make_rows(compact)`, no wider than WIDTH: exact numbers while the
    `elastic` column (names) can keep `min_elastic` characters, else compact ones; the elastic
    column's cells are shortened to what room is left. Columns that say nothing are left out
    first (`fmt.without_empty_columns`), so their room goes to the rest."""
    for compact in (False, True):
        heads, rows, aligns = fmt.without_empty_columns(headers, make_rows(compact), align)
        col = heads.index(headers[elastic]) if headers[elastic] in heads else 0
        widths = _width(heads, rows)
        room = WIDTH - (sum(widths) - widths[col] + 2 * (len(widths) - 1))
        if room >= min(widths[col], min_elastic):
            break
    headers, align, elastic = heads, aligns, col
    room = max(room, len(headers[elastic]), 8)
    if widths[elastic] > room:
        rows = [[_shorten(c, room) if i == elastic else c for i, c in enumerate(r)] for r in rows]
    lines = fmt.table(headers, rows, align).split("\n")
    out = [paint(lines[0], "head", color), lines[1]]
    out += [paint(line, style, color) for line, style in zip(lines[2:], styles)]
    return "\n".join(out)


def short_model(name: str) -> str:
    """`claude-sonnet-4-5-20250929` -> `sonnet-4-5`: the vendor prefix and date left out."""
    name = DATED.sub("", name)
    return name[len("claude-") :] if name.startswith("claude-") and len(name) > 7 else name
