"""A new user in the real VS Code workbench (code-server + headless Chromium): a fresh data
directory with no config, a home holding Claude Code and Codex logs. The server the extension
starts finds both tools, imports their history with work-done progress in the status bar, and a
line Claude Code appends afterwards shows in the status bar's tooltip."""

from __future__ import annotations

import json
import re
import time

import pytest
from new_user import answer_line, make_home  # tests/new_user.py
from test_vscode_extension import close_hovers, hover_text, shot, status_item
from vscode_workbench import CHROMIUM, CHROMIUM_ARGS, Workbench, missing, usage_ls

# every status bar text about the import, as soon as the workbench shows it (it is gone again
# when the import ends, a second or two later)
SEEN_PROGRESS = """
window.__progress = [];
new MutationObserver(() => {
  for (const item of document.querySelectorAll('footer .statusbar-item')) {
    const text = item.textContent.replace(/\\s+/g, ' ').trim();
    if (text.includes('Importing') && !window.__progress.includes(text)) window.__progress.push(text);
  }
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
"""


class NewUserBench(Workbench):
    """The harness's workbench, minus what a new user lacks: no config.toml, and nothing that
    turns the log watcher off (the test run's USAGE_LS_WATCH=off, tests/conftest.py)."""

    def prepare(self) -> None:
        super().prepare()
        (self.data_dir / "config.toml").unlink()

    def env(self) -> dict:
        env = super().env()
        env.pop("USAGE_LS_WATCH", None)
        return env


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    lacking = missing()
    if lacking:
        pytest.skip("VS Code e2e needs: " + ", ".join(lacking))
    wb = NewUserBench(tmp_path_factory.mktemp("vscode-new-user"))
    wb.transcript = make_home(wb.home, history_mb=40)  # a history to import, as users have
    wb.start()
    yield wb
    wb.stop()


def test_a_new_user_sees_history_imported_with_progress_and_a_live_line(bench):
    from playwright.sync_api import sync_playwright

    assert not list(bench.data_dir.iterdir())  # fresh: no config, no ledger
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 860})
        page.set_default_timeout(30_000)
        page.add_init_script(SEEN_PROGRESS)
        page.goto(bench.url)
        page.wait_for_selector(".monaco-workbench", timeout=90_000)
        try:
            # the extension host starts with the page: the server, then the import's progress
            # in the status bar ("usage-ls: Importing Claude Code logs"), for as long as it
            # lasts: the page notes every such text as it appears (SEEN_PROGRESS)
            deadline = time.monotonic() + 60
            seen: list[str] = []
            while time.monotonic() < deadline:
                seen = page.evaluate("window.__progress || []")
                showing = page.locator("footer .statusbar-item").all_inner_texts()
                if seen and not any("Importing" in t for t in showing):
                    break  # the import is over
                time.sleep(0.2)
            # VS Code shows a progress message only once it has lasted a moment: the sample
            # sessions alone import too fast to be drawn on a quiet machine (CI saw none), hence
            # the 40 MB of history a user has (the Neovim test checks every `$/progress` message)
            assert any(re.search(r"Importing (Claude Code|Codex) logs", t) for t in seen), seen
            # the history is in the ledger: the sample sessions' 4 Claude Code answers ($0.279211,
            # as ccusage counts them) and 2 Codex turns ($0.031)
            report = usage_ls(  # the sample sessions (project widget; the generated history is widget-0 ...)
                bench.data_dir,
                "report",
                "models",
                "--from",
                "2026-01-01",
                "--to",
                "2030-12-31",
                "--project",
                "widget",
                "--json",
            )
            models = json.loads(report)["models"]
            assert sum(m["messages"] for m in models) == 6, models
            assert round(sum(m["costUsd"] for m in models if m["model"].startswith("claude")), 6) == 0.279211
            assert round(sum(m["costUsd"] for m in models if m["model"] == "gpt-5-codex"), 6) == 0.031
            # the status bar's tooltip lists the live sources the server found
            status_item(page).hover()
            tip = hover_text(page, "Live sources")
            assert "No AI usage recorded today." in tip
            assert "Claude Code (file events)" in tip and "Codex (file events)" in tip
            close_hovers(page)
            # Claude Code answers once more: the status bar counts it
            with bench.transcript.open("ab") as f:
                f.write(answer_line(bench.transcript))
            deadline = time.monotonic() + 15
            tip = ""
            while time.monotonic() < deadline and "1 message" not in tip:
                close_hovers(page)
                status_item(page).hover()
                tip = hover_text(page, "AI usage today")
            assert "claude-3-5-haiku-20241022 40.4k" in tip and "1 message · 40.4k tokens" in tip, tip
            assert re.search(r"Claude Code \(file events\): last record \d\d:\d\d:\d\d", tip), tip
            page.screenshot(path=shot(bench, "vscode-new-user.png"))
        finally:
            browser.close()
