"""What is on disk is not trusted blindly: forged journal lines are skipped and named, nothing
is read or written through a symbolic link, and a data directory others could write to (or
that another user owns) is refused with the command that fixes it, by every face and by
`usage-ls doctor`."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import subprocess
import sys

import orjson
import pytest
from editor import Editor, rec
from hypothesis import given, settings
from hypothesis import strategies as st

from usage_ls.model import KNOWN_FIELDS, Defaults, RecordError, validate_record
from usage_ls.service import Usage
from usage_ls.stored import COST_SOURCES, STORED_FIELDS, check_stored


def cli(data_dir, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "usage_ls", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)},
    )


def stored(data_dir, **fields) -> dict:
    """A record in its stored form (validated and priced), as a server writes it to its journal."""
    svc = Usage(data_dir=data_dir, writable=False).open()
    return svc.pricer.apply(validate_record(rec("gpt-4o", 2000, 100, **fields), svc.defaults())[0])


def dead_journal(data_dir, *records: dict, name: str = "20260101T000000-srv-999999-abc.jsonl"):
    """A journal left by a process that stopped, holding these lines."""
    path = data_dir / "journal" / name
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def today(data_dir) -> dict:
    out = cli(data_dir, "report", "today", "--json")
    assert out.returncode == 0, out.stderr
    return orjson.loads(out.stdout)


# -- journal lines are checked again -----------------------------------------------------------


async def test_a_forged_journal_line_is_skipped_and_named_with_its_line_number(data_dir):
    assert (
        cli(data_dir, "record", "--model", "gpt-4o", "--input", "1000", "--output", "10", "--cost", "0.05").returncode
        == 0
    )
    good = stored(data_dir, id="good", costUsd=0.05)
    forged = {**good, "id": "forged", "inputTokens": -1_000_000, "costUsd": -50.0}
    journal = dead_journal(data_dir, good, forged)

    out = cli(data_dir, "report", "today")
    assert out.returncode == 0 and "$-" not in out.stdout and "-997,000" not in out.stdout
    assert f"{journal} line 2: inputTokens: must be >= 0, got -1000000" in out.stderr
    s = today(data_dir)
    assert s["messages"] == 2 and s["costUsd"] == pytest.approx(0.10) and s["inputTokens"] == 3000
    with journal.open("ab") as fh:  # a date that is a path would have put a day file anywhere
        fh.write(orjson.dumps({**good, "id": "late", "date": "../../escape"}) + b"\n")
    out = cli(data_dir, "report", "today")
    assert out.returncode == 0 and "line 3: date: expected a day as YYYY-MM-DD" in out.stderr
    s = today(data_dir)
    assert s["messages"] == 2 and s["costUsd"] == pytest.approx(0.10) and s["inputTokens"] == 3000

    doc = cli(data_dir, "doctor")
    assert doc.returncode == 1 and f"{journal} line 2: inputTokens: must be >= 0" in doc.stdout

    async with Editor(data_dir) as ed:  # a server folds the stopped process's journal at start
        assert (await ed.request("usage/summary"))["messages"] == 2
        page = await ed.request("usage/interactions", {"limit": 10})
        ids = {r["id"] for r in page["rows"]}
        assert page["total"] == 2 and "good" in ids and not ids & {"forged", "late"}
    assert not journal.exists() and list(journal.parent.glob(f"{journal.name}.corrupt-*")), "kept aside, not deleted"
    assert not (data_dir.parent.parent / "escape.json").exists()  # days/../../e/../../escape.json
    doc = cli(data_dir, "doctor")  # the journal is gone from journal/: the repairs log still says it
    assert doc.returncode == 1 and "line 2: inputTokens: must be >= 0" in doc.stdout
    assert today(data_dir)["messages"] == 2


def test_a_forged_line_in_a_running_writers_journal_keeps_that_journal_for_inspection(data_dir):
    assert cli(data_dir, "record", "--model", "gpt-4o", "--input", "1000", "--output", "10").returncode == 0
    good = stored(data_dir, id="good")
    journal = dead_journal(data_dir, good, {**good, "id": "forged", "outputTokens": -5})
    fd = os.open(journal, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # its writer is running: the journal is folded, not retired
    try:
        assert cli(data_dir, "checkpoint").returncode == 0
        assert journal.exists() and today(data_dir)["messages"] == 2
    finally:
        os.close(fd)  # the writer is gone: the next checkpoint retires the journal
    assert cli(data_dir, "checkpoint").returncode == 0
    assert not journal.exists() and list(journal.parent.glob(f"{journal.name}.corrupt-*")), "kept, not deleted"
    doc = cli(data_dir, "doctor")
    assert f"{journal}: line 2: outputTokens: must be >= 0, got -5" in doc.stdout
    assert today(data_dir)["messages"] == 2


def test_a_symlinked_journal_is_not_read(data_dir, tmp_path):
    assert cli(data_dir, "record", "--model", "gpt-4o", "--input", "1000", "--output", "10").returncode == 0
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_bytes(orjson.dumps(stored(data_dir, id="planted", costUsd=9.0)) + b"\n")
    link = data_dir / "journal" / "20260101T000000-srv-999999-abc.jsonl"
    link.symlink_to(elsewhere)

    out = cli(data_dir, "report", "today", "--json")
    assert orjson.loads(out.stdout)["messages"] == 1
    assert f"{link} is a symbolic link, not a journal: not read" in out.stderr
    assert cli(data_dir, "checkpoint").returncode == 0  # moves the link aside, never touches its target
    assert not link.is_symlink() and elsewhere.read_bytes().startswith(b'{"id":"planted"')
    assert today(data_dir)["messages"] == 1
    doc = cli(data_dir, "doctor")
    assert "a symbolic link where a journal should be" in doc.stdout


# -- no file or folder of the store is followed out of the data directory ----------------------


async def test_a_symlinked_store_folder_is_refused(data_dir, tmp_path):
    assert cli(data_dir, "record", "--model", "gpt-4o", "--input", "1000", "--output", "10").returncode == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    rollups = data_dir / "rollups"
    for f in rollups.iterdir():
        f.unlink()
    rollups.rmdir()
    rollups.symlink_to(outside)

    out = cli(data_dir, "record", "--model", "gpt-4o", "--input", "1", "--output", "1")
    assert out.returncode == 2
    assert f"{rollups} is a symbolic link (to {outside})" in out.stderr and "rm " in out.stderr
    ed = Editor(data_dir)
    with pytest.raises(Exception, match="symbolic link"):
        await ed.start()
    assert any("symbolic link" in m for m in ed.messages)
    await ed.stop()
    assert not list(outside.iterdir()), "nothing was written through the link"
    doc = cli(data_dir, "doctor")
    assert doc.returncode == 1 and f"{rollups} is a symbolic link" in doc.stdout

    month = next((data_dir / "days").iterdir())  # a month folder counts too
    rollups.unlink()
    month.rename(outside / month.name)
    month.symlink_to(outside / month.name)
    out = cli(data_dir, "report", "today")
    assert out.returncode == 2 and f"{month} is a symbolic link" in out.stderr


async def test_a_symlinked_day_file_is_not_followed(data_dir, tmp_path):
    async with Editor(data_dir) as ed:
        await ed.record(*[rec("gpt-4o", 100, 10, id=f"s{i}", costUsd=0.01) for i in range(5)])
    day_file = next((data_dir / "days").rglob("*.json"))
    forged = tmp_path / "forged.json"
    planted = stored(data_dir, id="planted", costUsd=0.01)
    forged.write_bytes(orjson.dumps({"records": {"planted": {**planted, "inputTokens": -(10**9)}}}))
    day_file.unlink()
    day_file.symlink_to(forged)
    async with Editor(data_dir) as ed:
        page = await ed.request("usage/interactions", {"limit": 10})
        assert page["total"] == 5 and "planted" not in {r["id"] for r in page["rows"]}
        await ed.wait_message(lambda m: "symbolic link" in m and "moved aside" in m)
    assert not day_file.is_symlink() and orjson.loads(day_file.read_bytes())["records"].keys() == {
        f"s{i}" for i in range(5)
    }
    assert orjson.loads(forged.read_bytes())["records"]["planted"]["inputTokens"] == -(10**9)  # untouched


# -- a data directory others could write to, or another user's, is refused ---------------------


async def test_a_data_directory_others_can_write_or_another_user_owns_is_refused(data_dir):
    assert cli(data_dir, "record", "--model", "gpt-4o", "--input", "1000", "--output", "10").returncode == 0
    data_dir.chmod(0o775)
    out = cli(data_dir, "report", "today")
    assert out.returncode == 2
    assert f"{data_dir} is writable by its group (mode 0o775)" in out.stderr
    assert f"`chmod 700 {data_dir}`" in out.stderr
    ed = Editor(data_dir)
    with pytest.raises(Exception, match="chmod 700"):
        await ed.start()
    await ed.stop()
    doc = cli(data_dir, "doctor")
    assert doc.returncode == 1 and f"`chmod 700 {data_dir}`" in doc.stdout

    data_dir.chmod(0o700)
    journal = data_dir / "journal"
    journal.chmod(0o777)
    out = cli(data_dir, "record", "--model", "gpt-4o", "--input", "1", "--output", "1")
    assert out.returncode == 2 and f"{journal} is writable by its group and others" in out.stderr
    journal.chmod(0o700)

    os.chown(data_dir, 4242, -1)  # (the tests run as root: another user's folder, made for real)
    try:
        out = cli(data_dir, "report", "today")
        assert out.returncode == 2 and "(uid 4242), not by you" in out.stderr and "chown -R" in out.stderr
        doc = cli(data_dir, "doctor")
        assert doc.returncode == 1 and "(uid 4242), not by you" in doc.stdout
    finally:
        os.chown(data_dir, os.getuid(), -1)
    assert today(data_dir)["messages"] == 1  # fixed: used again, nothing lost


# -- check_stored is usage/record's rules on the stored form -----------------------------------

_STORED = {
    **validate_record(
        {
            "id": "claude-code:msg_1",
            "timestamp": 1_763_600_000_000,
            "model": "claude-sonnet-4-5",
            "provider": "anthropic",
            "project": "widget",
            "user": "ann",
            "billing": "byok",
            "inputTokens": 1,
            "outputTokens": 2,
            "cacheReadTokens": 3,
            "cacheWriteTokens": 4,
            "cacheWrite1hTokens": 4,
            "costUsd": 0.5,
            "credits": 1.0,
            "feature": "claude-code",
            "session": "s1",
        },
        Defaults("p", "u", dt.UTC),
    )[0],
    "costSource": "reported",
}
_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.sampled_from(
        ["", " a", "a\x00b", "é\u00a0x", "premium", "byok", "unpriced", "2025-11-20", "2025-11-22", "../x"]
    ),
    st.integers(946684800000, 4102444800001),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=3000, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(STORED_FIELDS) + ["extra"]), _ODD, max_size=4),
    st.sets(st.sampled_from(sorted(STORED_FIELDS)), max_size=2),
)
def test_check_stored_takes_a_line_only_as_usage_record_would(changed, removed):
    line = {k: v for k, v in {**_STORED, **changed}.items() if k not in removed}
    try:
        out = check_stored(line)
    except RecordError as exc:
        assert exc.field in STORED_FIELDS or exc.field == "record"
        return
    assert set(out) <= STORED_FIELDS and "extra" not in out
    # usage/record takes it, and stores exactly these fields
    again, _ = validate_record(
        {**{k: v for k, v in out.items() if k in KNOWN_FIELDS}, "timestamp": out["ts"]}, Defaults("", "", dt.UTC)
    )
    for field, value in again.items():
        if field != "date":
            assert value == out[field], field
    assert out.get("costSource") in (None, *COST_SOURCES)
    assert abs(dt.date.fromisoformat(out["date"]).toordinal() - dt.date.fromisoformat(again["date"]).toordinal()) <= 1


def test_check_stored_names_what_is_wrong():
    assert check_stored(_STORED) is _STORED  # what this program wrote passes as is
    for change, field in (
        ({"inputTokens": -1_000_000}, "inputTokens"),
        ({"costUsd": -50.0}, "costUsd"),
        ({"date": "../../x"}, "date"),
        ({"date": "2001-01-01"}, "date"),
        ({"model": None}, "model"),
        ({"project": "a\nb"}, "project"),
        ({"costSource": "free"}, "costSource"),
        ({"ts": "2025-11-20T00:00:00Z"}, "ts"),
        ({"billing": None}, "billing"),
        ({"cacheReadTokens": None}, "cacheReadTokens"),
    ):
        with pytest.raises(RecordError) as exc:
            check_stored({**_STORED, **change})
        assert exc.value.field == field, change
    with pytest.raises(RecordError, match="cacheWriteTokens: is missing"):
        check_stored({k: v for k, v in _STORED.items() if k != "cacheWriteTokens"})
