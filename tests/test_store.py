"""Durability and concurrency, through real server processes: nothing acknowledged is lost,
nothing counts twice, and two windows (two servers) on one data directory agree."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys

import orjson
import pytest
from editor import Editor, rec

from usage_ls.service import Usage


async def all_ids(ed: Editor) -> list[str]:
    ids, offset = [], 0
    while True:
        page = await ed.request("usage/interactions", {"from": "2026-01-01", "limit": 10000, "offset": offset})
        ids += [r["id"] for r in page["rows"]]
        offset += 10000
        if offset >= page["total"]:
            return ids


def batch(prefix: str, n: int, start: int = 0) -> list[dict]:
    return [rec("gpt-4o", 100 + i, 10, id=f"{prefix}-{start + i}") for i in range(n)]


async def test_kill_9_during_ingest_loses_no_acknowledged_record(data_dir):
    rng = random.Random(5)
    acked: set[str] = set()
    for trial in range(3):
        ed = await Editor(data_dir).start()
        pid = ed.client._server.pid
        sent = 0

        async def writer():
            nonlocal sent
            while True:
                records = batch(f"t{trial}", 200, sent)
                sent += 200
                result = await ed.request("usage/record", {"records": records})
                assert result["accepted"] == 200
                acked.update(r["id"] for r in records)

        task = asyncio.ensure_future(writer())
        # the kill lands at a random moment of the ingest, once it runs (a loaded machine may
        # take a second to start the server: a clock from here would kill it before a record)
        for _ in range(3000):
            if sent > 200 or task.done():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(rng.random() * 0.7)
        os.kill(pid, signal.SIGKILL)
        try:
            await asyncio.wait_for(task, 5)
        except Exception:
            pass
        await ed.client.stop()
        assert sent > 200, "the server never got going"

    async with Editor(data_dir) as ed:
        ids = await all_ids(ed)
        assert len(ids) == len(set(ids)), "a record counted twice"
        assert acked <= set(ids), f"{len(acked - set(ids))} acknowledged records lost"
        summary = await ed.request("usage/summary")
        assert summary["messages"] == len(ids)
    # the store opens cleanly and rollups agree with the day files
    svc = Usage(data_dir=data_dir, writable=False).open()
    rows = sum(len(svc.ledger.day_records(d)) for d in {svc.today()})
    assert rows == len(ids)
    leftovers = [p for p in data_dir.rglob("*") if ".tmp-" in p.name]
    assert not leftovers


async def test_two_servers_on_one_data_dir_lose_nothing_and_see_each_other(data_dir):
    async with Editor(data_dir, workspace="left") as a, Editor(data_dir, workspace="right") as b:

        async def write(ed: Editor, prefix: str):
            for i in range(10):
                result = await ed.request("usage/record", {"records": batch(prefix, 50, i * 50)})
                assert result["accepted"] == 50

        await asyncio.gather(write(a, "a"), write(b, "b"))
        # each window is told about the other's writes, within a second
        await a.wait_change(lambda c: c["today"]["messages"] == 1000, timeout=2)
        await b.wait_change(lambda c: c["today"]["messages"] == 1000, timeout=2)
        for ed in (a, b):
            s = await ed.request("usage/summary")
            assert s["messages"] == 1000
            projects = {p["project"]: p["messages"] for p in (await ed.request("usage/projects"))["projects"]}
            assert projects == {"left": 500, "right": 500}
        # the same id sent to both windows counts once
        await a.record(rec(id="shared"))
        await b.record(rec(id="shared"))
        assert (await b.request("usage/summary"))["messages"] == 1001


async def test_cli_record_updates_running_servers(data_dir, tmp_path):
    async with Editor(data_dir) as a, Editor(data_dir) as b:
        line = orjson.dumps(rec("gpt-4o", costUsd=0.07)).decode()
        out = subprocess.run(
            [sys.executable, "-m", "usage_ls", "record"],
            input=line,
            text=True,
            capture_output=True,
            timeout=60,
            env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)},
        )
        assert out.returncode == 0, out.stderr
        for ed in (a, b):
            change = await ed.wait_change(lambda c: c["today"]["messages"] == 1, timeout=2)
            assert change["statusBar"]["text"].startswith("7.0 cr")


async def test_restart_keeps_everything_and_journals_are_folded(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(*batch("x", 300))
    assert not list((data_dir / "journal").glob("*.jsonl")), "a clean exit leaves no journal"
    async with Editor(data_dir) as ed:
        assert (await ed.request("usage/summary"))["messages"] == 300
        await ed.record(*batch("x", 300))  # all duplicates
        assert (await ed.request("usage/summary"))["messages"] == 300


async def test_torn_journal_tail_and_corrupt_day_file_do_not_stop_the_server(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(*batch("ok", 10))
    # a crashed writer's journal with a torn last line, and a corrupt day file
    journal = data_dir / "journal" / "20260101T000000-srv-999999-abc.jsonl"
    good = Usage(data_dir=data_dir, writable=False).open()
    line = orjson.dumps(good.pricer.apply({**_stored(good, "torn-1")})) + b"\n"
    journal.write_bytes(line + line[: len(line) // 2])
    async with Editor(data_dir) as ed:
        s = await ed.request("usage/summary")
        assert s["messages"] == 11  # the complete line counts, the torn half never does
    day_file = next((data_dir / "days").rglob("*.json"))
    day_file.write_bytes(b'{"records": {"broken')
    async with Editor(data_dir) as ed:
        await ed.record(rec(id="after"))
        rows = await ed.request("usage/interactions")
        assert "after" in {r["id"] for r in rows["rows"]}
    assert list(day_file.parent.glob("*.corrupt-*")), "the bad file is kept aside, not deleted"


def _stored(svc: Usage, rec_id: str) -> dict:
    from usage_ls.model import validate_record

    stored, _ = validate_record(rec(id=rec_id), svc.defaults())
    return stored


def test_journal_rotation_keeps_every_record(data_dir):
    svc = Usage(data_dir=data_dir, tag="srv").open()
    first = svc.ledger.writer.name
    svc.record(batch("r", 100))
    assert svc.ledger.rotate_journal(max_bytes=1)
    assert svc.ledger.writer.name != first
    svc.record(batch("r", 100, 100))
    assert svc.summary()["messages"] == 200
    svc.ledger.checkpoint()
    names = {p.name for p in (data_dir / "journal").glob("*.jsonl")}
    assert first not in names and svc.ledger.writer.name in names  # the old one was folded and removed
    assert svc.summary()["messages"] == 200
    svc.close()
    assert Usage(data_dir=data_dir, writable=False).open().summary()["messages"] == 200


async def test_four_servers_and_two_cli_writers_at_once(data_dir):
    editors = [Editor(data_dir, workspace=f"w{i}") for i in range(4)]
    await asyncio.gather(*(ed.start() for ed in editors))
    try:
        env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)}
        lines = ["\n".join(orjson.dumps(r).decode() for r in batch(f"cli{w}", 300)) for w in range(2)]
        clis = [
            subprocess.Popen(
                [sys.executable, "-m", "usage_ls", "record"],
                stdin=subprocess.PIPE,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]

        async def write(ed: Editor, i: int):
            for b in range(6):
                result = await ed.request("usage/record", {"records": batch(f"srv{i}", 50, b * 50)})
                assert result["accepted"] == 50

        for cli, text in zip(clis, lines):
            cli.stdin.write(text)
            cli.stdin.close()
        await asyncio.gather(*(write(ed, i) for i, ed in enumerate(editors)))
        for cli in clis:
            assert await asyncio.to_thread(cli.wait, 60) == 0, cli.stderr.read()
        expected = 4 * 300 + 2 * 300
        for ed in editors:  # each was told about everyone else's writes
            await ed.wait_change(lambda c: c["today"]["messages"] == expected, timeout=3)
        totals = [await ed.request("usage/summary") for ed in editors]
        assert all(t == totals[0] for t in totals) and totals[0]["messages"] == expected
        ids = await all_ids(editors[0])
        assert len(ids) == len(set(ids)) == expected
    finally:
        await asyncio.gather(*(ed.stop() for ed in editors))
    svc = Usage(data_dir=data_dir, writable=False).open()
    assert svc.summary()["messages"] == expected


def test_hourly_totals_in_rollups_match_the_records(data_dir):
    import numpy as np

    from usage_ls import insights
    from usage_ls.days import midnight_ms

    svc = Usage(data_dir=data_dir).open()
    recs = [
        rec("gpt-4o", 1000 * (h + 1), 10, id=f"h{h}-{k}", timestamp=f"2026-11-10T{h:02d}:{k * 20:02d}:00Z")
        for h in range(24)
        for k in range(2)
    ]
    svc.record(recs)
    pending = svc.ledger.day_hours("2026-11-10")  # from journal lines
    svc.ledger.checkpoint()
    svc.close()
    svc = Usage(data_dir=data_dir, writable=False).open()
    folded = svc.ledger.day_hours("2026-11-10")  # from the rollup file
    cols = svc.ledger.day_columns("2026-11-10")
    start = midnight_ms("2026-11-10", svc.tz)
    expect_credits = insights.hour_bins(cols, np.nan_to_num(cols.credits), start)
    expect_cost = insights.hour_bins(cols, np.nan_to_num(cols.cost), start)
    for hours in (pending, folded):
        assert np.allclose(hours[0], expect_credits) and np.allclose(hours[1], expect_cost)
    assert expect_cost[23] > expect_cost[0] > 0 and expect_cost[24] == 0


async def test_a_busy_server_checkpoints_in_a_child_process_and_keeps_counting(data_dir):
    async with Editor(data_dir) as ed:
        for b in range(11):
            await ed.record(*batch(f"busy{b}", 1000))
        day_files = data_dir / "days"
        for _ in range(100):  # the watch loop starts the child within 0.25 s; it takes ~1 s
            if any(day_files.rglob("*.json")):
                break
            await asyncio.sleep(0.1)
        assert any(day_files.rglob("*.json")), "no checkpoint ran"
        await asyncio.sleep(0.5)
        assert (await ed.request("usage/summary"))["messages"] == 11_000
        await ed.record(*batch("busy0", 1000))  # duplicates of folded records
        assert (await ed.request("usage/summary"))["messages"] == 11_000
        await ed.record(*[rec("gpt-4o", costUsd=0.01, id=f"after-{i}") for i in range(3)])
        # today's insights follow the checkpoint (columns kept, not re-read) and new records
        summary = await ed.request("usage/summary")
        insights = await ed.request("usage/insights", {})
        assert summary["messages"] == 11_003
        assert insights["projection"]["today"]["credits"] == pytest.approx(summary["credits"])


def _cols_equal(a, b) -> bool:
    import numpy as np

    same = [
        np.array_equal(getattr(a, k), getattr(b, k), equal_nan=k in ("cost", "credits"))
        for k in ("ts", "model", "project", "user", "billing", "tokens", "cost", "credits", "source")
    ]
    return (
        all(same)
        and list(a.ids) == list(b.ids)
        and [a.extra[i] for i in range(len(a))] == [b.extra[i] for i in range(len(b))]
    )


def test_column_files_follow_their_day_and_rollup_files(data_dir):
    """Checkpoints write columns beside each day file and rollup file; readers use them only
    while they match the file they were built from, and rebuild them otherwise."""
    from usage_ls.store.columns import RecordColumns

    day = "2026-11-10"
    svc = Usage(data_dir=data_dir).open()
    svc.record(
        [
            rec(
                "gpt-4o",
                100 + i,
                10,
                id=f"c{i}",
                timestamp=f"{day}T10:{i:02d}:00Z",
                session=f"s{i % 3}",
                feature="chat",
                provider="openai",
            )
            for i in range(30)
        ]
        + [rec("acme-unknown", 5, 5, id="u1", timestamp=f"{day}T11:00:00Z", billing="byok")]
    )
    svc.ledger.checkpoint()
    led = svc.ledger
    side, month_side = led.files.day_columns_path(day), led.files.rollup_columns_path(day[:7])
    assert side.exists() and month_side.exists()
    expect = RecordColumns.build(led.day_records(day), led.models, led.projects, led.users)
    assert _cols_equal(led.file_columns(day), expect)
    assert led.facts(day, day).m.sum() > 0
    svc.close()

    # another process folds more records into the day: the old columns are stale, not used
    svc = Usage(data_dir=data_dir, tag="other").open()
    svc.record([rec("gpt-4o", 7, 7, id="late", timestamp=f"{day}T12:00:00Z")])
    svc.ledger.checkpoint()
    svc.close()
    svc = Usage(data_dir=data_dir, writable=False).open()
    cols = svc.ledger.day_columns(day)
    assert len(cols) == 32 and "late" in set(cols.ids)
    assert svc.summary({"from": day, "to": day})["messages"] == 32

    # a day file written by something else (columns left behind): rebuilt from the day file
    before = side.read_bytes()
    svc.close()
    path = data_dir / "days" / day[:7] / f"{day}.json"
    data = orjson.loads(path.read_bytes())
    data["records"].pop("c0")
    path.write_bytes(orjson.dumps(data))
    ro = Usage(data_dir=data_dir, writable=False).open()
    assert len(ro.ledger.day_columns(day)) == 31
    # a read-only process (a report) rewrites a day's stale columns too: a cache, and a report
    # after a bulk import (which writes none) would otherwise parse every day file every time
    rebuilt = side.read_bytes()
    assert rebuilt != before
    ro.close()
    svc = Usage(data_dir=data_dir).open()
    assert len(svc.ledger.day_columns(day)) == 31
    assert side.read_bytes() == rebuilt  # used as they are: stamped with the day file now there
    svc.close()

    # no columns at all (a ledger from an older version): the same answers
    side.unlink()
    month_side.unlink()
    svc = Usage(data_dir=data_dir).open()
    page = svc.interactions({"from": day, "to": day, "limit": 100, "sort": "-timestamp"})
    assert page["total"] == 31 and page["rows"][0]["id"] == "late"
    assert {r["session"] for r in page["rows"]} == {"s0", "s1", "s2", None}
    assert svc.summary({"from": day, "to": day})["messages"] == 32  # the rollup still counts c0
    assert side.exists() and month_side.exists()
    svc.close()


def test_caches_stay_within_their_byte_budgets(data_dir, monkeypatch):
    from usage_ls.store import ledger as ledger_mod

    svc = Usage(data_dir=data_dir).open()
    days_ = [f"2026-{m:02d}-{d:02d}" for m in (7, 8, 9, 10) for d in (3, 17)]
    svc.record(
        [
            rec("gpt-4o", 100, 10, id=f"{day}-{i}", timestamp=f"{day}T09:00:00Z", project=f"p{i % 4}")
            for day in days_
            for i in range(50)
        ]
    )
    svc.ledger.checkpoint()
    svc.close()
    monkeypatch.setattr(ledger_mod, "MONTH_CACHE_BYTES", 1)  # not even one month fits: each is loaded, used, dropped
    monkeypatch.setattr(ledger_mod, "DAY_CACHE_BYTES", 1)
    monkeypatch.setattr(ledger_mod, "FACTS_CACHE_BYTES", 1)
    svc = Usage(data_dir=data_dir, writable=False).open()
    led = svc.ledger
    for _ in range(2):
        assert svc.summary({"from": "2026-07-01", "to": "2026-10-31"})["messages"] == 400
        daily = svc.daily({"from": "2026-07-01", "to": "2026-10-31", "project": "p1"})["days"]
        assert sum(d["messages"] for d in daily) == 13 * 8
        assert svc.interactions({"from": "2026-07-01", "to": "2026-10-31", "limit": 5})["total"] == 400
        assert len(led.months) <= 1 and len(led.day_cache) <= 1 and len(led.facts_cache) <= 1
        svc.forget_results()
    svc.close()


def test_query_results_are_dropped_when_the_ledger_changes_and_kept_within_a_budget():
    from usage_ls.service import result_weight
    from usage_ls.store.cache import ByteCache

    memo = ByteCache(3000, result_weight)
    calls = []

    def compute(n):
        calls.append(n)
        return {"n": n, "pad": "x" * 900}

    assert memo.memo(1, "a", lambda: compute(1))["n"] == 1
    assert memo.memo(1, "a", lambda: compute(2))["n"] == 1 and calls == [1]
    memo.memo(1, "b", lambda: compute(3))
    memo.memo(1, "c", lambda: compute(4))  # over budget: "a", the least recently used, goes
    assert len(memo) == 2 and memo.bytes <= 3000
    assert memo.memo(1, "a", lambda: compute(5))["n"] == 5
    assert memo.memo(2, "b", lambda: compute(6))["n"] == 6 and len(memo) == 1  # a new stamp drops every result

    # a result computed while the stamp moved on (a nested query saw a newer ledger) is not kept
    def outer():
        memo.memo(4, "inner", lambda: compute(7))
        return compute(8)

    memo.memo(3, "outer", outer)
    assert "outer" not in memo and "inner" in memo
