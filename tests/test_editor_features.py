"""What any LSP editor gets (docs/editors.md): the commands, the code action on model names and
the opt-in progress status, through the real server over stdio."""

from __future__ import annotations

import asyncio
import html
import json
import re
import stat
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from editor import Editor, rec
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from raw_server import RawServer

SHOW_DOCUMENT = types.ClientCapabilities(
    window=types.WindowClientCapabilities(show_document=types.ShowDocumentClientCapabilities(support=True))
)
PROGRESS = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))


async def command(ed: Editor, name: str, *arguments):
    return await asyncio.wait_for(
        ed.client.workspace_execute_command_async(types.ExecuteCommandParams(command=name, arguments=list(arguments))),
        60,
    )


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=20) as answer:
        return answer.read().decode()


async def test_commands_are_advertised_and_dashboard_opens_through_show_document(data_dir):
    async with Editor(data_dir, capabilities=SHOW_DOCUMENT) as ed:
        caps = ed.init_result.capabilities
        assert set(caps.execute_command_provider.commands) >= {
            "usage-ls.openDashboard",
            "usage-ls.showToday",
            "usage-ls.showModel",
            "usage-ls.record",
        }
        assert caps.code_action_provider
        await ed.record(rec(model="claude-sonnet-4-5", inp=1200, out=300), rec(model="gpt-4o", inp=50, out=5))
        result = await command(ed, "usage-ls.openDashboard", {"model": "gpt-4o"})
        assert result["shown"] is True
        shown = ed.client.shown_documents
        assert len(shown) == 1 and shown[0].external is True
        # the browser is sent a file only the user can read, which forwards to the URL: the
        # token never appears on a command line
        opener = Path(unquote(urlsplit(shown[0].uri).path))
        assert shown[0].uri.startswith("file://") and "token" not in shown[0].uri
        assert stat.S_IMODE(opener.stat().st_mode) == 0o600
        url = html.unescape(re.search(r'url=([^"]+)"', opener.read_text()).group(1))
        assert url == result["url"]
        assert url.startswith("http://127.0.0.1:") and "token=" in url and url.endswith("&model=gpt-4o")
        page = await asyncio.to_thread(fetch, url)
        boot = json.loads(page.split('id="usage-data">')[1].split("</script>")[0])
        assert boot["filter"]["model"] == "gpt-4o"  # the page opens filtered to the model
        # the same dashboard is reused: one child process, one token
        again = await command(ed, "usage-ls.openDashboard")
        assert again["url"].split("&")[0] == url.split("&")[0]
        assert not ed.messages or not any("Dashboard" in m for m in ed.messages)


async def test_dashboard_falls_back_to_a_message_without_show_document(data_dir):
    async with Editor(data_dir) as ed:
        result = await command(ed, "usage-ls.openDashboard")
        assert result["shown"] is False
        message = await ed.wait_message(lambda m: "Usage Dashboard" in m)
        assert result["url"] in message and message.split(": ", 2)[2].startswith("http://127.0.0.1:")
        assert "<html" in (await asyncio.to_thread(fetch, result["url"])).lower()
        with pytest.raises(JsonRpcException, match=r"arguments\[0\]\.model: expected a string"):
            await command(ed, "usage-ls.openDashboard", {"model": 5})


async def test_show_today_record_and_show_model(data_dir):
    async with Editor(data_dir) as ed:
        empty = await command(ed, "usage-ls.showToday")
        assert "no AI usage recorded today" in empty
        answer = await command(
            ed,
            "usage-ls.record",
            {"records": [rec(model="claude-sonnet-4-5", inp=10_000, out=2_000, id="m1"), rec(model="", id="m2")]},
        )
        assert answer["accepted"] == 1 and answer["rejected"][0]["field"] == "model"
        text = await command(ed, "usage-ls.showToday")
        assert "12k tokens in 1 messages" in text or "12.0k tokens" in text or "12k tokens" in text
        assert "claude-sonnet-4-5" in text
        assert await ed.wait_message(lambda m: m == text)
        model = await command(ed, "usage-ls.showModel", "claude-sonnet-4-5")
        assert "claude-sonnet-4-5" in model and "**" not in model
        with pytest.raises(JsonRpcException, match="expected one object"):
            await command(ed, "usage-ls.record", [1, 2])


