"""The Insights card and the spike marks, in headless Chromium, over a ledger with a spike and
two tips whose numbers are worked out by hand in dashboard_known.insight_records:

- 34 ordinary days of 50 credits ($0.50) at noon, claude-sonnet-4-5 in widget;
- three days ago, besides, 40 short answers of claude-opus-4-1 (2,000 in, 300 out: $0.0525,
  5.25 credits each) in a project with a script-like name: 260 credits, a spike (threshold
  150 credits), and two tips: 210 credits above a typical day, and 168 credits ($1.68)
  saved by claude-sonnet-4-5 ($0.0105 each) for those short answers;
- today, a minute ago, 7 credits Premium and $0.25 BYOK: the burn rate;
- budgets: 10 credits a day, 5,000 a month, $5 of BYOK a month.

Every page is guarded (conftest.Guard): a dialog, a request beyond 127.0.0.1 or a CSP
violation fails the test.
"""

from __future__ import annotations

import calendar
import datetime as dt
import threading

import pytest
from dashboard_known import INSIGHTS_CONFIG, SPIKE_BACK, XSS_PROJECT, insight_records, seed

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def insightful(tmp_path_factory):
    if NOW.hour == 23 and NOW.minute >= 50:
        pytest.skip("too close to midnight: 'today' would change during the tests")
    data = tmp_path_factory.mktemp("insights") / "data"
    today = NOW.date()
    seed(data, insight_records(today, NOW), INSIGHTS_CONFIG)
    svc = Usage(data_dir=data, tag="cli", writable=False).open()
    srv = DashboardServer(svc, {})
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield {"server": srv, "today": today}
    srv.shutdown()
    srv.server_close()
    svc.close()


@pytest.fixture
def dash(insightful, open_page):
    page, _ = open_page(insightful["server"].url)
    return page


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")


def pct_text(p: float) -> str:
    """The page's percentages: whole numbers from 10%, one decimal below."""
    return f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.1f}%"


def month_credits(today: dt.date) -> float:
    """Premium credits this month, by hand: 50 for each ordinary day since the 1st, 210 more on
    the spike day if it is in this month, and today's 7."""
    first = today.replace(day=1)
    ordinary = sum(1 for back in range(1, 35) if today - dt.timedelta(days=back) >= first)
    spike = 210.0 if today - dt.timedelta(days=SPIKE_BACK) >= first else 0.0
    return 50.0 * ordinary + spike + 7.0


def test_now_burn_rate_projections_and_budgets_in_credits(dash, insightful):
    today = insightful["today"]
    hours = dash.evaluate("window.usageDashboard.insights.projection.hoursElapsed")
    assert dash.text_content("#ins-burn .is-value") == "7.0 credits/h"  # 7 credits in the last hour
    # today's pace: 7 credits over the hours elapsed (at least 1), to midnight and to month end
    pace = 7.0 / max(hours, 1.0)
    eod = 7.0 + pace * (24 - hours)
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    month = month_credits(today)
    eom = month + pace * ((days_in_month - today.day) * 24 + 24 - hours)
    assert dash.text_content("#ins-eod .is-value") == f"{eod:,.1f} credits"
    assert dash.text_content("#ins-eom .is-value") == f"{eom:,.1f} credits"
    assert dash.text_content("#ins-eom .is-sub").startswith(
        f"by {today:%b} {days_in_month}; {month:,.1f} credits so far"
    )
    # Premium budgets only (the BYOK one shows in BYOK): used / limit, what is left, the reset
    assert texts(dash, "#budgets .budget .b-line") == [
        "Today7.0 / 10 · 70%",
        f"This month{month:,.1f} / 5,000 · {pct_text(100 * month / 5000)}",
    ]
    assert texts(dash, "#budgets .b-left") == ["3.0 left", f"{5000 - month:,.1f} left"]
    nxt = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    subs = texts(dash, "#budgets .b-sub")
    assert "resets at midnight" in subs[0] and f"resets {nxt:%b} {nxt.day}" in subs[1]
    assert f"at today\u2019s pace {eod:,.1f} ({pct_text(100 * eod / 10)})" in subs[0]
    assert dash.text_content("#kpi-budget") == "Today: 70% of budget used"


def test_spike_day_is_listed_with_its_numbers_and_causes(dash, insightful):
    day = insightful["today"] - dt.timedelta(days=SPIKE_BACK)
    spikes = dash.locator("#ins-spikes li.spike")
    assert spikes.count() == 1
    spike = spikes.first
    assert spike.get_attribute("data-date") == day.isoformat() and spike.get_attribute("data-kind") == "day"
    assert spike.locator(".sp-when").text_content() == f"{day:%a}, {day:%b} {day.day}day"
    # 260 credits against a typical 50: 5.2 times
    assert spike.locator(".sp-num").text_content() == "260.0 credits vs usual 50.0 credits · 5.2×"
    # opus: 210 of 260 = 81%, all of it in the script-like project
    assert spike.locator(".sp-who").text_content() == f"mostly claude-opus-4-1 (81%) in project {XSS_PROJECT} (81%)"


