"""The VS Code extension in the real workbench (code-server + headless Chromium).

One workbench for the module; the tests run in file order and each states what the ledger
holds by then. Seeded today (UTC): premium credits = costUsd / $0.01 per credit.

    claude-sonnet-4-5  premium  in 1,000  out 200  cache read 5,000   $0.12  -> 12.0 cr  (widget)
    gpt-4.1-mini       premium  in 3,000  out 500                     $0.004 ->  0.4 cr  (api-gateway)
    gemini-2.5-pro     byok     in 2,000  out 100                     $0.25  (BYOK dollars)
    claude-sonnet-4-5  premium  yesterday                             $0.06  ->  6.0 cr

So the status bar starts at 12.4 cr; each later test adds a known amount.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from pathlib import Path

import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # reported by _need_everything()
    PlaywrightTimeout = TimeoutError

from vscode_workbench import CHROMIUM, CHROMIUM_ARGS, REPO, USAGE_LS, Workbench, missing, record, usage_ls

# UPDATE_SCREENSHOTS=1 rewrites the pictures in docs/; otherwise they go to the test's tmp dir
DOCS = REPO / "docs" if os.environ.get("UPDATE_SCREENSHOTS") == "1" else None
NOTES = """# Which model for what

We use claude-sonnet-4-5 for refactors and gpt-4.1-mini for completions.
Long documents go to gemini-2.5-pro.
"""


def _need_everything():
    lacking = missing()
    if lacking:
        message = "VS Code e2e needs: " + ", ".join(lacking) + " (run bash scripts/setup.d/20-vscode.sh)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


def _seed(data_dir: Path) -> None:
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(hour=12, minute=0, second=0)
    result = record(
        data_dir,
        [
            {
                "id": "seed-1",
                "model": "claude-sonnet-4-5",
                "inputTokens": 1000,
                "outputTokens": 200,
                "cacheReadTokens": 5000,
                "costUsd": 0.12,
                "project": "widget",
                "user": "tester",
            },
            {
                "id": "seed-2",
                "model": "gpt-4.1-mini",
                "inputTokens": 3000,
                "outputTokens": 500,
                "costUsd": 0.004,
                "project": "api-gateway",
                "user": "tester",
            },
            {
                "id": "seed-3",
                "model": "gemini-2.5-pro",
                "billing": "byok",
                "inputTokens": 2000,
                "outputTokens": 100,
                "costUsd": 0.25,
                "project": "widget",
                "user": "tester",
            },
            {
                "id": "seed-4",
                "model": "claude-sonnet-4-5",
                "inputTokens": 800,
                "outputTokens": 100,
                "costUsd": 0.06,
                "project": "widget",
                "user": "tester",
                "timestamp": yesterday.isoformat(),
            },
        ],
    )
    assert result["accepted"] == 4, result


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    _need_everything()
    if dt.datetime.now(dt.UTC).strftime("%H:%M") >= "23:57":
        time.sleep(200)  # "today" must not change under the test
    root = tmp_path_factory.mktemp("vscode")
    wb = Workbench(root, files={"NOTES.md": NOTES})
    wb.data_dir.mkdir(parents=True, exist_ok=True)
    _seed(wb.data_dir)
    wb.start()
    yield wb
    wb.stop()


@pytest.fixture(scope="module")
def page(bench):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 860})
        pg.set_default_timeout(30_000)
        pg.goto(bench.url)
        pg.wait_for_selector(".monaco-workbench", timeout=90_000)
        try:
            yield pg
        finally:
            browser.close()


@pytest.fixture(autouse=True)
def _explain_failures(request, bench):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot = bench.root / f"failed-{request.node.name}.png"
        try:
            request.getfixturevalue("page").screenshot(path=str(shot))
            print(f"screenshot of the workbench: {shot}")
        except Exception as exc:
            print(f"no screenshot: {exc}")
        print("---- usage-ls output channel / extension host log ----")
        print(bench.extension_log(tail=6000))


# -- helpers -------------------------------------------------------------------------------


def shot(bench, name: str) -> str:
    return str((DOCS or bench.root) / name)


def status_item(page):
    return page.locator(".statusbar-item[id$='usage-ls.credits']")


def status_text(page) -> str:
    return re.sub(r"\s+", " ", status_item(page).inner_text()).strip()


def wait_status(page, expected_prefix: str, timeout: float = 15) -> float:
    """Waits until the status bar starts with `expected_prefix`; returns how long it took."""
    start = time.monotonic()
    last = ""
    while time.monotonic() - start < timeout:
        try:
            last = status_text(page)
        except Exception:
            last = ""
        if last.startswith(expected_prefix):
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"status bar shows {last!r}, expected {expected_prefix!r}...")


def close_hovers(page) -> None:
    page.mouse.move(200, 600)  # the explorer's empty space: no hover, no tooltip
    page.keyboard.press("Escape")


def run_command(page, title: str) -> None:
    close_hovers(page)
    widget = page.locator(".quick-input-widget")
    box = widget.locator("input")
    for attempt in range(3):
        try:
            widget.wait_for(state="hidden", timeout=5000)  # the last one has finished closing
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
        page.keyboard.press("F1")
        try:
            box.fill(">" + title, timeout=5000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    row = widget.locator(".monaco-list-row", has_text=title).first
    row.wait_for(state="visible")
    page.keyboard.press("Enter")


def open_file(page, name: str) -> None:
    close_hovers(page)
    page.keyboard.press("Control+P")
    box = page.locator(".quick-input-widget input")
    box.wait_for(state="visible")
    box.fill(name)
    page.locator(".quick-input-widget .monaco-list-row", has_text=name).first.wait_for(state="visible")
    page.keyboard.press("Enter")
    page.locator(".tab.active", has_text=name).wait_for(state="visible")
    page.locator(".view-lines", has_text="claude-sonnet-4-5").first.wait_for(state="visible")


def hover_word(page, word: str) -> None:
    """Moves the mouse to the middle of `word` in the editor's rendered lines."""
    box = page.evaluate(
        """(word) => {
          for (const line of document.querySelectorAll('.monaco-editor .view-lines .view-line')) {
            const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
              const at = n.textContent.replace(/\\u00a0/g, ' ').indexOf(word);
              if (at >= 0) {
                const r = document.createRange();
                r.setStart(n, at); r.setEnd(n, at + word.length);
                const b = r.getBoundingClientRect();
                return {x: b.x + b.width / 2, y: b.y + b.height / 2};
              }
            }
          }
          return null;
        }""",
        word,
    )
    assert box, f"{word} is not on screen"
    page.mouse.move(box["x"] - 30, box["y"])
    page.mouse.move(box["x"], box["y"], steps=4)


