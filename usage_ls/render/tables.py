"""Terminal tables of the protocol's results: data in, text out (the CLI and the demo).

Every user-controlled string goes through `fmt.table`, which makes it plain (no escape
sequences) and fits columns.
"""

from __future__ import annotations

from usage_ls.render import text as fmt
from usage_ls.render.fit import fitted


def summary(s: dict) -> str:
    rows = [
        ["Credits (premium)", fmt.credits(s["credits"])],
        ["Cost (USD)", fmt.usd(s["costUsd"])],
        ["Messages", fmt.count(s["messages"])],
        ["Input tokens", fmt.count(s["inputTokens"])],
        ["Output tokens", fmt.count(s["outputTokens"])],
        ["Cache read tokens", fmt.count(s["cacheReadTokens"])],
        ["Cache write tokens", fmt.count(s["cacheWriteTokens"])],
        ["Total tokens", fmt.count(s["totalTokens"])],
    ]
    if s["unpricedMessages"]:
        rows.append(["Unpriced messages", fmt.count(s["unpricedMessages"])])
    return fmt.table(["", ""], rows, "lr")


def cost(row: dict) -> str:
    text = fmt.usd(row["costUsd"])
    if row.get("unpricedMessages"):
        text += f" +{row['unpricedMessages']} unpriced" if row["unpricedMessages"] < row["messages"] else ""
        if row["unpricedMessages"] == row["messages"]:
            text = "unpriced"
    return text


def models(result: dict) -> str:
    """Cache reads and writes in columns of their own while the model names fit beside them in
    80 columns, else one Cache column; numbers compact before any name is shortened."""
    names = [m["model"] for m in result["models"]]

    def table(split: bool) -> str:
        def rows(compact: bool) -> list[list[str]]:
            tok = fmt.tokens if compact else fmt.count
            out = []
            for m in result["models"]:
                cache = (
                    [m["cacheReadTokens"], m["cacheWriteTokens"]]
                    if split
                    else [m["cacheReadTokens"] + m["cacheWriteTokens"]]
                )
                priced = m["unpricedMessages"] < m["messages"]
                out.append(
                    [
                        m["model"],
                        fmt.count(m["messages"]),
                        tok(m["inputTokens"]),
                        tok(m["outputTokens"]),
                        *(tok(c) for c in cache),
                        tok(m["totalTokens"]),
                        fmt.credits(m["credits"]) if priced else "unpriced",
                        cost(m),
                    ]
                )
            return out

        cache = ["Cache read", "Cache write"] if split else ["Cache"]
        headers = ["Model", "Msgs", "Input", "Output", *cache, "Total", "Credits", "Cost"]
        room = min(max(map(len, names), default=5), 40)
        return fitted(headers, rows, "l" + "r" * (len(headers) - 1), [None] * len(names), False, min_elastic=room)

    text = table(True)
    shortened = text.count("…") > sum(n.count("…") for n in names)
    return table(False) if shortened else text


def projects(result: dict) -> str:
    rows = [
        [
            p["project"],
            fmt.count(p["messages"]),
            fmt.count(p["totalTokens"]),
            fmt.credits(p["credits"]),
            cost(p),
        ]
        for p in result["projects"]
    ]
    return fmt.table(["Project", "Msgs", "Tokens", "Credits", "Cost"], rows)


def today(result: dict, split: dict) -> str:
    """`usage/summary` and `usage/tokenSplit` of the same filter."""
    return summary(result) + "\n\n" + models(split)


def charge(r: dict) -> str:
    """What an interaction costs in its own currency: Premium credits (`1.2 cr`) or BYOK dollars."""
    if r["billing"] == "premium":
        return "unpriced" if r["credits"] is None else fmt.credits(r["credits"]) + " cr"
    return "unpriced" if r.get("costSource") == "unpriced" else fmt.usd(r["costUsd"])