def test_spike_day_is_marked_on_the_daily_chart(dash, insightful):
    day = insightful["today"] - dt.timedelta(days=SPIKE_BACK)
    marks = dash.evaluate("window.usageDashboard.spikeMarks")
    # the 7 days end today: the spike is bar 6 - 3 = 3
    assert [(m["index"], m["date"], m["kind"]) for m in marks] == [(6 - SPIKE_BACK, day.isoformat(), "day")]
    chart = dash.locator("#chart-daily")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    mark = marks[0]
    # the mark is drawn: red ink where it is
    rgba = dash.evaluate(
        "([x, y]) => { const c = document.getElementById('chart-daily'); const r = window.devicePixelRatio || 1;"
        " return [...c.getContext('2d').getImageData(Math.round((x - 4) * r), Math.round(y * r), 1, 1).data]; }",
        [mark["x"], mark["y"]],
    )
    assert rgba[0] > 180 and rgba[1] < 120 and rgba[2] < 120, rgba
    # hovering the mark says what it is
    dash.mouse.move(box["x"] + mark["x"], box["y"] + mark["y"])
    assert dash.is_visible("#model-card")
    card = dash.text_content("#model-card")
    assert "Spike: 260.0 credits vs usual 50.0 credits" in card and XSS_PROJECT in card
    # and so does hovering the spike day's bar: the model card says the spike too
    pos = dash.evaluate(
        """(i) => { const c = Chart.getChart(document.getElementById('chart-daily'));
        const j = c.data.datasets.findIndex(d => d.label === 'claude-opus-4-1');
        const b = c.getDatasetMeta(j).data[i]; return [b.x, (b.y + b.base) / 2]; }""",
        mark["index"],
    )
    dash.mouse.move(box["x"] + pos[0], box["y"] + pos[1])
    card = dash.text_content("#model-card")
    assert (
        "claude-opus-4-1" in card and "210.0 credits" in card and "Spike: 260.0 credits vs usual 50.0 credits" in card
    )
    assert dash.evaluate("document.querySelectorAll('img').length") == 0


def test_tips_show_their_saving_and_how_it_was_computed(dash):
    tips = dash.locator("#ins-tips li.tip")
    assert [tips.nth(i).get_attribute("data-kind") for i in range(tips.count())] == ["spikeSource", "cheaperModel"]
    day = NOW.date() - dt.timedelta(days=SPIKE_BACK)
    assert texts(dash, "#ins-tips .tip-title") == [
        f"Project {XSS_PROJECT} caused 81% of the spike on {day:%b} {day.day}",
        "Use claude-sonnet-4-5 instead of claude-opus-4-1 for short answers",
    ]
    # Premium: credits, with the list-price dollars beside
    assert texts(dash, "#ins-tips .tip-save") == ["save ≈ 210.0 credits$2.10", "save ≈ 168.0 credits$1.68"]
    swap = tips.nth(1).locator("details")
    assert not swap.locator("p").is_visible()  # folded until asked
    swap.locator("summary").click()
    assert swap.locator("p").text_content() == (
        "40 answers of claude-opus-4-1 had at most 400 output tokens and cost $2.10; the same tokens at "
        "claude-sonnet-4-5's prices (genai-prices, each record on its own date and tier) come to $0.42."
    )


def test_hostile_names_in_tips_and_spikes_are_text(dash):
    tips = dash.locator("#ins-tips li.tip").first
    tips.locator("summary").click()
    how = tips.locator("p").text_content()
    assert how.startswith("On ") and f"project {XSS_PROJECT} accounted for 81% of it" in how
    assert XSS_PROJECT in dash.text_content("#ins-spikes")
    # nothing became markup: no <img> anywhere, and (the guard) no dialog
    assert dash.evaluate("document.querySelectorAll('img').length") == 0
    assert (
        dash.evaluate("[...document.querySelectorAll('#insights *')].some(e => e.getAttribute('onerror') !== null)")
        is False
    )


def test_filter_changes_update_the_card(dash, act):
    # today only: no spike in range, nothing to suggest, no mark; the burn rate is the same
    act(dash, lambda: dash.click('#date-presets button[data-preset="today"]'))
    assert texts(dash, "#ins-spikes li") == ["No unusual days or hours in this range."]
    assert texts(dash, "#ins-tips li") == ["Nothing to suggest for this range."]
    assert dash.evaluate("window.usageDashboard.spikeMarks") == []
    assert dash.text_content("#ins-burn .is-value") == "7.0 credits/h"
    # back to 7 days, then one project: the spike was in another one
    act(dash, lambda: dash.click('#date-presets button[data-preset="7d"]'))
    assert dash.locator("#ins-spikes li.spike").count() == 1
    act(dash, lambda: dash.select_option("#project", "widget"))
    assert dash.locator("#ins-spikes li.spike").count() == 0 and dash.evaluate("window.usageDashboard.spikeMarks") == []
    assert "for this project" in dash.text_content("#insights-hint")
    # BYOK: dollars everywhere in the card; the BYOK budget instead of the credit ones
    act(dash, lambda: dash.click("#clear"))
    act(dash, lambda: dash.click('#billing button[data-billing="byok"]'))
    assert dash.text_content("#ins-burn .is-value") == "$0.25/h"
    assert dash.text_content("#ins-eod .is-value").startswith("$")
    assert texts(dash, "#budgets .budget .b-line") == ["This month$0.25 / $5.00 · 5.0%"]
    assert texts(dash, "#budgets .b-left") == ["$4.75 left"]
    assert dash.text_content("#kpi-budget") == "This month: 5.0% of budget used"
    assert "credits" not in dash.text_content("#insights")


def test_clicking_a_spike_shows_that_day(dash, act):
    day = NOW.date() - dt.timedelta(days=SPIKE_BACK)
    act(dash, lambda: dash.click("#ins-spikes li.spike"))
    assert (dash.input_value("#from"), dash.input_value("#to")) == (day.isoformat(), day.isoformat())
    assert dash.text_content("#kpi-money .k-value") == "260.0"
    assert dash.locator("#ins-spikes li.spike").count() == 1