def hover_text(page, must_contain: str, timeout: float = 15) -> str:
    hover = page.locator(".monaco-hover:visible", has_text=must_contain).first
    hover.wait_for(state="visible", timeout=timeout * 1000)
    return re.sub(r"[ \t]+", " ", hover.inner_text())


def dashboard_frame(page):
    # the visible webview: a hidden one (kept alive) stays in the page
    return page.frame_locator("iframe.webview.ready >> visible=true").frame_locator("iframe#active-frame")


def kpis(frame) -> dict:
    return {
        "money": frame.locator("#kpi-money .k-value").inner_text().strip(),
        "money_label": (frame.locator("#kpi-money .k-label").text_content() or "").strip(),
        "messages": frame.locator("#kpi-messages .k-value").inner_text().strip(),
        "tokens": frame.locator("#kpi-tokens .k-value").get_attribute("title"),
    }


def wait_kpis(frame, expected: dict, timeout: float = 20) -> dict:
    start = time.monotonic()
    got: dict = {}
    while time.monotonic() - start < timeout:
        try:
            got = kpis(frame)
        except Exception as exc:  # the page may be re-rendering
            got = {"error": str(exc)}
        if all(got.get(k) == v for k, v in expected.items()):
            return got
        time.sleep(0.2)
    raise AssertionError(f"dashboard shows {got}, expected {expected}")


def wait_log(bench, text: str, timeout: float = 10) -> None:
    start = time.monotonic()
    while text not in bench.extension_log():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{text!r} not in the extension's log:\n{bench.extension_log()}")
        time.sleep(0.2)


def notification_texts(page) -> list[str]:
    return [t.strip() for t in page.locator(".notification-toast .notification-list-item-message").all_inner_texts()]


def fixture_results(bench) -> list[dict]:
    path = bench.workspace / ".fixture-results.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_fixture_result(bench, what: str, timeout: float = 20) -> dict:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        for r in fixture_results(bench):
            if r["what"] in (what, what + "-error"):
                return r
        time.sleep(0.2)
    raise AssertionError(f"the fixture extension reported nothing for {what}: {fixture_results(bench)}")


