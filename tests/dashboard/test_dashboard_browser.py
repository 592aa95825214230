"""The live dashboard in headless Chromium, over the known ledger (dashboard_known.py).

Every page is guarded (conftest.Guard): a dialog, a request beyond 127.0.0.1 or a CSP
violation fails the test. Expected numbers are added up by hand from the known records:
r1..r12 plus 120 "bulk" records two days ago (input 20..1210, output 1, 0.1 credits each).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from dashboard_known import FORMULA_PROJECT, FORMULA_USER, XSS_MODEL, XSS_PROJECT, known_records


def kpis(page) -> dict:
    return page.evaluate(
        """() => ({
        label: document.querySelector('#kpi-money .k-label').textContent,
        money: document.querySelector('#kpi-money .k-value').textContent,
        moneySub: document.querySelector('#kpi-money .k-sub').textContent,
        messages: document.querySelector('#kpi-messages .k-value').textContent,
        tokens: document.querySelector('#kpi-tokens .k-value').textContent,
        tokensExact: document.querySelector('#kpi-tokens .k-value').title,
        split: [...document.querySelectorAll('#kpi-tokens .part')].map(p => p.title),
        rows: document.getElementById('rows-label').textContent,
    })"""
    )


def table(page, table_id: str) -> list[list[str]]:
    return page.evaluate(
        "id => [...document.querySelectorAll('#' + id + ' tbody tr')].map(tr => [...tr.cells].map(td => td.textContent.trim()))",
        table_id,
    )


def column(page, index: int) -> list[str]:
    return [r[index] for r in table(page, "rows-table")]


@pytest.fixture
def dash(server, open_page):
    page, guard = open_page(server.url)
    return page


def test_first_paint_shows_the_last_7_days_in_premium(dash):
    k = kpis(dash)
    # today 14.7 (r1 12.5 + r2 1.5 + r5 0.5 + r6 0.2) + yesterday r7 20 + bulk 120 x 0.1 + r9 3.0
    assert k["label"] == "Credits" and k["money"] == "49.7"
    assert k["moneySub"].startswith("$0.50 at list price")  # 0.147 + 0.2 + 0.12 + 0.03
    assert k["messages"] == "126"
    # 7,125 today + 12,400 yesterday + 73,920 bulk + 660 (r9)
    assert k["tokens"] == "94.1k" and k["tokensExact"] == "94,105 tokens"
    assert k["split"] == [
        "77,910 input tokens",
        "895 output tokens",
        "15,000 cache read tokens",
        "300 cache write tokens",
    ]
    assert k["rows"] == "1–50 of 126"
    assert dash.eval_on_selector("#date-presets button.on", "b => b.dataset.preset") == "7d"
    assert dash.eval_on_selector("#billing button.on", "b => b.textContent") == "Premium"


@pytest.mark.parametrize(
    "preset, money, messages, tokens",
    [
        ("today", "14.7", "4", "7,125 tokens"),  # r1, r2, r5, r6
        ("yesterday", "20.0", "1", "12,400 tokens"),  # r7
        ("7d", "49.7", "126", "94,105 tokens"),
        ("30d", "89.7", "127", "100,105 tokens"),  # + r10 (40 credits, 6,000 tokens)
    ],
)
def test_each_date_preset_sets_every_number(dash, act, preset, money, messages, tokens):
    act(dash, lambda: dash.click(f'#date-presets button[data-preset="{preset}"]'))
    k = kpis(dash)
    assert (k["money"], k["messages"], k["tokensExact"]) == (money, messages, tokens)
    assert k["rows"].endswith(f"of {messages}")


def test_this_month_counts_from_the_first_of_the_month(dash, act, known):
    today = known["today"]
    first = today.replace(day=1)
    recs = [r for r in known_records(today) if r["billing"] == "premium" and r["timestamp"][:10] >= first.isoformat()]
    expected = sum(r["credits"] for r in recs)
    act(dash, lambda: dash.click('#date-presets button[data-preset="month"]'))
    k = kpis(dash)
    assert k["money"] == f"{expected:,.1f}" and k["messages"] == str(len(recs))


def test_custom_range(dash, act, known):
    today = known["today"]
    act(dash, lambda: dash.click('#date-presets button[data-preset="custom"]'))
    assert dash.is_visible("#custom-range")
    act(dash, lambda: dash.fill("#from", (today - dt.timedelta(days=40)).isoformat()))
    act(dash, lambda: dash.fill("#to", (today - dt.timedelta(days=10)).isoformat()))
    k = kpis(dash)
    assert (k["money"], k["messages"]) == ("140.0", "2")  # r12 100 + r10 40
    assert len(dash.evaluate("Chart.getChart(document.getElementById('chart-daily')).data.labels")) == 31


def test_billing_switch_shows_dollars_for_byok_and_marks_unpriced(dash, act):
    act(dash, lambda: dash.click('#billing button[data-billing="byok"]'))
    k = kpis(dash)
    # r3 $0.75 + r8 $0.40; r4 (acme-coder-v2) has no price: counted, marked, never $0
    assert k["label"] == "Cost (BYOK)" and k["money"] == "$1.15"
    assert "1 unpriced message" in k["moneySub"]
    assert k["messages"] == "3" and k["tokensExact"] == "4,100 tokens"
    models = {r[0]: r for r in table(dash, "models-table")}
    assert models["acme-coder-v2"][7] == "unpriced" and models["acme-coder-v2"][8] == "unpriced"
    assert models["gemini-2.5-pro"][8] == "$1.15"
    rows = {r[2]: r for r in table(dash, "rows-table")}
    assert rows["acme-coder-v2"][9] == "unpriced"
    assert dash.text_content("#rows-money") == "Cost"
    assert "$0.00" not in dash.text_content("#rows-table")


@pytest.mark.parametrize(
    "name, value, money, messages",
    [
        ("project", "widget", "34.0", "3"),  # r1 12.5 + r2 1.5 + r7 20
        ("user", "bob", "1.5", "1"),  # r2
        ("model", "claude-sonnet-4-5", "32.5", "2"),  # r1 + r7
    ],
)
def test_project_user_and_model_pickers_filter_everything(dash, act, name, value, money, messages):
    act(dash, lambda: dash.select_option(f"#{name}", value))
    k = kpis(dash)
    assert (k["money"], k["messages"]) == (money, messages)
    assert k["rows"] == f"1–{messages} of {messages}"
    daily_total = dash.evaluate(
        "Chart.getChart(document.getElementById('chart-daily')).data.datasets.flatMap(d => d.data).reduce((a, b) => a + b, 0)"
    )
    assert daily_total == pytest.approx(float(money))
    col = {"project": 1, "model": 2, "user": 3}[name]
    assert set(column(dash, col)) == {value}
    act(dash, lambda: dash.click("#clear"))
    assert kpis(dash)["money"] == "49.7"


def test_filters_combine(dash, act):
    act(dash, lambda: dash.select_option("#project", "widget"))
    act(dash, lambda: dash.select_option("#user", "alice"))
    k = kpis(dash)
    assert (k["money"], k["messages"]) == ("32.5", "2")  # r1 + r7


def test_clicking_a_project_filters_by_it(dash, act):
    projects = table(dash, "projects-table")
    # bulk 73,920 tokens; widget 6,500 + 500 + 12,400; docs r9; then the two odd names
    assert [p[0] for p in projects] == ["bulk", "widget", "docs", FORMULA_PROJECT, XSS_PROJECT]
    assert projects[1] == ["widget", "3", "19.4k", "34.0", "$0.34"]
    act(dash, lambda: dash.click('#projects-table tr[data-project="widget"]'))
    assert dash.input_value("#project") == "widget"
    assert kpis(dash)["money"] == "34.0"
    assert [p[0] for p in table(dash, "projects-table")] == ["widgetfiltered"]


def test_model_table(dash):
    rows = table(dash, "models-table")
    assert [r[0] for r in rows] == ["gpt-4.1-mini", "claude-sonnet-4-5", XSS_MODEL]
    # gpt-4.1-mini: r2, r6, r9, 120 bulk -> 123 messages, 75,190 tokens, 16.7 credits, $0.17
    assert rows[0][1:10] == ["123", "74.9k", "290", "0", "0", "75.2k", "16.7", "$0.17", "80%"]
    # claude-sonnet-4-5: r1 + r7
    assert rows[1][1:8] == ["2", "3.0k", "600", "15.0k", "300", "18.9k", "32.5"]
    trends = dash.evaluate("[...document.querySelectorAll('#models-table td.trend svg')].length")
    assert trends == 3


def test_every_chart_draws(dash):
    info = dash.evaluate(
        """() => ['chart-trend', 'chart-daily', 'chart-share-tokens', 'chart-share-money'].map(id => {
        const c = document.getElementById(id);
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
        return {id, chart: !!Chart.getChart(c), ink};
    })"""
    )
    for c in info:
        assert c["chart"] and c["ink"] > 500, c
    trend = dash.evaluate(
        "Chart.getChart(document.getElementById('chart-trend')).data.datasets.map(d => [d.label, d.data])"
    )
    series = dict((label, data) for label, data in trend)
    # days T-6..T: bulk two days ago, r7 yesterday, today r1+r2+r5+r6
    assert series["Input"] == [0, 0, 0, 600, 73800, 2000, 1510]
    assert series["Output"] == [0, 0, 0, 60, 120, 400, 315]
    assert series["Cache read"][-2:] == [10000, 5000]
    daily = dash.evaluate(
        "Object.fromEntries(Chart.getChart(document.getElementById('chart-daily')).data.datasets.map(d => [d.label, d.data]))"
    )
    assert daily["claude-sonnet-4-5"] == [0, 0, 0, 0, 0, 20, 12.5]
    assert daily["gpt-4.1-mini"] == pytest.approx([0, 0, 0, 3.0, 12.0, 0, 1.7])
    shares = dash.evaluate("Chart.getChart(document.getElementById('chart-share-tokens')).data.datasets[0].data")
    assert shares == [75190, 18900, 15]


def test_hovering_a_model_shows_its_token_split(dash):
    def card():
        assert dash.is_visible("#model-card")
        return dash.text_content("#model-card")

    # the legend under the doughnuts
    dash.hover('#model-legend li[data-model="claude-sonnet-4-5"]')
    text = card()
    assert "claude-sonnet-4-5" in text and "Input3.0k" in text and "Output600" in text
    assert "Cache read15.0k" in text and "Cache write300" in text and "18,900" in text
    # a doughnut slice
    box = dash.locator("#chart-share-tokens").bounding_box()
    pos = dash.evaluate(
        "(() => { const p = Chart.getChart(document.getElementById('chart-share-tokens')).getDatasetMeta(0).data[0].tooltipPosition(); return [p.x, p.y]; })()"
    )
    dash.mouse.move(box["x"] + pos[0], box["y"] + pos[1])
    assert "gpt-4.1-mini" in card() and "75,190" in card()
    # a bar: claude-sonnet-4-5 yesterday (below the Insights card: scroll to it)
    dash.locator("#chart-daily").scroll_into_view_if_needed()
    box = dash.locator("#chart-daily").bounding_box()
    pos = dash.evaluate(
        """(() => { const c = Chart.getChart(document.getElementById('chart-daily'));
        const i = c.data.datasets.findIndex(d => d.label === 'claude-sonnet-4-5');
        const b = c.getDatasetMeta(i).data[5]; return [b.x, (b.y + b.base) / 2]; })()"""
    )
    dash.mouse.move(box["x"] + pos[0], box["y"] + pos[1])
    assert "claude-sonnet-4-5" in card() and "20.0 credits" in card()
    # a table row
    dash.hover('#models-table tr[data-model="gpt-4.1-mini"] td.name')
    assert "gpt-4.1-mini" in card() and "Input74.9k" in card()
    dash.mouse.move(2, 2)
    assert not dash.is_visible("#model-card")


def test_every_column_sorts_both_ways(dash, act):
    # (header, column index, first value descending, first value ascending); text columns start ascending
    expect = [
        ("timestamp", 0, None, None),
        ("project", 1, "widget", XSS_PROJECT),
        ("model", 2, "gpt-4.1-mini", XSS_MODEL),
        ("user", 3, "dave", FORMULA_USER),
        ("inputTokens", 4, "2,000", "10"),
        ("outputTokens", 5, "400", "1"),
        ("cacheReadTokens", 6, "10,000", "0"),
        ("cacheWriteTokens", 7, "300", "0"),
        ("totalTokens", 8, "12,400", "15"),
        ("credits", 9, "20.0", "0.1"),
    ]
    for key, idx, top_desc, top_asc in expect:
        seen = {}
        for _ in range(2):
            act(dash, lambda: dash.click(f'#rows-table th[data-sort="{key}"]'))
            direction = dash.get_attribute(f'#rows-table th[data-sort="{key}"]', "aria-sort")
            values = column(dash, idx)
            assert len(values) == 50
            if idx >= 4:
                keyed = [float(v.replace(",", "")) for v in values]
            else:
                keyed = [v.lower() for v in values]
            assert keyed == sorted(keyed, reverse=direction == "descending"), (key, direction)
            seen[direction] = values[0]
        assert set(seen) == {"ascending", "descending"}
        if top_desc is not None:
            assert (seen["descending"], seen["ascending"]) == (top_desc, top_asc), key


def test_paging(dash, act):
    assert dash.is_disabled("#prev")
    act(dash, lambda: dash.click("#next"))
    assert kpis(dash)["rows"] == "51–100 of 126"
    act(dash, lambda: dash.click("#next"))
    assert kpis(dash)["rows"] == "101–126 of 126"
    assert len(table(dash, "rows-table")) == 26
    assert dash.is_disabled("#next")
    act(dash, lambda: dash.click("#prev"))
    assert kpis(dash)["rows"] == "51–100 of 126"
    act(dash, lambda: dash.select_option("#page-size", "25"))
    assert kpis(dash)["rows"] == "1–25 of 126" and len(table(dash, "rows-table")) == 25


def read_csv(page, act) -> list[dict]:
    with page.expect_download() as dl:
        page.click("#export")
    path = dl.value.path()
    text = open(path, encoding="utf-8-sig").read()
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_has_every_row_and_neutralises_formulas(dash, act):
    rows = read_csv(dash, act)
    assert len(rows) == 126  # all pages, not just the one on screen
    assert sum(float(r["credits"]) for r in rows) == pytest.approx(49.7)
    assert sum(int(r["total_tokens"]) for r in rows) == 94105
    odd = next(r for r in rows if r["model"] == "gpt-4.1-mini" and r["user"].endswith("cmd"))
    assert odd["project"] == "'" + FORMULA_PROJECT and odd["user"] == "'" + FORMULA_USER
    xss = next(r for r in rows if r["project"] == XSS_PROJECT)
    assert xss["model"] == XSS_MODEL
    assert list(rows[0])[:6] == ["timestamp", "date", "project", "model", "user", "billing"]
    # BYOK: the unpriced record has an empty cost and says why
    act(dash, lambda: dash.click('#billing button[data-billing="byok"]'))
    rows = read_csv(dash, act)
    acme = next(r for r in rows if r["model"] == "acme-coder-v2")
    assert acme["cost_usd"] == "" and acme["cost_source"] == "unpriced"
    assert sum(float(r["cost_usd"] or 0) for r in rows) == pytest.approx(1.15)


def test_script_like_names_are_shown_as_text(dash, act):
    # the guard fails the test if a dialog opens; here: the names are visible, as text
    assert dash.evaluate("document.querySelectorAll('img').length") == 0
    assert XSS_PROJECT in [p[0] for p in table(dash, "projects-table")]
    assert XSS_MODEL in [m[0] for m in table(dash, "models-table")]
    assert XSS_MODEL in dash.evaluate("[...document.querySelectorAll('#model option')].map(o => o.textContent)")
    act(dash, lambda: dash.select_option("#project", XSS_PROJECT))
    assert kpis(dash)["money"] == "0.5"
    dash.hover(f'#models-table tr[data-model="{XSS_MODEL}"] td.name')
    assert XSS_MODEL in dash.text_content("#model-card")
    assert dash.evaluate("document.querySelectorAll('img').length") == 0


def test_theme_follows_the_system(server, open_page):
    light, _ = open_page(server.url, scheme="light")
    dark, _ = open_page(server.url, scheme="dark")
    bg = "getComputedStyle(document.body).backgroundColor"
    assert light.evaluate(bg) == "rgb(245, 246, 248)"
    assert dark.evaluate(bg) == "rgb(14, 16, 20)"
    # chart text follows too
    assert dark.evaluate("Chart.defaults.color") != light.evaluate("Chart.defaults.color")


def test_budget_shows_what_is_used_of_it(dash, act):
    # daily_credits = 16 in config.toml; today r1 12.5 + r2 1.5 + r5 0.5 + r6 0.2 = 14.7 (92%: past the 80% warning)
    budget = dash.locator('#insights #budgets .budget[data-budget="daily_credits"]')
    assert budget.locator(".b-line").text_content() == "Today14.7 / 16 · 92%"
    assert budget.locator(".b-left").text_content() == "1.3 left"
    assert "resets at midnight" in budget.locator(".b-sub").text_content()
    assert "warning" in budget.get_attribute("class")
    # the credits metric links to it
    link = dash.locator("#kpi-budget")
    assert link.text_content() == "Today: 92% of budget used" and "warning" in link.get_attribute("class")
    link.click()
    assert dash.evaluate("document.activeElement.id") == "insights"
    act(dash, lambda: dash.click('#billing button[data-billing="byok"]'))
    assert dash.is_hidden("#budgets") and dash.is_hidden("#kpi-budget")  # no BYOK budget configured
