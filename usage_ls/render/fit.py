"""Tables no wider than 80 columns: exact numbers while the name column keeps its room, else
compact ones (12.3M), then names shortened with "…"; colour (only when asked for: the CLI asks
on a TTY without NO_COLOR) on whole lines."""

from __future__ import annotations

import re
from collections.abc import Callable

from usage_ls.render import text as fmt

WIDTH = 80
DATED = re.compile(r"-20\d{6}$")  # claude-sonnet-4-5-20250929: the date says nothing in a list of top models
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
    column's cells are shortened to what room is left. An all-zero Credits column is left out
    first (BYOK-only usage), so its room goes to the rest."""
    for compact in (False, True):
        heads, rows, aligns = fmt.without_zero_credits(headers, make_rows(compact), align)
        col = elastic - (len(heads) < len(headers) and elastic > headers.index("Credits"))
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