def interactions(bench) -> dict[str, dict]:
    rows = json.loads(usage_ls(bench.data_dir, "report", "interactions", "--json", "--limit", "100"))["rows"]
    return {r["id"]: r for r in rows}


# -- the tests, in the order a user meets the features ------------------------------------


def test_status_bar_shows_todays_credits_from_the_seeded_ledger(page, bench):
    wait_status(page, "12.4 cr ", timeout=60)
    # the same text the CLI prints for this data dir (credits and the 7-day sparkline)
    assert status_text(page) == usage_ls(bench.data_dir, "statusline").strip()
    # the Markdown tooltip: today's split by model
    status_item(page).hover()
    tip = hover_text(page, "AI usage today")
    assert "claude-sonnet-4-5" in tip and "gpt-4.1-mini" in tip and "gemini-2.5-pro" in tip
    assert "12.4 credits" in tip and "$0.25" in tip
    page.screenshot(path=shot(bench, "vscode-statusbar.png"))
    close_hovers(page)


def test_status_bar_updates_live_when_another_process_records(page, bench):
    started = time.monotonic()
    record(
        bench.data_dir,
        [
            {
                "id": "live-1",
                "model": "claude-3-5-haiku-20241022",
                "inputTokens": 500,
                "outputTokens": 50,
                "costUsd": 0.05,
                "project": "docs-site",
                "user": "tester",
            }
        ],
    )
    wait_status(page, "17.4 cr ", timeout=10)
    took = time.monotonic() - started
    print(f"status bar updated {took:.2f} s after `usage-ls record` in another process")
    assert took < 5


def test_hover_on_a_model_name_shows_its_tokens_today(page, bench):
    open_file(page, "NOTES.md")
    hover_word(page, "claude-sonnet-4-5")
    text = hover_text(page, "Cache read")
    assert "claude-sonnet-4-5" in text
    for label, value in [
        ("Input", "1,000"),
        ("Output", "200"),
        ("Cache read", "5,000"),
        ("Cache write", "0"),
        ("Total tokens", "6,200"),
    ]:
        assert re.search(rf"{label}\s+{value}\b", text), f"{label} {value} not in hover:\n{text}"
    assert "$0.12" in text
    page.screenshot(path=shot(bench, "vscode-hover.png"))
    close_hovers(page)


def test_code_actions_on_a_model_name_show_its_usage_and_open_the_filtered_dashboard(page, bench):
    """The server's code actions (docs/editors.md) run in VS Code through the extension's own
    commands: the language client must not register the server's command names (it would
    collide with usage-ls.openDashboard and fail the start)."""
    open_file(page, "NOTES.md")
    hover_word(page, "claude-sonnet-4-5")
    page.mouse.down()
    page.mouse.up()  # the cursor on the model name
    close_hovers(page)
    page.locator(".lightBulbWidget").first.wait_for(state="visible", timeout=30_000)  # the server answered
    menu = page.locator(".action-widget")
    show = menu.locator(".monaco-list-row", has_text="Show usage of claude-sonnet-4-5")
    for attempt in range(3):  # Quick Fix asks again each time; a busy machine may answer late
        page.keyboard.press("Control+.")
        try:
            show.wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            if attempt == 2:
                raise
    page.keyboard.press("Enter")  # the first action
    deadline = time.monotonic() + 15
    while not any("claude-sonnet-4-5 today" in t for t in notification_texts(page)):
        assert time.monotonic() < deadline, notification_texts(page)
        time.sleep(0.2)
    text = next(t for t in notification_texts(page) if "claude-sonnet-4-5 today" in t)
    assert "6.2k tokens (input 1,000, output 200, cache read 5,000" in text and "12.0 credits" in text
    page.keyboard.press("Control+.")
    row = menu.locator(".monaco-list-row", has_text="Open Usage Dashboard filtered to this model")
    row.wait_for(state="visible")
    row.click()
    frame = dashboard_frame(page)
    frame.locator("#kpi-money .k-value").wait_for(state="visible", timeout=30_000)
    deadline = time.monotonic() + 15
    while frame.locator("#model").input_value() != "claude-sonnet-4-5":
        assert time.monotonic() < deadline, frame.locator("#model").input_value()
        time.sleep(0.2)
    page.keyboard.press("Control+W")  # close the panel for the tests after this one


