"""Screenshots of the dashboard for docs/: light and dark, Premium and BYOK.

    .venv/bin/python bench/dashboard_shots.py [docs]

Fills a temporary data dir with 45 days of synthetic usage (bench/dashboard_data.py) plus one
runaway agent session nine days ago (a spike, and tips for the Insights card), serves the live
dashboard on 127.0.0.1 and photographs it in headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dashboard_data import generate
from playwright.sync_api import sync_playwright

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage


def runaway_session(data: Path, back: int = 9) -> None:
    """An agent stuck in a loop `back` days ago: 260 short claude-opus-4-1 answers on the plan's
    credits, in ml-experiments, within two hours."""
    svc = Usage(data_dir=data, tag="shots").open()
    try:
        day = dt.date.fromisoformat(svc.today()) - dt.timedelta(days=back)
        start = dt.datetime.combine(day, dt.time(14, 5), svc.tz)
        svc.record(
            [
                {
                    "id": f"runaway-{i}",
                    "timestamp": (start + dt.timedelta(seconds=27 * i)).isoformat(),
                    "model": "claude-opus-4-1",
                    "provider": "anthropic",
                    "billing": "premium",
                    "project": "ml-experiments",
                    "user": "bob",
                    "inputTokens": 3_000 + 7 * i,
                    "outputTokens": 280,
                    "session": "runaway-agent",
                    "feature": "agent",
                }
                for i in range(260)
            ]
        )
        svc.ledger.checkpoint()
    finally:
        svc.close()


ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def main(out_dir: Path, per_day: int = 160, full: bool = True) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir(parents=True)
        (data / "config.toml").write_text(
            "[budgets]\ndaily_credits = 600\nmonthly_credits = 12000\nmonthly_byok_usd = 100\n", encoding="utf-8"
        )
        generate(data, n_days=45, per_day=per_day)
        runaway_session(data)
        svc = Usage(data_dir=data, tag="shots", writable=False).open()
        server = DashboardServer(svc, {"preset": "30d"})
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                for scheme in ("light", "dark"):
                    page = browser.new_page(
                        viewport={"width": 1440, "height": 900}, color_scheme=scheme, device_scale_factor=1
                    )
                    page.goto(server.url)
                    page.wait_for_function("() => window.usageDashboard && window.usageDashboard.ready")
                    gen = page.eval_on_selector("#app", "e => e.dataset.gen")
                    page.select_option("#page-size", "25")  # a shorter page for the picture
                    page.wait_for_function(
                        f"() => document.getElementById('app').dataset.gen !== '{gen}' && "
                        "document.getElementById('app').getAttribute('aria-busy') === 'false'"
                    )
                    for billing in ("premium", "byok"):
                        if billing == "byok":
                            gen = page.eval_on_selector("#app", "e => e.dataset.gen")
                            page.click('#billing button[data-billing="byok"]')
                            page.wait_for_function(
                                f"() => document.getElementById('app').dataset.gen !== '{gen}' && "
                                "document.getElementById('app').getAttribute('aria-busy') === 'false'"
                            )
                        page.mouse.move(5, 5)
                        path = out_dir / f"dashboard-{scheme}-{billing}.png"
                        page.screenshot(path=str(path), full_page=full)
                        print(path)
                    page.close()
                browser.close()
        finally:
            server.shutdown()
            svc.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
