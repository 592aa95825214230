"""Corrupt, truncated or hand-edited files: the server starts, sets bad files aside (never
deletes them), says so in the editor and in `usage-ls doctor`, and keeps working."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
from editor import Editor, rec, write_config


def doctor(data_dir) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "usage_ls", "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)},
    )


async def seed(data_dir, n=20):
    async with Editor(data_dir) as ed:
        await ed.record(*[rec("gpt-4o", 100, 10, id=f"s{i}", costUsd=0.01) for i in range(n)])


async def test_truncated_rollup_is_rebuilt_from_day_files(data_dir):
    await seed(data_dir)
    rollup = next((data_dir / "rollups").glob("*.json"))
    rollup.write_bytes(rollup.read_bytes()[:25])  # truncated mid-file
    async with Editor(data_dir) as ed:
        s = await ed.request("usage/summary")
        assert s["messages"] == 20 and s["credits"] == 20
        await ed.wait_message(lambda m: "moved aside" in m)
        await ed.wait_message(lambda m: "rebuilt the rollups" in m)
    assert list(rollup.parent.glob("*.corrupt-*"))
    out = doctor(data_dir)
    assert out.returncode == 1 and "moved aside" in out.stdout


async def test_hand_edited_state_and_garbage_ids_do_not_double_count(data_dir):
    await seed(data_dir)
    (data_dir / "state.json").write_text("{ this is not json")
    (data_dir / "ids.npy").write_bytes(b"garbage")
    async with Editor(data_dir) as ed:
        await ed.record(*[rec("gpt-4o", 100, 10, id=f"s{i}", costUsd=0.01) for i in range(25)])  # 20 resent
        s = await ed.request("usage/summary")
        assert s["messages"] == 25


async def test_broken_config_toml_still_starts_with_defaults(data_dir):
    write_config(data_dir, "[budgets\ndaily_credits = 5")
    async with Editor(data_dir) as ed:
        await ed.record(rec("gpt-4o", costUsd=0.05))
        assert (await ed.request("usage/statusBar"))["text"].startswith("5.0 cr")
        await ed.wait_message(lambda m: "config.toml" in m and "cannot be read" in m)
    out = doctor(data_dir)
    assert out.returncode == 1 and "config.toml" in out.stdout
    assert (data_dir / "config.toml").exists()  # the user's own file stays where they edit it


async def test_damaged_column_files_are_set_aside_and_rebuilt(data_dir):
    await seed(data_dir)
    day_cols = next((data_dir / "days").glob("*/*.cols"))
    month_cols = next((data_dir / "rollups").glob("*.cols"))
    good = day_cols.read_bytes()
    day_cols.write_bytes(good[: len(good) // 2])  # truncated
    month_cols.write_bytes(b"\0" * 64)  # garbage
    async with Editor(data_dir) as ed:
        s = await ed.request("usage/summary")
        assert s["messages"] == 20 and s["credits"] == 20
        page = await ed.request("usage/interactions", {"limit": 100})
        assert page["total"] == 20 and {r["id"] for r in page["rows"]} == {f"s{i}" for i in range(20)}
        await ed.wait_message(lambda m: "moved aside" in m and ".cols" in m)
    assert list(day_cols.parent.glob("*.cols.corrupt-*")) and list(month_cols.parent.glob("*.cols.corrupt-*"))
    assert day_cols.read_bytes() == good  # rebuilt from the day file
    assert month_cols.stat().st_size > 64


# -- a damaged day file: rebuilt from what remains, or every view agrees on what is lost ------


def day_file_of(data_dir):
    return next((data_dir / "days").rglob("*.json"))


async def test_a_damaged_day_file_is_rebuilt_from_its_columns(data_dir):
    await seed(data_dir)
    day_file = day_file_of(data_dir)
    good = orjson.loads(day_file.read_bytes())
    day_file.write_bytes(day_file.read_bytes()[:-40])  # damaged: its columns file beside it is intact
    async with Editor(data_dir) as ed:
        page = await ed.request("usage/interactions", {"limit": 100})
        assert page["total"] == 20 and {r["id"] for r in page["rows"]} == {f"s{i}" for i in range(20)}
        assert (await ed.request("usage/summary"))["messages"] == 20
        await ed.wait_message(lambda m: f"rebuilt {day_file.stem} from its columns file: 20 record(s)" in m)
    assert orjson.loads(day_file.read_bytes()) == good  # the same records, field for field
    assert list(day_file.parent.glob(f"{day_file.name}.corrupt-*")), "the damaged file is kept aside"
    out = doctor(data_dir)
    assert "Repairs made:" in out.stdout and f"rebuilt {day_file.stem} from its columns file" in out.stdout


async def test_a_day_file_with_nothing_left_is_lost_the_same_in_every_view(data_dir):
    await seed(data_dir)
    day_file = day_file_of(data_dir)
    day_file.write_bytes(b'{"records": {"broken')
    day_file.with_suffix(".cols").unlink()  # nothing else holds the day
    async with Editor(data_dir) as ed:
        page = await ed.request("usage/interactions", {"limit": 100})
        summary = await ed.request("usage/summary")
        assert page["total"] == summary["messages"] == 0  # the views agree
        await ed.wait_message(lambda m: f"lost 20 of its 20 record(s) on {day_file.stem}" in m)
        # the lost records can be sent again (their ids no longer count as seen)
        again = await ed.record(*[rec("gpt-4o", 100, 10, id=f"s{i}", costUsd=0.01) for i in range(20)])
        assert again["accepted"] == 20 and again["duplicates"] == 0
    out = doctor(data_dir)
    assert out.returncode == 1 and f"lost 20 of its 20 record(s) on {day_file.stem}" in out.stdout
    assert "usage-ls import all" in out.stdout


async def test_a_damaged_day_file_is_rebuilt_from_a_running_servers_journal(data_dir):
    async with Editor(data_dir) as ed:
        await ed.record(*[rec("gpt-4o", 100, 10, id=f"j{i}", costUsd=0.01) for i in range(12)])
        # another process folds the running server's journal; the journal stays (its writer lives)
        env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)}
        subprocess.run([sys.executable, "-m", "usage_ls", "checkpoint"], env=env, check=True, timeout=60)
        day_file = day_file_of(data_dir)
        day_file.write_bytes(b"\0garbage")
        day_file.with_suffix(".cols").unlink()
        page = await ed.request("usage/interactions", {"limit": 100})
        assert page["total"] == 12 and (await ed.request("usage/summary"))["messages"] == 12
        await ed.wait_message(lambda m: f"rebuilt {day_file.stem} from the journals still on disk: 12 record(s)" in m)


async def test_columns_older_than_the_damaged_file_rebuild_what_they_hold_and_say_what_is_lost(data_dir):
    await seed(data_dir, 10)
    cols = day_file_of(data_dir).with_suffix(".cols")
    old_cols = cols.read_bytes()
    async with Editor(data_dir) as ed:
        await ed.record(*[rec("gpt-4o", 100, 10, id=f"later{i}", costUsd=0.01) for i in range(5)])
    day_file = day_file_of(data_dir)
    cols.write_bytes(old_cols)  # the columns of an earlier write (as after a bulk import)
    day_file.write_bytes(b"[]")  # valid JSON, not a day file
    async with Editor(data_dir) as ed:
        page = await ed.request("usage/interactions", {"limit": 100})
        summary = await ed.request("usage/summary")
        assert page["total"] == summary["messages"] == 10
        await ed.wait_message(lambda m: f"lost 5 of its 15 record(s) on {day_file.stem}" in m and "10 record(s)" in m)