def test_token_split_quick_pick_lists_todays_models(page, bench):
    run_command(page, "Usage: Show Today's Token Split")
    rows = page.locator(".quick-input-widget .monaco-list-row")
    rows.filter(has_text="claude-sonnet-4-5").first.wait_for(state="visible")
    texts = [re.sub(r"\s+", " ", t) for t in rows.all_inner_texts()]
    sonnet = next(t for t in texts if "claude-sonnet-4-5" in t)
    assert "6.2K tokens" in sonnet and "12.0 cr" in sonnet and "input 1,000" in sonnet and "cache read 5,000" in sonnet
    assert any("gemini-2.5-pro" in t and "$0.25" in t for t in texts)
    page.keyboard.press("Escape")


def test_command_palette_opens_the_dashboard_with_todays_totals(page, bench):
    run_command(page, "Usage: Open Usage Dashboard")
    page.locator(".tab", has_text="Usage Dashboard").wait_for(state="visible")
    frame = dashboard_frame(page)
    frame.locator("#kpi-money .k-value").wait_for(state="visible", timeout=30_000)
    # it opens on the last 7 days, premium: seed-1, seed-2, seed-4 (yesterday) and live-1:
    # 12.0 + 0.4 + 6.0 + 5.0 credits; 6,200 + 3,500 + 900 + 550 tokens
    wait_kpis(frame, {"money_label": "Credits", "money": "23.4", "messages": "4", "tokens": "11,150 tokens"})
    close_hovers(page)
    time.sleep(1)  # let the charts finish their animation for the screenshot
    page.screenshot(path=shot(bench, "vscode-dashboard.png"))


def test_a_filter_change_in_the_webview_updates_the_totals(page, bench):
    frame = dashboard_frame(page)
    frame.locator("#date-presets button[data-preset='today']").click()
    # today only: yesterday's 6.0 credits and 900 tokens drop out
    wait_kpis(frame, {"money_label": "Credits", "money": "17.4", "messages": "3", "tokens": "10,250 tokens"})
    frame.locator("#billing button[data-billing='byok']").click()
    wait_kpis(frame, {"money_label": "Cost (BYOK)", "money": "$0.25", "messages": "1", "tokens": "2,100 tokens"})
    frame.locator("#billing button[data-billing='premium']").click()
    frame.locator("#model").select_option("claude-sonnet-4-5")
    wait_kpis(frame, {"money_label": "Credits", "money": "12.0", "messages": "1", "tokens": "6,200 tokens"})
    frame.locator("#model").select_option("")
    wait_kpis(frame, {"money": "17.4", "messages": "3"})


def test_dashboard_is_one_panel_that_survives_hide_and_show_and_follows_live_data(page, bench):
    frame = dashboard_frame(page)
    frame.locator("#model").select_option("gpt-4.1-mini")
    wait_kpis(frame, {"money": "0.4", "messages": "1"})
    page.locator(".tab", has_text="NOTES.md").click()  # hides the dashboard
    page.locator(".tab.active", has_text="NOTES.md").wait_for(state="visible")
    run_command(page, "Usage: Open Usage Dashboard")  # reveals the one open, not a second
    assert page.locator(".tab", has_text="Usage Dashboard").count() == 1
    # kept its state (the model filter) while hidden
    wait_kpis(dashboard_frame(page), {"money": "0.4", "messages": "1"})
    # usage/didChange reaches the page: another process records gpt-4.1-mini for $0.01
    record(
        bench.data_dir,
        [
            {
                "id": "live-2",
                "model": "gpt-4.1-mini",
                "inputTokens": 100,
                "outputTokens": 10,
                "costUsd": 0.01,
                "project": "api-gateway",
                "user": "tester",
            }
        ],
    )
    wait_kpis(dashboard_frame(page), {"money": "1.4", "messages": "2"})
    dashboard_frame(page).locator("#model").select_option("")
    wait_status(page, "18.4 cr ")


def test_another_extension_records_through_the_exported_api(page, bench):
    run_command(page, "Usage Fixture: Record Usage via API")
    result = wait_fixture_result(bench, "api")
    assert result["what"] == "api", result
    assert result["value"]["accepted"] == 1 and result["value"]["rejected"] == []
    wait_status(page, "21.4 cr ")  # + $0.03
    row = interactions(bench)["fixture-api-1"]
    # left out by the caller: the workspace folder's name and the user from settings
    assert (row["project"], row["user"], row["model"], row["inputTokens"]) == ("widget", "tester", "gpt-4.1-mini", 4000)


