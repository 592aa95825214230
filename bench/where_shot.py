"""A picture of the dashboard's "Where it went" card for docs/dashboard.md.

    .venv/bin/python bench/where_shot.py [docs]

Records a day of Claude Code calls attributed as its transcripts and OpenTelemetry events say
(sub-agents, a skill, MCP servers, a plugin) in a temporary data dir, serves the live dashboard
on 127.0.0.1 and photographs the card in headless Chromium, light and dark.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

FEATURES = [  # (feature, share of calls)
    ("claude-code", 40),
    ("claude-code agent=code-reviewer query=subagent", 14),
    ("claude-code agent=code-reviewer mcp=github query=subagent", 8),
    ("claude-code agent=Explore query=subagent", 10),
    ("claude-code agent=test-runner query=subagent", 5),
    ("claude-code skill=pdf", 6),
    ("claude-code skill=frontend-design plugin=design-kit", 4),
    ("claude-code mcp=github", 7),
    ("claude-code mcp=linear", 3),
    ("claude-code query=auxiliary", 3),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-dev-shm-usage"]


def fill(data: Path) -> None:
    rng = random.Random(7)
    svc = Usage(data_dir=data, tag="shots").open()
    now = dt.datetime.now(svc.tz).replace(microsecond=0)
    records = []
    for i in range(400):
        feature = rng.choices([f for f, _ in FEATURES], [w for _, w in FEATURES])[0]
        records.append(
            {
                "id": f"where-{i}",
                "timestamp": (now - dt.timedelta(seconds=40 * i)).isoformat(),
                "model": "claude-sonnet-4-5" if "agent=" in feature or rng.random() < 0.7 else "claude-opus-4-1",
                "provider": "anthropic",
                "project": "widget",
                "inputTokens": rng.randint(200, 4000),
                "outputTokens": rng.randint(50, 1500),
                "cacheReadTokens": rng.randint(5_000, 60_000),
                "feature": feature,
            }
        )
    try:
        svc.record(records)
    finally:
        svc.close()


def main(out_dir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        fill(data)
        svc = Usage(data_dir=data, tag="shots", writable=False).open()
        server = DashboardServer(svc, {"preset": "today"})
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                for scheme in ("light", "dark"):
                    page = browser.new_page(viewport={"width": 1440, "height": 900}, color_scheme=scheme)
                    page.goto(server.url)
                    page.wait_for_selector("#where .where-col")
                    path = out_dir / f"dashboard-where-{scheme}.png"
                    page.locator("#where").screenshot(path=str(path))
                    print(path)
                    page.close()
                browser.close()
        finally:
            server.shutdown()
            svc.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
