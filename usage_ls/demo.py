"""`usage-ls demo`: start the real server over stdio as an editor would, feed it a realistic
day of AI usage, and print what the editor shows: status bar, a hover, today's tables.

Data goes to a fresh temporary directory, never to the user's own ledger.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from usage_ls import __version__, days
from usage_ls.lspclient import raw_converter
from usage_ls.render import text as fmt

# (model, provider, billing, feature, share of interactions, typical input, output, cache read)
MIX = [
    ("claude-sonnet-4-5", "anthropic", "premium", "agent", 0.38, 6_000, 1_800, 42_000),
    ("gpt-4.1-mini", "openai", "premium", "completion", 0.30, 1_200, 120, 0),
    ("claude-3-5-haiku-20241022", "anthropic", "premium", "chat", 0.12, 2_500, 600, 8_000),
    ("gemini-2.5-pro", "google", "byok", "chat", 0.14, 9_000, 2_200, 0),
    ("acme-coder-v2", None, "byok", "completion", 0.06, 1_500, 300, 0),  # not in any price table
]
PROJECTS = [("widget", 0.55), ("api-gateway", 0.30), ("docs-site", 0.15)]
DOC = """# Which model for which job

- Agent work: claude-sonnet-4-5 (cache helps a lot)
- Inline completions: gpt-4.1-mini
- Long reviews with our own key: gemini-2.5-pro
"""


def realistic_records(tz: dt.tzinfo, now: dt.datetime, seed: int = 7) -> list[dict]:
    """A week of usage, heaviest today; deterministic for a given seed and day."""
    rng = random.Random(seed)
    records = []
    weights = [m[4] for m in MIX]
    for back in range(6, -1, -1):
        day = (now - dt.timedelta(days=back)).date()
        start = dt.datetime.combine(day, dt.time(8, 30), tz)
        end = now if back == 0 else dt.datetime.combine(day, dt.time(19, 0), tz)
        if end <= start:  # early in the morning: today's work so far starts at midnight
            start = dt.datetime.combine(day, dt.time(0, 0), tz)
        n = 20 + 9 * (6 - back) + rng.randint(0, 8)
        span = max(1.0, (end - start).total_seconds())
        for i in range(n):
            model, provider, billing, feature, _, inp, out, cache = rng.choices(MIX, weights)[0]
            project = rng.choices([p for p, _ in PROJECTS], [w for _, w in PROJECTS])[0]
            when = start + dt.timedelta(seconds=span * (i + rng.random()) / n)
            scale = rng.lognormvariate(0, 0.5)
            rec = {
                "id": f"demo-{day.isoformat()}-{i}",
                "timestamp": when.isoformat(),
                "model": model,
                "billing": billing,
                "project": project,
                "user": "dev",
                "inputTokens": int(inp * scale),
                "outputTokens": int(out * scale),
                "cacheReadTokens": int(cache * scale),
                "cacheWriteTokens": int(cache * 0.08 * scale) if cache else 0,
                "feature": feature,
                "session": f"s-{day.isoformat()}-{i // 6}",
            }
            if provider:
                rec["provider"] = provider
            records.append(rec)
    return records


async def _run(data_dir: Path) -> int:
    client = LanguageClient("usage-ls-demo", __version__, converter_factory=raw_converter)
    pushes: list[dict] = []
    messages: list[str] = []

    @client.feature("usage/didChange")
    def _did_change(params):
        pushes.append(params)

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def _show(params):
        messages.append(params.message)

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def _log(params):
        pass

    # the demo's own seeded day only: not the logs of the AI tools on this machine
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir), "USAGE_LS_WATCH": "off"}
    await client.start_io(sys.executable, "-m", "usage_ls", "serve", "--stdio", env=env)
    workspace = data_dir / "widget"
    workspace.mkdir()
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            process_id=os.getpid(),
            root_uri=workspace.as_uri(),
            initialization_options={"dataDir": str(data_dir)},
        )
    )
    client.initialized(types.InitializedParams())
    send = client.protocol.send_request_async

    from usage_ls.config import load_config

    tz = load_config(data_dir).tz
    now = dt.datetime.now(tz)
    records = realistic_records(tz, now)
    # one broken record, as a buggy AI feature might send: it is refused, the rest are kept
    records.append({"model": "gpt-4.1-mini", "inputTokens": "12k", "outputTokens": 40})
    result = await send("usage/record", {"records": records})
    again = await send("usage/record", {"records": records[:50]})  # a client retrying

    print(f"usage-ls demo: a real `usage-ls serve` over stdio, data in {data_dir}\n")
    print(
        f"Recorded {result['accepted']} interactions over 7 days; "
        f"re-sent 50 were counted once ({again['duplicates']} duplicates skipped)."
    )
    for r in result["rejected"]:
        print(f"Rejected record {r['index']}: {r['field']}: {r['message']}")

    # the server pushes the new totals (and, once warmed up, the insights lines) by itself
    for _ in range(100):
        if any(p["today"]["messages"] for p in pushes) and "Burn rate" in pushes[-1]["statusBar"]["tooltip"]:
            break
        await asyncio.sleep(0.05)
    status = await send("usage/statusBar", {})
    byok = await send("usage/statusBar", {"billing": "byok"})
    print("\n== Status bar ==")
    print(f"  premium: {status['text']}    BYOK: {byok['text']}    (level: {status['level']})")
    print("\n== Status bar tooltip (Markdown) ==")
    print(_indent(status["tooltip"]))

    uri = (workspace / "NOTES.md").as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=DOC))
    )
    line = 2
    col = DOC.splitlines()[line].index("claude-sonnet-4-5") + 4
    hover = await client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line=line, character=col))
    )
    print(f'\n== Hover over "claude-sonnet-4-5" in NOTES.md (line {line + 1}) ==')
    print(_indent(hover.contents.value if hover else "(no hover)"))

    from usage_ls.render import periods as periods_render
    from usage_ls.render import tables
    from usage_ls.render.text import table

    split = await send("usage/tokenSplit", {})
    projects = await send("usage/projects", {})
    summary = await send("usage/summary", {})
    today = days.today(tz)
    print(
        f"\n== Today ({today}): {summary['messages']} messages, {summary['totalTokens']:,} tokens, "
        f"{summary['credits']:.1f} credits, {fmt.usd(summary['costUsd'])} list price, "
        f"{summary['unpricedMessages']} unpriced =="
    )
    print("\nToken split by model:")
    print(_indent(tables.models(split)))
    print("\nBy project:")
    print(_indent(tables.projects(projects)))
    week = await send("usage/daily", {"from": days.shift(today, -6), "to": today})
    print("\nLast 7 days:")
    print(_indent(periods_render.daily(week)))
    rows = await send("usage/interactions", {"limit": 5, "sort": "-costUsd"})
    print(f"\nMost expensive interactions today (5 of {rows['total']}):")
    print(
        _indent(
            table(
                ["Time", "Project", "Model", "Tokens", "Cost"],
                [
                    [
                        r["timestamp"][11:19],
                        r["project"],
                        r["model"],
                        f"{r['totalTokens']:,}",
                        "unpriced" if r["costUsd"] is None else f"${r['costUsd']:.4f}",
                    ]
                    for r in rows["rows"]
                ],
                "lllrr",
            )
        )
    )
    try:
        page = await send("usage/dashboard", {"from": days.shift(today, -6), "to": today})
        out = Path(tempfile.gettempdir()) / "usage-ls-demo-dashboard.html"
        out.write_text(page["html"], encoding="utf-8")
        print(f"\n== Dashboard ==\n  the server's Usage Dashboard page ({len(page['html']):,} bytes) is in {out}")
        print("  open it in a browser, or run `usage-ls dashboard` for the live page")
    except Exception as exc:  # the dashboard may not be in this build
        print(f"\n== Dashboard ==\n  {exc}")
    print(
        f"\nThe server pushed usage/didChange {len(pushes)} time(s); last status: {pushes[-1]['statusBar']['text'] if pushes else '-'}"
    )
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return 0


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def run_demo(keep: bool = False) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="usage-ls-demo-"))
    try:
        return asyncio.run(_run(data_dir))
    finally:
        if keep:
            print(f"\n(data kept in {data_dir})")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