def test_another_extension_records_through_the_command(page, bench):
    run_command(page, "Usage Fixture: Record Usage via Command")
    result = wait_fixture_result(bench, "command")
    assert result["what"] == "command", result
    assert result["value"]["accepted"] == 1
    wait_status(page, "23.4 cr ")  # + $0.02
    row = interactions(bench)["fixture-command-1"]
    assert (row["project"], row["user"], row["cacheReadTokens"]) == ("widget", "tester", 1000)
    # the API's onDidChangeUsage fired for the fixture's listener
    later = [r for r in fixture_results(bench) if r["what"] == "command"][-1]
    assert later["changes"] >= 1


def test_the_tool_filter_in_the_webview(page, bench):
    """The two fixture records are the only ones with a `feature` (their tools): the Tool picker
    lists them (usage/tools, asked through the extension when the range changes) and one
    narrows the totals to its record."""
    run_command(page, "Usage: Open Usage Dashboard")
    frame = dashboard_frame(page)
    frame.locator("#date-presets button[data-preset='7d']").click()
    # the last 7 days: 23.4 credits today (the status bar's) + seed-4's 6.0 yesterday
    wait_kpis(frame, {"money": "29.4", "messages": "7"})
    tools = frame.locator("#tool option")
    assert [tools.nth(i).get_attribute("value") for i in range(tools.count())] == ["", "fixture-api", "fixture-command"]
    frame.locator("#tool").select_option("fixture-api")
    wait_kpis(frame, {"money": "3.0", "messages": "1", "tokens": "4,700 tokens"})  # fixture-api-1: $0.03
    assert frame.locator("#error").is_hidden()
    close_hovers(page)
    page.screenshot(path=str(bench.root / "vscode-dashboard-tool.png"))
    frame.locator("#tool").select_option("")
    frame.locator("#date-presets button[data-preset='today']").click()
    wait_kpis(frame, {"money": "23.4", "messages": "6"})


def test_byok_display_mode_shows_dollars(page, bench):
    bench.write_workspace_settings(**{"usage-ls.statusBar.billing": "byok"})
    wait_status(page, "$0.25 ")
    record(
        bench.data_dir,
        [
            {
                "id": "live-byok",
                "model": "gemini-2.5-pro",
                "billing": "byok",
                "inputTokens": 10,
                "outputTokens": 10,
                "costUsd": 0.5,
                "project": "widget",
                "user": "tester",
            }
        ],
    )
    wait_status(page, "$0.75 ", timeout=10)
    bench.write_workspace_settings(**{"usage-ls.statusBar.billing": "premium"})
    wait_status(page, "23.4 cr ")


def test_a_missing_server_gives_one_notification_and_no_restart_loop(page, bench):
    bench.write_workspace_settings(**{"usage-ls.server.command": "/nonexistent/bin/usage-ls"})
    wait_status(page, "usage-ls?")
    page.locator(".notification-toast", has_text="pipx install usage-ls").first.wait_for(state="visible")
    time.sleep(4)
    about = [t for t in notification_texts(page) if "usage-ls" in t]
    assert len(about) == 1, about
    assert "not an executable" in about[0] and "usage-ls.server.command" in about[0]
    # its button opens the instructions
    page.locator(".notification-toast .monaco-button", has_text="How to Install").first.click()
    page.locator(".tab", has_text="README").first.wait_for(state="visible")
    preview = page.frame_locator("iframe.webview.ready >> visible=true").frame_locator("iframe#active-frame")
    preview.locator("h2", has_text="Installing the server").wait_for(state="visible")
    # with no setting at all it is found where pip --user and pipx put it (~/.local/bin here;
    # the extension host's PATH does not have it)
    bench.write_workspace_settings(**{"usage-ls.server.command": ""})
    wait_status(page, "23.4 cr ", timeout=30)
    wait_log(bench, f"starting {bench.home}/.local/bin/usage-ls serve --stdio (found via ~/.local/bin")
    bench.write_workspace_settings(**{"usage-ls.server.command": str(USAGE_LS)})
    time.sleep(3)  # the restart that setting causes
    wait_status(page, "23.4 cr ", timeout=30)


