"""Text for people: status bar, tooltips, hovers and terminal tables.

Pure functions over the plain data the queries return. Every user-controlled string (model,
project, user) goes through `md` (Markdown/HTML) or `plain` (terminal) before it is shown.
"""

from __future__ import annotations

import html
import re
import unicodedata

from sparklines import sparklines

# inline markup, links, table cells; HTML is escaped first. Characters that only matter at the
# start of a line (# - + .) are left alone: names never start a line here, and Neovim shows
# backslash escapes literally.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~<>])")


def md(text: str) -> str:
    """A user string as literal Markdown text: no markup, no HTML, no links."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(plain(text), quote=True))


def plain(text: str) -> str:
    """A user string safe for a terminal: control and format characters shown as '?'."""
    return "".join("?" if unicodedata.category(c) in ("Cc", "Cf") else c for c in str(text))


def spark(values: list[float]) -> str:
    values = [max(0.0, float(v)) for v in values]
    if not values:
        return ""
    top = max(values)
    return sparklines(values, minimum=0, maximum=top if top > 0 else 1)[0]


def tokens(n: float) -> str:
    n = float(n)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return f"{int(n)}"


def count(n: float) -> str:
    return f"{int(n):,}"


def plural(n: int, word: str) -> str:
    return f"{count(n)} {word}" + ("" if n == 1 else "s")


def usd(x: float | None) -> str:
    if x is None:
        return "unpriced"
    if x == 0:
        return "$0.00"
    if abs(x) < 0.01:
        return f"${x:.4f}"
    return f"${x:,.2f}"


def credits(x: float | None) -> str:
    if x is None:
        return "unpriced"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.1f}"


def table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A plain aligned table; `align` is a string of 'l'/'r' per column. Columns that say
    nothing are left out (`without_empty_columns`; the JSON keeps everything)."""
    headers, rows, align = without_empty_columns(headers, rows, align or "l" + "r" * (len(headers) - 1))
    cells = [[plain(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values):
        return "  ".join(v.ljust(w) if a == "l" else v.rjust(w) for v, w, a in zip(values, widths, align)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def without_empty_columns(
    headers: list[str], rows: list[list[str]], align: str
) -> tuple[list[str], list[list[str]], str]:
    """The table without the columns that say nothing: one empty in every row (no sub-agents in
    any session), and a Credits column of 0.0 in every row (BYOK-only usage)."""
    if not rows:
        return headers, rows, align
    keep = [
        i
        for i, h in enumerate(headers)
        if not all(r[i] == "" for r in rows) and not (h == "Credits" and all(r[i] in ("0.0", "0") for r in rows))
    ]
    if len(keep) == len(headers):
        return headers, rows, align
    return [headers[i] for i in keep], [[r[i] for i in keep] for r in rows], "".join(align[i] for i in keep)


def md_table(headers: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)
