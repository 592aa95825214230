"""Fixtures for the dashboard tests: a known ledger, the live dashboard server, and Chromium.

The known data set (dashboard_known.py) is small enough to add up by hand; the tests write out
every expected number next to the records it comes from. Days are relative to today (UTC).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from dashboard_known import known_records, seed, wait_settled

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """A data dir holding the known ledger; `today` is the UTC day the records count from."""
    data = tmp_path_factory.mktemp("known") / "data"
    today = dt.datetime.now(dt.UTC).date()
    records = known_records(today)
    # a daily budget of 16 credits: today's 14.7 is 92% of it
    seed(data, records, 'timezone = "UTC"\nuser = "tester"\n[budgets]\ndaily_credits = 16\n')
    return {"data_dir": data, "today": today, "records": records}


@pytest.fixture(scope="module")
def server(known):
    svc = Usage(data_dir=known["data_dir"], tag="cli", writable=False).open()
    srv = DashboardServer(svc, {})
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    svc.close()


def _chromium_or_skip():
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    message = f"{CHROMIUM} is missing (scripts/setup.d/10-chromium.sh installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    # module scope, not session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, which would break every asyncio test that runs after it
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Guard:
    """What a page must never do: open a dialog, reach beyond loopback, break its CSP."""

    def __init__(self, page, allowed_prefixes: tuple[str, ...]):
        self.page = page
        self.allowed = allowed_prefixes + ("data:", "blob:", "about:")
        self.dialogs: list[str] = []
        self.external: list[str] = []
        page.on("dialog", self._dialog)
        page.route("**/*", self._route)
        page.add_init_script(
            "window.__csp = [];"
            "document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.allowed):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def check(self):
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.external == [], f"requests left the machine: {self.external}"
        violations = self.page.evaluate("window.__csp || []")
        assert violations == [], f"CSP violations: {violations}"


@pytest.fixture
def open_page(browser):
    """open_page(url | html=..., scheme=, init_script=, bridge=, timezone_id=, fixed_time=) -> (page, guard),
    loaded and ready. `fixed_time` (a datetime) is what the page's `Date` says, for good.

    Every page is checked by its guard on teardown."""
    opened = []

    def _open(
        url: str | None = None,
        scheme: str = "light",
        html: str | None = None,
        init_script: str | None = None,
        allowed: tuple[str, ...] = ("http://127.0.0.1:",),
        bridge=None,
        timezone_id: str | None = None,
        fixed_time=None,
    ):
        ctx = browser.new_context(
            viewport={"width": 1400, "height": 900}, color_scheme=scheme, accept_downloads=True, timezone_id=timezone_id
        )
        page = ctx.new_page()
        if fixed_time is not None:
            page.clock.set_fixed_time(fixed_time)
        guard = Guard(page, allowed)
        if init_script:
            page.add_init_script(init_script)
        if bridge is not None:
            page.expose_function("__usageBridge", bridge)
        opened.append((ctx, guard))
        if html is not None:  # served from a made-up loopback URL, so init scripts run as on navigation
            url = "http://127.0.0.1:9/webview.html"
            page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
        if url is not None:
            page.goto(url)
            page.wait_for_function("() => window.usageDashboard && window.usageDashboard.ready === true")
        return page, guard

    yield _open
    for ctx, guard in opened:
        try:
            guard.check()
        finally:
            ctx.close()


@pytest.fixture
def act():
    """act(page, fn): do something that refreshes the page and wait until it has settled."""

    def _act(page, fn):
        before = page.eval_on_selector("#app", "e => e.dataset.gen")
        fn()
        wait_settled(page, before)

    return _act