def test_restart_server_command_keeps_the_dashboard_working(page, bench):
    run_command(page, "Usage: Restart Server")
    wait_status(page, "23.4 cr ", timeout=30)
    run_command(page, "Usage: Open Usage Dashboard")
    frame = dashboard_frame(page)
    frame.locator("#date-presets button[data-preset='yesterday']").click()
    wait_kpis(frame, {"money": "6.0", "messages": "1", "tokens": "900 tokens"})


def test_budgets_live_in_the_server_config_and_color_the_status_bar(page, bench):
    run_command(page, "Usage: Open Configuration (budgets, credits, prices)")
    page.locator(".tab.active", has_text="config.toml").wait_for(state="visible")
    assert "warning-kind" not in (status_item(page).get_attribute("class") or "")
    page.locator(".monaco-editor .view-lines").first.click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n[budgets]\ndaily_credits = 20\n")
    page.keyboard.press("Control+S")
    # saving restarts the server, which now counts 23.4 of 20 credits: over budget
    start = time.monotonic()
    while "error-kind" not in (status_item(page).get_attribute("class") or ""):
        assert time.monotonic() - start < 20, status_item(page).get_attribute("class")
        time.sleep(0.2)
    assert "daily_credits = 20" in (bench.data_dir / "config.toml").read_text()
    status_item(page).hover()
    assert "117%" in hover_text(page, "AI usage today")  # 23.4 of 20 credits
    close_hovers(page)


def test_dashboard_follows_the_color_theme(page, bench):
    def look():
        """(body classes, brightness of the page's text color 0..765)"""
        klass, color = dashboard_frame(page).locator("body").evaluate("b => [b.className, getComputedStyle(b).color]")
        return klass, sum(int(x) for x in re.findall(r"\d+", color)[:3])

    run_command(page, "Usage: Open Usage Dashboard")
    dashboard_frame(page).locator("#kpi-money .k-value").wait_for(state="visible")
    klass, text = look()
    assert "vscode-dark" in klass and text > 450  # light text on the dark theme
    bench.write_workspace_settings(**{"workbench.colorTheme": "Default Light Modern"})
    start = time.monotonic()
    while "vscode-light" not in look()[0] and time.monotonic() - start < 15:
        time.sleep(0.2)
    klass, text = look()
    assert "vscode-light" in klass and text < 300, (klass, text)  # dark text on the light theme
    bench.write_workspace_settings(**{"workbench.colorTheme": "Default Dark Modern"})


def test_a_crashing_server_is_restarted_a_few_times_then_reported_once(page, bench):
    try:
        _crashing_then_broken_server(page, bench)
    finally:  # the tests after this one need the real server back, whatever happened here
        bench.write_workspace_settings(**{"usage-ls.server.command": str(USAGE_LS)})
    wait_status(page, "23.4 cr ", timeout=30)


def _crashing_then_broken_server(page, bench) -> None:
    crashing = bench.root / "crashing-usage-ls"
    # starts, answers, dies: 4 s lets even a loaded machine answer `initialize` first (with 2 s
    # the first start could fail instead, which is the other half of this test)
    crashing.write_text(f'#!/bin/sh\nexec timeout 4 {USAGE_LS} "$@"\n')
    crashing.chmod(0o755)
    for toast in page.locator(".notification-toast .codicon-notifications-clear").all():
        toast.click()  # start from no toasts
    bench.write_workspace_settings(**{"usage-ls.server.command": str(crashing)})
    wait_status(page, "usage-ls stopped", timeout=90)
    time.sleep(3)
    about = notification_texts(page)  # all of them: vscode-languageclient's own popups are silenced
    assert len(about) == 1 and "usage-ls" in about[0] and "stopped" in about[0], about
    assert bench.extension_log().count(f"starting {crashing}") == 1  # restarts are the client's, logged as such
    # a server that cannot even start: the same single message, no retries
    for toast in page.locator(".notification-toast .codicon-notifications-clear").all():
        toast.click()
    broken = bench.root / "broken-usage-ls"
    broken.write_text("#!/bin/sh\necho 'usage-ls: broken install' >&2\nexit 3\n")
    broken.chmod(0o755)
    bench.write_workspace_settings(**{"usage-ls.server.command": str(broken)})
    wait_log(bench, f"the usage-ls server ({broken}) failed to start")
    wait_status(page, "usage-ls stopped")
    time.sleep(3)
    about = notification_texts(page)
    assert len(about) == 1 and "failed to start" in about[0], about
    assert bench.extension_log().count(f"starting {broken}") == 1


