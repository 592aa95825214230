"""Dashboard speed at 90 days x 2,000 interactions a day (180k records).

    .venv/bin/python bench/dashboard_bench.py [--days 90] [--per-day 2000] [--data DIR]

Generates the ledger (bench/dashboard_data.py) into a temporary data dir unless --data names
one already filled, then measures:
  - server: the query methods and the whole `usage/dashboard` page for the 90-day range;
  - Chromium (headless, /usr/bin/chromium): time to first paint and to the first full render
    of the live page, then the time each interaction takes to put new numbers and charts on
    screen ("numbers") and to refill the interactions table ("table"), first time (the server
    computes) and again (answered from caches).
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dashboard_data import generate

from usage_ls import days
from usage_ls.dashboard import build_page
from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def timed(fn, repeat: int = 1):
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        out.append(time.perf_counter() - t0)
    return value, out


def server_side(data: Path, flt: dict) -> None:
    print("\nserver:")
    for label, params in (("page, 90 days, cold process", flt), ("page, last 7 days, cold process", {"preset": "7d"})):
        t0 = time.perf_counter()
        cold = Usage(data_dir=data, tag="cli", writable=False).open()
        try:
            build_page(cold, {**params, "mode": "browser"})
        finally:
            cold.close()
        print(f"  {label:<32}{ms(time.perf_counter() - t0)}  (open + every query + HTML)")
    svc = Usage(data_dir=data, tag="cli", writable=False).open()
    try:
        print("  one process, each query cold, then the page from warm caches:")
        for name in ("summary", "token_split", "projects", "users", "daily"):
            _, t = timed(lambda: getattr(svc, name)(flt))
            print(f"    {name:<28}{ms(t[0])}")
        for label, extra in (
            ("interactions page 1", {}),
            ("interactions page 2", {"offset": 50}),
            ("interactions by model", {"sort": "model"}),
        ):
            _, t = timed(lambda: svc.interactions({**flt, **extra, "limit": 50}))
            print(f"    {label:<28}{ms(t[0])}")
        html, t = timed(lambda: build_page(svc, {**flt, "mode": "browser"})["html"], repeat=3)
        print(f"    {'usage/dashboard page':<28}{ms(t[0])} first, {ms(min(t[1:]))} again  ({len(html) / 1024:.0f} KiB)")
    finally:
        svc.close()


def browser_side(data: Path, flt: dict, rounds: int) -> None:
    from playwright.sync_api import sync_playwright

    svc = Usage(data_dir=data, tag="cli", writable=False).open()
    srv = DashboardServer(svc, flt)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            loads = []
            for _ in range(rounds):
                ctx = browser.new_context(viewport={"width": 1440, "height": 900})
                pg = ctx.new_page()
                t0 = time.perf_counter()
                pg.goto(srv.url)
                pg.wait_for_function("() => window.usageDashboard && window.usageDashboard.ready")
                wall = time.perf_counter() - t0
                # "ready" can come before the paint that records first-contentful-paint
                pg.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0")
                fcp = pg.evaluate(
                    "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"
                )
                render = pg.evaluate("() => performance.getEntriesByName('usage-first-render')[0].startTime")
                loads.append((wall, fcp / 1000, render / 1000))
                last = (ctx, pg)
                if _ < rounds - 1:
                    ctx.close()
            print(f"\nChromium, the live page over {flt['from']}..{flt['to']} ({rounds} loads, median):")
            print(f"  {'first contentful paint':<34}{ms(statistics.median(x[1] for x in loads))}")
            print(f"  {'all numbers, charts, tables':<34}{ms(statistics.median(x[2] for x in loads))}")
            print(f"  {'navigation to ready (wall)':<34}{ms(statistics.median(x[0] for x in loads))}")
            ctx, pg = last

            def act(label: str, selector: str, how: str = "click", value: str | None = None):
                gen = pg.eval_on_selector("#app", "e => e.dataset.gen")
                t0 = time.perf_counter()
                if how == "click":
                    pg.click(selector)
                else:
                    pg.select_option(selector, value)
                pg.wait_for_function(
                    "([g]) => { const a = document.getElementById('app');"
                    " return a.dataset.gen !== g && a.getAttribute('aria-busy') === 'false'; }",
                    arg=[gen],
                )
                wall = time.perf_counter() - t0
                d = pg.eval_on_selector("#app", "e => ({main: e.dataset.mainMs, rows: e.dataset.rowsMs})")
                main = f"{float(d['main']):8.1f} ms" if d["main"] else "       -   "
                print(f"  {label:<34}numbers {main}   table {float(d['rows']):8.1f} ms   (wall {wall * 1000:.0f} ms)")
                pg.eval_on_selector("#app", "e => { delete e.dataset.mainMs; delete e.dataset.rowsMs; }")

            print("\nChromium, applying a filter (first time: the server computes; again: cached):")
            act("project = widget", "#project", "select", "widget")
            act("all projects", "#project", "select", "")
            act("project = widget (again)", "#project", "select", "widget")
            act("all projects (again)", "#project", "select", "")
            act("model = gpt-4.1-mini", "#model", "select", "gpt-4.1-mini")
            act("all models", "#model", "select", "")
            act("BYOK", '#billing button[data-billing="byok"]')
            act("Premium (again)", '#billing button[data-billing="premium"]')
            act("Last 30 days", '#date-presets button[data-preset="30d"]')
            act("Today", '#date-presets button[data-preset="today"]')
            act("Last 30 days (again)", '#date-presets button[data-preset="30d"]')
            print("\nChromium, the interactions table (30 days):")
            act("sort by total tokens", '#rows-table th[data-sort="totalTokens"]')
            act("sort by model", '#rows-table th[data-sort="model"]')
            act("next page", "#next")
            act("next page", "#next")
            act("250 rows a page", "#page-size", "select", "250")
            ctx.close()
            browser.close()
    finally:
        srv.shutdown()
        srv.server_close()
        svc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--per-day", type=int, default=2000)
    ap.add_argument("--data", type=Path, help="an already filled data dir (skips generating)")
    ap.add_argument("--loads", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "data"
            info = generate(data, args.days, args.per_day)
            print(f"generated {info['records']:,} records over {args.days} days in {info['seconds']:.1f} s")
        probe = Usage(data_dir=data, tag="cli", writable=False).open()
        today = probe.today()
        probe.close()
        flt = {"from": days.shift(today, -(args.days - 1)), "to": today}
        server_side(data, flt)
        browser_side(data, flt, args.loads)


if __name__ == "__main__":
    main()