def test_code_action_on_model_names_only(data_dir):
    srv = RawServer(data_dir)  # the JSON as an editor gets it
    try:
        srv.initialize()
        srv.request("usage/record", {"records": [rec(model="claude-sonnet-4-5")]})
        uri = "file:///tmp/notes.md"
        text = "We switched to claude-sonnet-4-5 last week.\nnothing here\n"
        srv.send(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}},
            }
        )

        def actions(line: int, character: int):
            at = {"line": line, "character": character}
            params = {"textDocument": {"uri": uri}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}
            return srv.request("textDocument/codeAction", params)["result"]

        on_model = actions(0, 20)
        assert [a["title"] for a in on_model] == [
            "Show usage of claude-sonnet-4-5",
            "Open Usage Dashboard filtered to this model",
        ]
        assert on_model[0]["command"] == {
            "title": "Show usage of claude-sonnet-4-5",
            "command": "usage-ls.showModel",
            "arguments": ["claude-sonnet-4-5"],
        }
        assert on_model[1]["command"]["arguments"] == [{"model": "claude-sonnet-4-5"}]
        assert not actions(0, 3)  # "We"
        assert not actions(1, 2)
    finally:
        srv.close()


async def test_progress_status_is_off_by_default_and_rate_bounded_when_on(data_dir):
    async with Editor(data_dir, capabilities=PROGRESS) as ed:
        await ed.record(rec())
        await ed.wait_change(lambda c: c["today"]["messages"] == 1)
        assert not ed.client.progress_reports

    async with Editor(data_dir, capabilities=PROGRESS, init_options={"progressStatus": True}) as ed:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while not ed.client.progress_reports and loop.time() < deadline:
            await asyncio.sleep(0.05)
        (token, reports) = next(iter(ed.client.progress_reports.items()))
        assert reports[0].kind == "begin" and reports[0].title == "usage-ls" and " cr" in reports[0].message
        for i in range(30):  # a burst of changes, 30 pushes' worth
            await ed.record(rec(id=f"burst-{i}", inp=100_000))
            await asyncio.sleep(0.05)
        await ed.wait_change(lambda c: c["today"]["messages"] == 31)
        await asyncio.sleep(2.5)  # the trailing update of the last interval
        updates = [r for r in ed.client.progress_reports[token] if r.kind == "report"]
        assert 1 <= len(updates) <= 4, [u.message for u in updates]  # ~1.5 s of changes: not 30 updates
        status = await ed.request("usage/statusBar")
        assert updates[-1].message == status["text"]  # the last state is always shown
        bad = Editor(data_dir, capabilities=PROGRESS, init_options={"progressStatus": "yes"})
        async with bad:
            assert await bad.wait_message(lambda m: "initializationOptions.progressStatus: expected true or false" in m)


def test_the_dashboard_ends_with_its_server_even_after_kill_9(data_dir):
    srv = RawServer(data_dir)
    try:
        srv.initialize()
        answer = srv.request("workspace/executeCommand", {"command": "usage-ls.openDashboard"}, timeout=60)
        url = answer["result"]["url"]
        assert "<html" in fetch(url).lower()
        srv.proc.kill()
        srv.proc.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                fetch(url)
            except OSError:
                return  # nothing listens any more
            time.sleep(0.2)
        raise AssertionError("the dashboard outlived its language server")
    finally:
        srv.close()


async def test_hover_is_plain_text_for_a_client_that_takes_only_that(data_dir):
    plain_only = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.PlainText])
        )
    )
    async with Editor(data_dir, capabilities=plain_only) as ed:
        await ed.record(rec(model="claude-sonnet-4-5", inp=4000, out=1000))
        uri = ed.open_doc("notes.md", "use claude-sonnet-4-5 here")
        hover = await ed.hover(uri, 0, 8)
        assert hover.contents.kind == "plaintext"
        assert hover.contents.value.startswith("claude-sonnet-4-5: AI usage today")
        assert "Total tokens 5,000" in hover.contents.value and "**" not in hover.contents.value