# The dashboard's CSV columns (usage_ls/static/dashboard.js): the row's key and the header.
CSV_COLUMNS = [
    ("timestamp", "timestamp"),
    ("date", "date"),
    ("project", "project"),
    ("model", "model"),
    ("user", "user"),
    ("billing", "billing"),
    ("inputTokens", "input_tokens"),
    ("outputTokens", "output_tokens"),
    ("cacheReadTokens", "cache_read_tokens"),
    ("cacheWriteTokens", "cache_write_tokens"),
    ("totalTokens", "total_tokens"),
    ("credits", "credits"),
    ("costUsd", "cost_usd"),
    ("costSource", "cost_source"),
    ("provider", "provider"),
    ("feature", "feature"),
    ("session", "session"),
]


def expected_csv(rows: list[dict]) -> str:
    """The export as docs/dashboard.md specifies it: numbers bare (as JavaScript prints them),
    null empty, text quoted with a ' before a leading = + - @ tab or CR and after a ; tab or
    line break that (past spaces and ") comes before one; BOM, CRLF."""

    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return str(int(v)) if float(v).is_integer() else repr(float(v))
        s = re.sub(r'([;\t\r\n])(?=[ "]*[=+\-@\t\r])', r"\1'", str(v))
        if s.startswith(("=", "+", "-", "@", "\t", "\r")):
            s = "'" + s
        return '"' + s.replace('"', '""') + '"'

    lines = [",".join(cell(h) for _, h in CSV_COLUMNS)]
    lines += [",".join(cell(r[k]) for k, _ in CSV_COLUMNS) for r in rows]
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


def wait_value(box, expected: str, timeout: float = 10) -> None:
    """Waits until an input holds `expected` (the save dialog fills its path in after it shows)."""
    start = time.monotonic()
    while (value := box.input_value()) != expected:
        assert time.monotonic() - start < timeout, f"the input holds {value!r}, expected {expected!r}"
        time.sleep(0.1)


def test_csv_export_opens_a_save_dialog_and_writes_the_file(page, bench):
    today = dt.datetime.now(dt.UTC).date().isoformat()
    now = dt.datetime.now(dt.UTC)
    midnight = dt.datetime.combine(now.date(), dt.time(0, 0), dt.UTC)

    def stamp(seconds_ago: int) -> str:
        return max(now - dt.timedelta(seconds=seconds_ago), midnight).isoformat()

    # names a spreadsheet would split or evaluate: BYOK, so the status bar keeps its credits
    record(
        bench.data_dir,
        [
            {
                "id": "csv-1",
                "model": 'say "hi"',
                "project": "x;=1+1",
                "user": "=2+3",
                "billing": "byok",
                "inputTokens": 70,
                "outputTokens": 7,
                "costUsd": 0.125,
                "timestamp": stamp(2),
            },
            {
                "id": "csv-2",
                "model": "@SUM(A1)",
                "project": "x,=1+1",
                "user": "-1",
                "billing": "byok",
                "inputTokens": 80,
                "outputTokens": 8,
                "costUsd": 0.5,
                "timestamp": stamp(3),
                "session": "+s",
            },
        ],
    )
    # what the export must hold: today's BYOK rows (in file order: seed-3, live-byok and these
    # two), newest first as the page sorts them
    rows = json.loads(
        usage_ls(
            bench.data_dir,
            "report",
            "interactions",
            "--json",
            "--billing",
            "byok",
            "--from",
            today,
            "--to",
            today,
            "--sort=-timestamp",
            "--limit",
            "100",
        )
    )["rows"]
    assert [r["id"] for r in rows][:2] == ["csv-1", "csv-2"]
    status_item(page).wait_for(state="visible", timeout=60_000)  # the extension is up (when run alone)
    run_command(page, "Usage: Open Usage Dashboard")
    frame = dashboard_frame(page)
    frame.locator("#date-presets button[data-preset='today']").click()
    frame.locator("#billing button[data-billing='byok']").click()
    wait_kpis(frame, {"money_label": "Cost (BYOK)", "messages": str(len(rows))})

    frame.locator("#export").click()
    # code-server's own save dialog (VS Code's simple file dialog): a quick input holding a path
    dialog = page.locator(".quick-input-widget")
    box = dialog.locator("input")
    box.wait_for(state="visible")
    dialog.locator(".quick-input-title", has_text="Save the Usage Dashboard's rows as CSV").wait_for(state="visible")
    # it opens in the workspace folder with the page's suggested name
    wait_value(box, f"{bench.workspace}/usage-{today}-byok.csv")
    exports = bench.root / "exports"
    exports.mkdir()
    (exports / "earlier.csv").write_text("kept\n")
    target = exports / "byok today.csv"
    # the path goes in as one input, as when pasted (typed key by key, the dialog's completion
    # of folder names races the keys); the dialog then moves into its folder and lists the CSV
    # files there; an Enter before it has got there would only take it there
    box.press("Control+A")
    page.keyboard.insert_text(str(target))
    dialog.locator(".monaco-list-row", has_text="earlier.csv").wait_for(state="visible")
    wait_value(box, str(target))
    page.keyboard.press("Enter")
    dialog.wait_for(state="hidden")
    toast = page.locator(".notification-toast", has_text="Usage CSV saved to").first
    toast.wait_for(state="visible")
    assert f"Usage CSV saved to {target}" in toast.inner_text()

    # the file holds exactly the rows of the filter, in the page's order, quoted and neutralised
    written = target.read_bytes()
    assert written.decode("utf-8") == expected_csv(rows)
    assert b',"x;\'=1+1","say ""hi""","\'=2+3","byok",70,7,0,0,77,0,0.125,"reported",,,\r\n' in written
    assert b',"x,=1+1","\'@SUM(A1)","\'-1","byok",80,8,0,0,88,0,0.5,"reported",,,"\'+s"\r\n' in written
    page.locator(".notification-toast .codicon-notifications-clear").first.click()

    # again, cancelled: it starts where the last one went, and nothing is written or said
    frame.locator("#export").click()
    box.wait_for(state="visible")
    wait_value(box, f"{exports}/usage-{today}-byok.csv")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    time.sleep(2)
    assert sorted(p.name for p in exports.iterdir()) == ["byok today.csv", "earlier.csv"]
    assert not [t for t in notification_texts(page) if "CSV" in t]
    frame.locator("#billing button[data-billing='premium']").click()


