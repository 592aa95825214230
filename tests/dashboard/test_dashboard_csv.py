"""The dashboard's CSV export in headless Chromium: quoting (RFC 4180) and formula neutralising.

Every text cell is quoted ("…", a " inside doubled); text starting with a formula character
(= + - @, tab, CR) carries a leading ' inside the quotes; numbers and empty values stay bare.
The export is parsed back with Python's csv module: each name must come back as itself (with
the ' only where it starts with a formula character), and no cell, read raw or parsed, may
start with a formula character.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading

import pytest
from dashboard_known import seed

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# names the ledger takes as they are (it strips surrounding white space and refuses control
# characters, so the tab names are checked on the page's own toCsv below)
NAMES = ["x;=1+1", "x,=1+1", 'say "hi", "=1+1"', "=2+3", "-1+2", "+1", "@SUM(A1)", "plain"]
TEXT_COLUMNS = {
    "timestamp",
    "date",
    "project",
    "model",
    "user",
    "billing",
    "cost_source",
    "provider",
    "feature",
    "session",
}
NUMBER_COLUMNS = {
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "total_tokens",
    "credits",
    "cost_usd",
}
NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]?\d+)?")


def shown(name: str) -> str:
    """What a cell must read as: the name itself, behind a ' when it starts with a formula character."""
    return "'" + name if name.startswith(FORMULA_START) else name


def raw_fields(line: str) -> list[str]:
    """The fields of one CSV line exactly as written (quotes included), split on commas outside quotes."""
    fields = re.findall(r'(?:^|,)("(?:[^"]|"")*"|[^,"]*)', line)
    assert ",".join(fields) == line, f"not a well-formed CSV line: {line!r}"
    return fields


def check_export(text: str) -> list[dict]:
    """The checks every export must pass; returns its rows as dicts."""
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    body = text[1:]
    lines = body[:-2].split("\r\n")  # no name here holds a CRLF (the ledger refuses line breaks)
    header = raw_fields(lines[0])
    assert all(f.startswith('"') for f in header)
    names = [f.strip('"') for f in header]
    assert set(names) == TEXT_COLUMNS | NUMBER_COLUMNS
    for line in lines[1:]:
        fields = raw_fields(line)
        assert len(fields) == len(names), line
        for col, raw in zip(names, fields):
            # nothing starts with a formula character unquoted
            assert not raw.startswith(FORMULA_START), (col, raw)
            if col in NUMBER_COLUMNS:
                assert raw == "" or NUMBER.fullmatch(raw), (col, raw)
            else:
                assert raw == "" or (raw.startswith('"') and raw.endswith('"')), (col, raw)
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert len(rows) == len(lines) - 1
    for row in rows:
        assert None not in row and len(row) == len(names), row  # no cell split off
        for col, value in row.items():
            assert not value.startswith(FORMULA_START), (col, value)
    return rows


@pytest.fixture(scope="module")
def odd_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("csv") / "data"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    records = [
        {
            "id": f"n{i}",
            "timestamp": (now - dt.timedelta(minutes=i + 1)).isoformat().replace("+00:00", "Z"),
            "project": name,
            "model": name,
            "user": name,
            "billing": "premium",
            "inputTokens": 100 + i,
            "outputTokens": 10,
            "credits": 1.5,
            "costUsd": 0.015,
        }
        for i, name in enumerate(NAMES)
    ]
    seed(data, records)
    svc = Usage(data_dir=data, tag="cli", writable=False).open()
    srv = DashboardServer(svc, {})
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    svc.close()


def test_exported_names_round_trip_quoted_and_neutralised(odd_server, open_page):
    page, _ = open_page(odd_server.url)
    with page.expect_download() as dl:
        page.click("#export")
    raw = open(dl.value.path(), encoding="utf-8", newline="").read()
    rows = check_export(raw)
    assert len(rows) == len(NAMES)
    by_input = {int(r["input_tokens"]): r for r in rows}
    for i, name in enumerate(NAMES):
        row = by_input[100 + i]
        assert (row["project"], row["model"], row["user"]) == (shown(name),) * 3, name
        assert (row["credits"], row["cost_usd"], row["total_tokens"]) == ("1.5", "0.015", str(110 + i))
        assert row["billing"] == "premium" and row["provider"] == "" and row["session"] == ""
    # the line as written, for the name the issue was about
    line = next(ln for ln in raw.split("\r\n") if '"x;=1+1"' in ln)
    assert ',"x;=1+1","x;=1+1","x;=1+1","premium",100,10,0,0,110,1.5,0.015,' in line
    assert '"\'=2+3"' in raw and '"say ""hi"", ""=1+1"""' in raw


def test_tab_and_cr_names_are_quoted_and_neutralised(odd_server, open_page):
    """Names with a tab or CR never reach the ledger (it refuses control characters); the page
    must still write them safely, so its toCsv gets them directly."""
    page, _ = open_page(odd_server.url)
    names = ["tab\there", "\t=1+1", "\r=1+1", 'a"\tb', "x;\t=1+1"]
    rows = [
        {
            "timestamp": "2026-01-02T03:04:05Z",
            "date": "2026-01-02",
            "project": n,
            "model": n,
            "user": "u",
            "billing": "byok",
            "inputTokens": 1,
            "outputTokens": 2,
            "cacheReadTokens": 0,
            "cacheWriteTokens": 0,
            "totalTokens": 3,
            "credits": 0,
            "costUsd": None,
            "costSource": "unpriced",
            "provider": None,
            "feature": "-f",
            "session": "@s",
        }
        for n in names
    ]
    text = page.evaluate("rows => window.usageDashboard.toCsv(rows)", rows)
    parsed = check_export(text)
    assert [(r["project"], r["model"]) for r in parsed] == [(shown(n), shown(n)) for n in names]
    assert [r["project"] for r in parsed] == ["tab\there", "'\t=1+1", "'\r=1+1", 'a"\tb', "x;\t=1+1"]
    for r in parsed:
        assert (r["feature"], r["session"], r["cost_usd"], r["credits"]) == ("'-f", "'@s", "", "0")
    assert '"tab\there"' in text and '"\'\t=1+1"' in text and '"\'\r=1+1"' in text and '"a""\tb"' in text
