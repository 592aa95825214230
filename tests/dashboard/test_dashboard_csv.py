"""The dashboard's CSV export in headless Chromium: quoting (RFC 4180) and formula neutralising.

Every text cell is quoted ("…", a " inside doubled); text starting with a formula character
(= + - @, tab, CR) carries a leading ' inside the quotes; so does the rest of a name after a
;, tab or line break when a formula character follows (spaces and " between them included),
because a spreadsheet splitting this comma-separated file on ; or tab (a locale's default) does
not see our quotes and starts a cell there. Numbers and empty values stay bare.

The export is parsed back with Python's csv module: each name must come back as itself, with
a ' only in those places, and no cell may start with a formula character whether the file is
split on commas, on semicolons or on tabs, honouring quotes or not. Where LibreOffice is
installed, it imports the file split on ; and tab with formulas evaluated, and must find none.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET

import pytest
from dashboard_known import seed

from usage_ls.dashboard.serve import DashboardServer
from usage_ls.service import Usage

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# names the ledger takes as they are (it strips surrounding white space and refuses control
# characters, so the tab names are checked on the page's own toCsv below)
NAMES = [
    "x;=1+1",
    "x,=1+1",
    'say "hi", "=1+1"',
    "=2+3",
    "-1+2",
    "+1",
    "@SUM(A1)",
    "plain",
    "a;=1+1;b",
    'q;"@x',
    "n; +1",
    "ok;1-2",
]
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
    """What a cell must read as: the name, with a ' before it when it starts with a formula
    character, and after each ;, tab or line break that (past spaces and ") comes before one."""
    name = re.sub(r'([;\t\r\n])(?=[ "]*[=+\-@\t\r])', r"\1'", name)
    return "'" + name if name.startswith(FORMULA_START) else name


def test_shown_spells_out_the_rule():
    assert [shown(n) for n in NAMES] == [
        "x;'=1+1",
        "x,=1+1",
        'say "hi", "=1+1"',
        "'=2+3",
        "'-1+2",
        "'+1",
        "'@SUM(A1)",
        "plain",
        "a;'=1+1;b",
        "q;'\"@x",
        "n;' +1",
        "ok;1-2",
    ]


def cell_starts(text: str, sep: str) -> list[str]:
    """Every cell of `text` split on `sep` the ways a spreadsheet might: by Python's csv module
    (honouring quotes), and, for ; and tab, also naively (quotes ignored, a new row at any CR or
    LF: our quotes do not line up with their cells); each with the spaces and quotes a
    spreadsheet may drop from its start removed. (A comma reader honours quotes: it is the
    file's own dialect.)"""
    cells = [c for row in csv.reader(io.StringIO(text, newline=""), delimiter=sep) for c in row]
    if sep != ",":
        cells += re.split(f"[{re.escape(sep)}\r\n]", text)
    return [c.lstrip(' "') for c in cells]


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
    for sep in (",", ";", "\t"):  # whatever the reader splits on, no cell is a formula
        bad = [c for c in cell_starts(body, sep) if c.startswith(FORMULA_START)]
        assert bad == [], (sep, bad)
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
    # the lines as written, for the names the issue was about
    line = next(ln for ln in raw.split("\r\n") if '"x;\'=1+1"' in ln)
    assert ',"x;\'=1+1","x;\'=1+1","x;\'=1+1","premium",100,10,0,0,110,1.5,0.015,' in line
    assert ',"x,=1+1","x,=1+1","x,=1+1","premium",101,10,' in raw
    assert '"\'=2+3"' in raw and '"say ""hi"", ""=1+1"""' in raw and '"q;\'""@x"' in raw
    assert '"a;\'=1+1;b"' in raw and '"ok;1-2"' in raw


def test_tab_and_cr_names_are_quoted_and_neutralised(odd_server, open_page):
    """Names with a tab or CR never reach the ledger (it refuses control characters); the page
    must still write them safely, so its toCsv gets them directly."""
    page, _ = open_page(odd_server.url)
    names = ["tab\there", "\t=1+1", "\r=1+1", 'a"\tb', "x;\t=1+1", "t\t=1+1", "l\n@x", "c\r-1"]
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
    assert [r["project"] for r in parsed] == [
        "tab\there",
        "'\t'=1+1",
        "'\r'=1+1",
        'a"\tb',
        "x;'\t'=1+1",
        "t\t'=1+1",
        "l\n'@x",
        "c\r'-1",
    ]
    for r in parsed:
        assert (r["feature"], r["session"], r["cost_usd"], r["credits"]) == ("'-f", "'@s", "", "0")
    assert '"tab\there"' in text and "\"'\t'=1+1\"" in text and "\"'\r'=1+1\"" in text and '"a""\tb"' in text
    assert '"t\t\'=1+1"' in text


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def formulas_libreoffice_finds(csv_files, tmp_path) -> dict[str, list[str]]:
    """Each file imported by LibreOffice Calc split on ; and tab (quotes honoured its way,
    "Evaluate formulas" on): the formulas it made, by file name."""
    out = tmp_path / "calc"
    filt = "CSV:59/9,34,76,1,,1033,false,true,false,false,false,-1,true"  # 13th: evaluate formulas
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", f"--infilter={filt}"]
        + ["--convert-to", "fods", "--outdir", str(out)]
        + [str(f) for f in csv_files],
        check=True,
        capture_output=True,
        timeout=180,
    )
    found = {}
    for f in csv_files:
        tree = ET.parse(out / (f.stem + ".fods"))
        found[f.name] = [c.get(f"{{{TABLE_NS}}}formula") for c in tree.iter(f"{{{TABLE_NS}}}table-cell")]
        found[f.name] = [x for x in found[f.name] if x]
    return found


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_splitting_on_semicolons_or_tabs_finds_no_formula(odd_server, open_page, tmp_path):
    page, _ = open_page(odd_server.url)
    with page.expect_download() as dl:
        page.click("#export")
    export = tmp_path / "export.csv"
    export.write_bytes(open(dl.value.path(), "rb").read())
    tabbed = tmp_path / "tabbed.csv"  # names with tabs, written by the page's own toCsv
    row = {"timestamp": "2026-01-02T03:04:05Z", "project": "t\t=1+1", "model": "x;\t@y", "user": "u;=2+2;v"}
    tabbed.write_text(page.evaluate("r => window.usageDashboard.toCsv([r])", row), encoding="utf-8", newline="")
    # the control: quoted, with the leading ' only, as the export was before; LibreOffice must
    # make formulas of it, or this test could not see one
    control = tmp_path / "control.csv"
    control.write_text('\ufeff"2026-01-02","a;=1+1;b","u\t=3+3",1\r\n', encoding="utf-8", newline="")
    found = formulas_libreoffice_finds([export, tabbed, control], tmp_path)
    assert len(found["control.csv"]) == 2, found["control.csv"]
    assert found["export.csv"] == [] and found["tabbed.csv"] == [], found