def test_a_plan_window_reported_to_the_status_line_shows_in_the_status_bar(page, bench):
    # Claude Code runs `usage-ls statusline --claude-code` with its 5-hour window: 42% used,
    # resets in 2 hours. The editor's status bar shows it beside the credits, the tooltip
    # says the pace and the reset, and the window is not usage.
    deadline = time.monotonic() + 60
    while " cr " not in status_text(page) and time.monotonic() < deadline:  # the server has answered
        time.sleep(0.1)
    before = status_text(page)
    now = int(time.time())
    payload = {
        "model": {"id": "claude-opus-4-5", "display_name": "Opus 4.5"},
        "rate_limits": {"five_hour": {"used_percentage": 42.0, "resets_at": now + 2 * 3600}},
    }
    line = usage_ls(bench.data_dir, "statusline", "--claude-code", stdin=json.dumps(payload))
    assert "5h 42% ↻1h59m" in line or "5h 42% ↻2h00m" in line
    credits = before.split(" cr ")[0]
    wait_status(page, f"{credits} cr ", timeout=10)
    deadline = time.monotonic() + 10
    while "· 5h 42%" not in status_text(page) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status_text(page).endswith("· 5h 42%"), status_text(page)
    status_item(page).hover()
    tip = hover_text(page, "Plan limits")
    assert "claude-code 5h: 42% used" in tip and "60% of the window passed" in tip
    page.screenshot(path=shot(bench, "vscode-statusbar-window.png"))
    close_hovers(page)
    assert status_text(page).split(" · ")[0] == before.split(" · ")[0]  # credits unchanged
    # Codex reports no window here: its 5-hour block is estimated from its usage, and the
    # tooltip says so (no share without a plan's block_tokens, so the text keeps `5h 42%`)
    usage_ls(
        bench.data_dir,
        "record",
        "--model",
        "gpt-5-codex",
        "--input",
        "4000",
        "--output",
        "2000",
        "--cost",
        "0.5",
        "--feature",
        "codex",
    )
    deadline = time.monotonic() + 10
    while status_text(page).split(" cr ")[0] == credits and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status_text(page).endswith("· 5h 42%"), status_text(page)
    status_item(page).hover()
    tip = hover_text(page, "codex 5h")
    assert "codex 5h: block 6.0k tokens, $0.50 so far" in tip and "(estimated)" in tip, tip
    close_hovers(page)