def interactions(result: dict) -> str:
    """Newest first (or as sorted), in 80 columns: the time to the minute and compact numbers
    when the exact ones do not fit; a User column only when the rows have more than one user;
    the charge in the interaction's own currency (credits or dollars; the JSON has both)."""
    users = len({r["user"] for r in result["rows"]}) > 1

    def rows(compact: bool) -> list[list[str]]:
        tok = fmt.tokens if compact else fmt.count
        out = []
        for r in result["rows"]:
            when = r["timestamp"][:19].replace("T", " ")
            out.append(
                [
                    when[5:16] if compact else when,
                    r["project"],
                    r["model"],
                    *([r["user"]] if users else []),
                    tok(r["inputTokens"]),
                    tok(r["outputTokens"]),
                    tok(r["cacheReadTokens"] + r["cacheWriteTokens"]),
                    charge(r),
                ]
            )
        return out

    headers = ["Time", "Project", "Model", *(["User"] if users else []), "Input", "Output", "Cache", "Charge"]
    align = "lll" + ("l" if users else "") + "rrrr"
    out = fitted(headers, rows, align, [None] * len(result["rows"]), False, elastic=2, min_elastic=16)
    return out + f"\n{len(result['rows'])} of {result['total']} interactions"


def _micro(x: float | None) -> str:
    return "unpriced" if x is None else f"${x:,.6f}"


def session(result: dict) -> str:
    """`sessions.session_report`: the session's models, and Claude Code's own cost beside ours."""
    check = result["toolCost"]
    tool_cost = {m["model"]: m["tool"]["costUsd"] for m in check["models"]} if check else {}
    rows = []
    for m in result["models"]:
        row = [
            m["model"],
            fmt.count(m["messages"]),
            fmt.count(m["inputTokens"]),
            fmt.count(m["outputTokens"]),
            fmt.count(m["cacheReadTokens"]),
            fmt.count(m["cacheWriteTokens"]),
            "unpriced" if m["unpricedMessages"] == m["messages"] else _micro(m["costUsd"]),
        ]
        if check:
            theirs = tool_cost.get(m.get("baseModel", m["model"]))
            row.append(_micro(theirs) if theirs is not None else "-")
        rows.append(row)
    headers = ["Model", "Msgs", "Input", "Output", "Cache read", "Cache write", "Cost"]
    if check:
        headers.append("Claude Code")
    out = [fmt.table(headers, rows) if rows else "no records of this session in the ledger"]
    if check is None:
        if "claude-code" in result["features"]:
            out.append("Claude Code wrote no cost-state for this session (versions before 2.1 do not).")
        return "\n".join(out)
    verdict = (
        f"Claude Code's own cost (cost-state): {_micro(check['toolUsd'])}; "
        f"ours for the same responses: {_micro(check['oursUsd'])}"
    )
    if check["agree"]:
        out.append(verdict + ": the same to the micro-dollar, token for token.")
    else:
        out.append(verdict + ". They differ:")
        out += [f"  {fmt.plain(m['model'])}: {'; '.join(m['differs'])}" for m in check["models"] if m["differs"]]
    if rows and abs(result["costUsd"] - check["oursUsd"]) > 1e-6:
        out.append(
            f"The ledger holds {_micro(result['costUsd'])} for this session: a response that is in several "
            "sessions' transcripts (copied by --resume or --fork-session) is counted once, under one of them."
        )
    return "\n".join(out)


KIND_LABELS = {"agent": "agent", "skill": "skill", "plugin": "plugin", "mcp": "MCP server", "query": "query source"}


def agents(result: dict) -> str:
    """`usage/attribution`: each agent, skill, plugin, MCP server and query source, with its share of the total."""
    total = result["total"]
    whole = total["costUsd"] or 0.0
    rows = []
    for kind, entries in result["by"].items():
        for e in entries:
            share = f"{100 * (e['costUsd'] or 0.0) / whole:.0f}%" if whole else "-"
            row = [KIND_LABELS.get(kind, kind), e["name"], fmt.count(e["messages"]), fmt.tokens(e["totalTokens"])]
            rows.append(row + [fmt.credits(e["credits"]), cost(e), share])
    if not rows:
        return (
            "no attributed usage in this range: Claude Code's sub-agents, skills, plugins and\n"
            "MCP servers show here (from its transcripts, or its OpenTelemetry events:\n"
            "`usage-ls setup claude-code`)"
        )
    part = result["attributed"]
    table = fmt.table(["Kind", "Name", "Msgs", "Tokens", "Credits", "Cost", "Share"], rows, "llrrrrr")
    return f"{table}\n\nattributed: {cost(part)} of {cost(total)} ({fmt.count(part['messages'])} of {fmt.plural(total['messages'], 'message')})"
