"""Every protocol method, through the real server over stdio, as an editor would use it."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from editor import Editor, rec, write_config
from pygls.exceptions import JsonRpcException

TODAY = dt.datetime.now(dt.UTC).date()
T = TODAY.isoformat()
YESTERDAY = (TODAY - dt.timedelta(days=1)).isoformat()


def at(day: str, hm: str = "12:00") -> str:
    return f"{day}T{hm}:00Z"


async def test_record_request_reports_accepted_duplicates_and_rejections(data_dir):
    async with Editor(data_dir) as ed:
        result = await ed.record(
            rec(id="a"),
            rec(model="", id="b"),
            rec(inp=-5, id="c"),
            rec(out="12", id="d"),
            rec(timestamp="yesterday", id="e"),
            rec(id="g", billing="team"),
            rec(id="h", inp=2**60),
            rec(id="i", project="x" * 10_000_000),
            rec(id="a"),
            rec(id="j", prompt="never stored"),
        )
        assert result["accepted"] == 2
        assert result["duplicates"] == 1
        fields = {r["index"]: r["field"] for r in result["rejected"]}
        assert fields == {
            1: "model",
            2: "inputTokens",
            3: "outputTokens",
            4: "timestamp",
            5: "billing",
            6: "inputTokens",
            7: "project",
        }
        assert all(r["message"] for r in result["rejected"])
        assert result["ignoredFields"] == {"prompt": 1}
        s = await ed.request("usage/summary")
        assert s["messages"] == 2
        rows = await ed.request("usage/interactions")
        assert "prompt" not in rows["rows"][0]


async def test_nan_and_non_object_records_are_rejected_by_field(data_dir):
    async with Editor(data_dir) as ed:
        # NaN cannot be written as JSON by a strict client; a number string and an array stand in
        result = await ed.record(rec(costUsd="NaN"), [1, 2], rec(cacheWriteTokens=5, cacheWrite1hTokens=9))
        assert [r["field"] for r in result["rejected"]] == ["costUsd", "record", "cacheWrite1hTokens"]


async def test_malformed_requests_get_jsonrpc_errors_and_server_lives(data_dir):
    async with Editor(data_dir) as ed:
        for method, params in [
            ("usage/record", {"records": "nope"}),
            ("usage/summary", {"from": "21/11/2026"}),
            ("usage/summary", {"from": T, "to": YESTERDAY}),
            ("usage/daily", {"billing": "credits"}),
            ("usage/interactions", {"sort": "secret"}),
            ("usage/interactions", {"limit": -1}),
            ("usage/statusBar", {"billing": 3}),
        ]:
            with pytest.raises(JsonRpcException) as info:
                await ed.request(method, params)
            assert info.value.code == -32602, (method, params)
        assert (await ed.request("usage/summary"))["messages"] == 0


async def test_summary_token_split_projects_and_daily(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(
            rec(
                "claude-sonnet-4-5",
                1000,
                2000,
                cacheReadTokens=30000,
                cacheWriteTokens=16500,
                project="widget",
                timestamp=at(T, "09:00"),
            ),
            rec("gpt-4o", 100, 50, project="api", billing="byok", timestamp=at(T, "10:00")),
            rec("gpt-4o", 300, 50, project="api", timestamp=at(YESTERDAY)),
            rec("mystery-9", 10, 5, project="api", timestamp=at(T, "11:00")),
        )
        s = await ed.request("usage/summary")
        # claude-sonnet-4-5: $3/M in, $15/M out, $0.30/M cache read, $3.75/M cache write
        sonnet = 1000 * 3e-6 + 2000 * 15e-6 + 30000 * 0.3e-6 + 16500 * 3.75e-6
        gpt = 100 * 2.5e-6 + 50 * 10e-6  # gpt-4o: $2.50/M in, $10/M out
        assert s["messages"] == 3
        assert s["costUsd"] == pytest.approx(sonnet + gpt, abs=1e-6)
        assert s["credits"] == pytest.approx(sonnet / 0.01, abs=1e-4)  # byok spends no credits
        assert s["totalTokens"] == 1000 + 2000 + 30000 + 16500 + 150 + 15
        assert s["unpricedMessages"] == 1
        byok = await ed.request("usage/summary", {"billing": "byok"})
        assert byok["costUsd"] == pytest.approx(gpt) and byok["credits"] == 0

        split = await ed.request("usage/tokenSplit")
        assert [m["model"] for m in split["models"]] == ["claude-sonnet-4-5", "gpt-4o", "mystery-9"]
        assert split["models"][0]["cacheWriteTokens"] == 16500
        assert split["models"][2]["unpricedMessages"] == 1

        projects = await ed.request("usage/projects", {"from": YESTERDAY})
        by = {p["project"]: p for p in projects["projects"]}
        assert by["api"]["messages"] == 3 and by["widget"]["messages"] == 1

        daily = await ed.request("usage/daily", {"from": (TODAY - dt.timedelta(days=6)).isoformat()})
        assert len(daily["days"]) == 7 and daily["days"][0]["messages"] == 0
        assert daily["days"][-2]["date"] == YESTERDAY and daily["days"][-2]["byModel"]["gpt-4o"]["totalTokens"] == 350
        assert set(daily["days"][-1]["byModel"]) == {"claude-sonnet-4-5", "gpt-4o", "mystery-9"}

        only = await ed.request("usage/summary", {"from": YESTERDAY, "to": T, "model": "gpt-4o", "project": "api"})
        assert only["messages"] == 2


async def test_interactions_sort_and_page(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(*[rec("gpt-4o", 100 * (i + 1), 10, id=f"r{i}", timestamp=at(T, f"0{i}:00")) for i in range(7)])
        page = await ed.request("usage/interactions", {"limit": 3, "offset": 0, "sort": "-inputTokens"})
        assert page["total"] == 7
        assert [r["inputTokens"] for r in page["rows"]] == [700, 600, 500]
        page2 = await ed.request("usage/interactions", {"limit": 3, "offset": 6, "sort": "-inputTokens"})
        assert [r["id"] for r in page2["rows"]] == ["r0"]
        by_time = await ed.request("usage/interactions", {"sort": "timestamp"})
        assert [r["id"] for r in by_time["rows"]] == [f"r{i}" for i in range(7)]
        row = by_time["rows"][0]
        assert row["costUsd"] == pytest.approx(100 * 2.5e-6 + 10 * 10e-6) and row["costSource"] == "computed"


async def test_reported_cost_wins_and_unknown_model_is_unpriced_not_zero(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(rec("gpt-4o", costUsd=1.25, id="rep"), rec("no-such-model-x", id="unk"))
        rows = {r["id"]: r for r in (await ed.request("usage/interactions"))["rows"]}
        assert rows["rep"]["costUsd"] == 1.25 and rows["rep"]["costSource"] == "reported"
        assert rows["unk"]["costUsd"] is None and rows["unk"]["costSource"] == "unpriced"
        assert rows["unk"]["credits"] is None


async def test_status_bar_text_tooltip_and_budget_levels(data_dir):
    write_config(data_dir, "[budgets]\ndaily_credits = 10\n")
    async with Editor(data_dir) as ed:
        sb = await ed.request("usage/statusBar")
        assert sb["text"].startswith("0.0 cr ") and sb["level"] == "normal"
        # gpt-4o: 1M input tokens = $2.50 = 250 credits... keep it small: 250k = 62.5 cr? use costUsd
        await ed.record(rec("gpt-4o", costUsd=0.085))
        sb = await ed.request("usage/statusBar")
        assert sb["text"].startswith("8.5 cr ") and sb["level"] == "warning"
        assert "gpt-4o" in sb["tooltip"] and "8.5" in sb["tooltip"]
        await ed.wait_message(lambda m: "80% of budget" in m)
        await ed.record(rec("gpt-4o", costUsd=0.02, billing="byok"))
        assert (await ed.request("usage/statusBar"))["level"] == "warning"  # byok spends no credits
        await ed.record(rec("gpt-4o", costUsd=0.02))
        sb = await ed.request("usage/statusBar")
        assert sb["level"] == "error" and sb["text"].startswith("10.5 cr")
        byok = await ed.request("usage/statusBar", {"billing": "byok"})
        assert byok["text"].startswith("$0.02")
        await ed.wait_message(lambda m: "100% of budget" in m)
        await ed.record(rec("gpt-4o", costUsd=0.02))
        await ed.request("usage/summary")
        await asyncio.sleep(0.3)  # a further push would come within 0.1 s
        alerts = [m for m in ed.messages if "of budget" in m]
        assert len(alerts) == 2, alerts  # 80% once, 100% once


async def test_status_bar_sparkline_covers_last_seven_days(data_dir):
    async with Editor(data_dir) as ed:
        for back in range(7):
            day = (TODAY - dt.timedelta(days=back)).isoformat()
            await ed.record(rec("gpt-4o", costUsd=0.01 * (7 - back), timestamp=at(day)))
        sb = await ed.request("usage/statusBar")
        assert sb["text"] == "7.0 cr ▂▃▄▅▆▇█"  # bars scaled from zero: 1..7 credits


async def test_did_change_is_pushed_after_a_record(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(rec("gpt-4o", costUsd=0.05))
        change = await ed.wait_change(lambda c: c["today"]["messages"] == 1)
        assert change["statusBar"]["text"].startswith("5.0 cr")


async def test_notification_records_are_stored_and_rejections_told(data_dir):
    async with Editor(data_dir) as ed:
        ed.notify("usage/record", {"records": [rec("gpt-4o", costUsd=0.03), rec("gpt-4o", inp=-1)]})
        await ed.wait_change(lambda c: c["today"]["messages"] == 1)
        assert any("rejected" in m and "inputTokens" in m for m in ed.messages)
        ed.notify("usage/record", {"records": 7})
        await ed.request("usage/summary")
        assert any("refused" in m for m in ed.messages)
        assert not any("Error in server" in m for m in ed.messages)


async def test_hover_on_model_names_and_nowhere_else(data_dir):
    text = "\n".join(
        [
            "We use gpt-4o and claude-sonnet-4-5 daily.",
            "Also gemini-2.5-pro, openai/gpt-4.1-mini and claude-3-5-haiku-20241022.",
            "Plain words: the claude family, gpt, version 2.5, my-custom-bot.",
        ]
    )
    async with Editor(data_dir) as ed:
        await ed.record(rec("gpt-4o", 1234, 567, cacheReadTokens=89), rec("my-custom-bot", 10, 10))
        uri = ed.open_doc("notes.md", text)
        lines = text.splitlines()

        async def hover_on(word: str, line: int):
            return await ed.hover(uri, line, lines[line].index(word) + 2)

        h = await hover_on("gpt-4o", 0)
        assert h is not None and "1,234" in h.contents.value and "567" in h.contents.value and "89" in h.contents.value
        for word, line in [
            ("claude-sonnet-4-5", 0),
            ("gemini-2.5-pro", 1),
            ("openai/gpt-4.1-mini", 1),
            ("claude-3-5-haiku-20241022", 1),
        ]:
            h = await hover_on(word, line)
            assert h is not None, word
            assert "No usage of this model today" in h.contents.value
        assert "**gpt-4.1-mini**" in (await hover_on("openai/gpt-4.1-mini", 1)).contents.value
        h = await hover_on("my-custom-bot", 2)  # known from the store
        assert h is not None and "unpriced" in h.contents.value.lower()
        for word in ("claude family", "gpt,", "2.5", "Plain"):
            assert await hover_on(word, 2) is None, word


async def test_default_project_is_workspace_folder_and_user_from_config(data_dir):
    write_config(data_dir, 'user = "alice"\n')
    async with Editor(data_dir, workspace="shop-frontend") as ed:
        await ed.record(rec("gpt-4o"))
        row = (await ed.request("usage/interactions"))["rows"][0]
        assert row["project"] == "shop-frontend" and row["user"] == "alice"


async def test_bad_config_names_the_key_and_server_starts(data_dir):
    write_config(data_dir, '[credits]\nusd_per_credit = "cheap"\n[budgets]\ndaily_credits = 5\n')
    async with Editor(data_dir) as ed:
        await ed.request("usage/summary")
        assert any("credits.usd_per_credit" in m for m in ed.messages)
        await ed.record(rec("gpt-4o", costUsd=0.05))
        sb = await ed.request("usage/statusBar")
        assert sb["text"].startswith("5.0 cr") and sb["level"] == "error"  # default $0.01/credit, budget kept


async def test_dollars_per_credit_and_per_request_credits(data_dir):
    write_config(data_dir, '[credits]\nusd_per_credit = 0.04\n[credits.per_request]\n"gpt-4.1" = 1\n"o3" = 5\n')
    async with Editor(data_dir) as ed:
        await ed.record(rec("gpt-4o", costUsd=0.2), rec("gpt-4.1"), rec("o3"), rec("o3", billing="byok"))
        s = await ed.request("usage/summary")
        assert s["credits"] == pytest.approx(5 + 1 + 5)


async def test_price_overrides_for_custom_models(data_dir):
    write_config(data_dir, '[prices."acme-coder"]\ninput = 2.0\noutput = 8.0\ncache_read = 0.5\n')
    async with Editor(data_dir) as ed:
        await ed.record(rec("acme-coder", 1_000_000, 100_000, cacheReadTokens=200_000))
        s = await ed.request("usage/summary")
        assert s["costUsd"] == pytest.approx(2.0 + 0.8 + 0.1) and s["unpricedMessages"] == 0


async def test_hostile_names_are_text_in_tooltips_and_hovers(data_dir):
    evil = "<img src=x onerror=alert(1)>"
    link = "[click](http://evil.example)"
    async with Editor(data_dir) as ed:
        await ed.record(rec(evil, costUsd=0.01), rec(link, costUsd=0.01), rec("x*bold*_y_", costUsd=0.01))
        tip = (await ed.request("usage/statusBar"))["tooltip"]
        assert "<img" not in tip and "&lt;img src=x onerror=alert(1)&gt;" in tip
        assert "[click](" not in tip and "\\[click\\](http" in tip  # brackets escaped: not a link
        assert "x\\*bold\\*\\_y\\_" in tip
        await ed.record(rec("my_model_v2", costUsd=0.01))
        uri = ed.open_doc("evil.md", "model: my_model_v2")
        h = await ed.hover(uri, 0, 9)
        assert h is not None and "**my\\_model\\_v2**" in h.contents.value  # not italics


async def test_status_bar_counts_dollars_for_someone_with_only_byok_usage(data_dir):
    # a Claude Code or Codex user: every record BYOK; "0.0 cr" would say nothing was counted
    async with Editor(data_dir) as ed:
        await ed.record(rec(id="b1", billing="byok", costUsd=0.31))
        change = await ed.wait_change(lambda c: c["today"]["messages"] == 1)
        assert change["statusBar"]["billing"] == "byok" and change["statusBar"]["text"].startswith("$0.31")
        assert (await ed.request("usage/statusBar", {"billing": "premium"}))["text"].startswith("0.0 cr")
        await ed.record(rec(id="p1", billing="premium", costUsd=0.05))  # plan credits in use: credits
        change = await ed.wait_change(lambda c: c["today"]["messages"] == 2)
        assert change["statusBar"]["billing"] == "premium" and change["statusBar"]["text"].startswith("5.0 cr")
