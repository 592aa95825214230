"""A second report of a stored call adds its attribution to the record (store/annotations.py):
durably, once, across windows, never touching tokens or cost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from editor import Editor, rec

from usage_ls.attribution import merged
from usage_ls.service import Usage
from usage_ls.store.safety import problems as safety_problems

FIRST = rec("claude-sonnet-4-5", 1000, 100, id="claude-code:msg_1:req_1", feature="claude-code", costUsd=0.25)
# the same call again (as the OTel event reports it): attribution, and its own idea of the counts
AGAIN = {**FIRST, "inputTokens": 5, "costUsd": 9.0, "feature": "claude-code agent=code-reviewer mcp=github"}


async def _row(ed: Editor) -> dict:
    rows = (await ed.request("usage/interactions", {}))["rows"]
    assert len(rows) == 1
    return rows[0]


async def test_a_duplicate_with_attribution_enriches_the_record_in_every_window_and_survives_kill_9(data_dir):
    a, b = await Editor(data_dir).start(), await Editor(data_dir).start()
    try:
        assert (await a.record(FIRST))["accepted"] == 1
        before = await _row(a)
        total = await a.request("usage/summary", {})
        result = await b.record(AGAIN)
        assert (result["accepted"], result["duplicates"], result["enriched"]) == (0, 1, 1)
        row = await _row(a)  # the other window sees it
        assert row["feature"] == "claude-code agent=code-reviewer mcp=github"
        assert {k: v for k, v in row.items() if k != "feature"} == {k: v for k, v in before.items() if k != "feature"}
        assert await a.request("usage/summary", {}) == total  # tokens and cost as first stored
        again = await b.record(AGAIN)  # a retry: nothing new
        assert (again["duplicates"], again.get("enriched")) == (1, None)
        more = await a.record({**AGAIN, "feature": "claude-code agent=other query=subagent"})
        assert more["enriched"] == 1  # adds query=, keeps the agent it had
        assert (await _row(b))["feature"] == "claude-code agent=code-reviewer mcp=github query=subagent"
    finally:
        for ed in (a, b):
            os.kill(ed.client._server.pid, signal.SIGKILL)
            await ed.client.stop()
    async with Editor(data_dir) as c:  # after a crash of both (its start folds their journals)
        row = await _row(c)
        assert row["feature"] == "claude-code agent=code-reviewer mcp=github query=subagent"
        assert (row["inputTokens"], row["costUsd"]) == (1000, 0.25)
    lines = (data_dir / "annotations" / f"{row['date'][:7]}.jsonl").read_text().splitlines()
    assert len(lines) == 2


def test_annotation_lines_read_back_are_checked_and_a_torn_line_is_skipped(data_dir):
    svc = Usage(data_dir=data_dir).open()
    led = svc.ledger
    day = svc.today()
    svc.record([FIRST])
    path = data_dir / "annotations" / f"{day[:7]}.jsonl"
    path.parent.mkdir(exist_ok=True)
    forged = [
        json.dumps({"id": "claude-code:msg_1:req_1", "date": day, "feature": "evil\u0007bell"}),
        '{"id": "claude-code:msg_1:req_1", "date": "1999-01-01", "feature": "claude-code agent=old"}',
        '["not", "an", "object"]',
    ]
    path.write_text("\n".join(forged) + '\n{"id": "claude-code:msg_1:req_1", "date": "' + day + '", "fea')
    led.refresh()
    assert led.day_records(day)[0]["feature"] == "claude-code"  # nothing applied
    told = led.take_problems()
    assert [p.split(": ", 1)[0].rsplit(" ", 1)[1] for p in told] == ["1", "2", "3"]  # the line numbers
    assert "feature: contains a control character" in told[0]
    # the next annotation ends the torn line: it stays unread, the new one is read
    assert svc.record([AGAIN])["enriched"] == 1
    assert led.day_records(day)[0]["feature"] == "claude-code agent=code-reviewer mcp=github"
    fresh = Usage(data_dir=data_dir).open()
    assert fresh.interactions({})["rows"][0]["feature"] == "claude-code agent=code-reviewer mcp=github"
    svc.close()
    fresh.close()
    doctor = subprocess.run(
        [sys.executable, "-m", "usage_ls", "doctor"],
        capture_output=True,
        text=True,
        env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)},
    )
    assert "attribution:    added to 1 record(s) later (1 month file(s) in annotations/)" in doctor.stdout
    assert f"{path} line 2: skipped (date: expected a day of {day[:7]})" in doctor.stdout


def test_an_annotations_folder_that_is_a_link_is_refused(tmp_path):
    root = tmp_path / "data"
    root.mkdir(mode=0o700)
    (tmp_path / "elsewhere").mkdir()
    (root / "annotations").symlink_to(tmp_path / "elsewhere")
    assert any("annotations is a symbolic link" in p for p in safety_problems(root))


@pytest.mark.parametrize(
    ("stored", "incoming", "expected"),
    [
        ("claude-code", "claude-code agent=x", "claude-code agent=x"),
        ("claude-code", "claude-code", None),  # nothing to add
        ("claude-code agent=x", "claude-code agent=y", None),  # what is stored stays
        (
            "claude-code query=subagent",
            "claude-code mcp=github agent=x",
            "claude-code agent=x mcp=github query=subagent",
        ),
        (None, "claude-code skill=pdf", "claude-code skill=pdf"),
    ],
)
def test_merged_adds_only_missing_keys_in_a_fixed_order(stored, incoming, expected):
    assert merged(stored, incoming) == expected


def test_merged_drops_whole_words_past_200_characters():
    a, s, p, m = ("agent=" + "a" * 60), ("skill=" + "s" * 60), ("plugin=" + "p" * 60), "mcp=github"
    assert merged("claude-code", f"claude-code {m} {p} {s} {a}") == f"claude-code {a} {s}"
