"""The history of plan windows: `windows.history` (pure) and `usage/limitHistory` through the
language server. Observations are written the way the status line and the Codex importer write
them (`LimitLog.append`)."""

from __future__ import annotations

import datetime as dt

import pytest
from editor import Editor, write_config
from pygls.exceptions import JsonRpcException

from usage_ls import days, windows
from usage_ls.store.limit_reader import ObservationReader
from usage_ls.store.limits import LimitLog, Observation

H = 3_600_000
START = 1_796_515_200_000  # 2026-12-06 00:00 UTC
END = START + 86_400_000
NOW = START + 15 * H  # 15:00 UTC


def o(source: str, window: str, used: float, at_h: float, reset_h: float | None, limit_id: str | None = None):
    return Observation(
        source, window, used, None if reset_h is None else START + int(reset_h * H), START + int(at_h * H), limit_id
    )


def test_points_in_the_range_led_by_the_window_open_at_its_start_and_resets_until_now():
    log = [
        o("claude-code", "5h", 70.0, -30, -26),  # its window reset before the range: left out
        o("claude-code", "5h", 30.0, -2, 2),  # open at midnight: leads the line
        o("claude-code", "5h", 55.0, 1, 2),
        o("claude-code", "5h", 10.0, 9, 13),  # a new window after the reset at 02:00
        o("claude-code", "5h", 4.0, 14, 18.5),  # its reset at 18:30 is still to come
        o("claude-code", "5h", 99.0, 25, 28),  # tomorrow: outside
        o("codex", "7d", 12.0, 3, 100),
        o("codex", "7d", 14.0, 11, 100, "premium"),  # another limit of Codex: its own series
    ]
    got = windows.history(log, START, END, NOW)
    assert [(s["source"], s["window"], s["limitId"]) for s in got] == [
        ("claude-code", "5h", None),
        ("codex", "7d", None),
        ("codex", "7d", "premium"),
    ]
    five = got[0]
    assert [(p["t"], p["usedPercent"]) for p in five["points"]] == [
        (START - 2 * H, 30.0),
        (START + 1 * H, 55.0),
        (START + 9 * H, 10.0),
        (START + 14 * H, 4.0),
    ]
    assert five["resets"] == [START + 2 * H, START + 13 * H]  # 18:30 has not happened yet
    assert five["label"] == "5h" and five["sampled"] is False
    assert windows.history(log, START, END, NOW, source="codex")[0]["points"] == [
        {"t": START + 3 * H, "usedPercent": 12.0, "resetsAt": START + 100 * H}
    ]
    assert windows.history(log, START, END, NOW, source="gemini") == []


def test_a_long_history_is_thinned_keeping_each_spans_peak_and_last_point():
    # 6,000 observations over a day: a 5-hour window filling to 100% again and again
    log = [o("claude-code", "5h", float(i % 100) + 0.5, i * 24 / 6000, None) for i in range(6000)]
    (series,) = windows.history(log, START, END, NOW)
    points = series["points"]
    assert series["sampled"] is True and len(points) <= windows.MAX_POINTS
    assert [p["t"] for p in points] == sorted(p["t"] for p in points)
    assert max(p["usedPercent"] for p in points) == 99.5 and points[-1]["t"] == log[-1].observed_at
    # every span of the day that held a 99.5% peak still shows it
    peaks = [p for p in points if p["usedPercent"] == 99.5]
    assert len(peaks) == 60


async def test_limit_history_through_the_language_server(data_dir):
    write_config(data_dir, 'timezone = "Europe/Berlin"\n')
    tz = days.zone_named("Europe/Berlin")
    today = days.today(tz)
    midnight = days.midnight_ms(today, tz)  # Berlin's, not UTC's
    now = days.now_ms()
    LimitLog(data_dir).append(
        [
            Observation("claude-code", "5h", 20.0, now + 4 * H, now - 30 * 60_000),
            Observation("claude-code", "5h", 35.5, now + 4 * H, now - 60_000),
            Observation("codex", "7d", 8.0, now + 50 * H, midnight - 1000),  # before today, still open: leads
        ]
    )
    async with Editor(data_dir) as ed:
        got = await ed.request("usage/limitHistory", {"from": today, "to": today})
        assert (got["from"], got["to"], got["startMs"]) == (today, today, midnight)
        assert got["endMs"] == days.midnight_ms(days.shift(today, 1), tz)
        by = {(s["source"], s["window"]): s for s in got["series"]}
        assert [p["usedPercent"] for p in by["claude-code", "5h"]["points"]] == [20.0, 35.5]
        assert by["codex", "7d"]["points"] == [{"t": midnight - 1000, "usedPercent": 8.0, "resetsAt": now + 50 * H}]
        only = await ed.request("usage/limitHistory", {"from": today, "to": today, "source": "codex"})
        assert [s["source"] for s in only["series"]] == ["codex"]
        # the windows themselves are unchanged: usage/limits is the latest of each
        assert [w["usedPercent"] for w in (await ed.request("usage/limits"))["windows"]] == [35.5, 8.0]
        for params, field in (
            ({"source": 7}, "source"),
            ({"from": "06/12/2026"}, "from"),
            ({"from": today, "to": "2000-01-01"}, "to"),
        ):
            with pytest.raises(JsonRpcException) as info:
                await ed.request("usage/limitHistory", params)
            assert info.value.code == -32602 and field in info.value.message, (params, info.value.message)


def test_history_days_are_the_configured_zones():
    tz = dt.timezone(dt.timedelta(hours=-5))
    log = [o("claude-code", "5h", 5.0, 3, 4)]  # 03:00 UTC, reset at 04:00: still the 5th in UTC-5
    start = days.midnight_ms("2026-12-06", tz)
    assert windows.history(log, start, start + 86_400_000, NOW) == []
    assert len(windows.history(log, start - 86_400_000, start, NOW)) == 1


def test_the_servers_reader_reads_on_from_where_it_stopped(tmp_path):
    log = LimitLog(tmp_path)
    reader = ObservationReader(log)
    assert reader.all() == []
    log.append([o("claude-code", "5h", 10.0, 1, 5)])
    assert [x.used_percent for x in reader.all()] == [10.0]
    # a line still being written is not read until its newline arrives; junk lines are skipped
    with open(log.path, "ab") as f:
        f.write(b'not json\n{"source": "codex", "window": "7d", "usedPercent": 3.0, "resetsAt": null, "observedAt": 7')
    assert [x.used_percent for x in reader.all()] == [10.0]
    with open(log.path, "ab") as f:
        f.write(b"}\n")
    log.append([o("claude-code", "5h", 20.0, 2, 5)])
    assert [(x.source, x.used_percent) for x in reader.all()] == [
        ("claude-code", 10.0),
        ("codex", 3.0),
        ("claude-code", 20.0),
    ]
    # replaced by a shorter file (a restore, a repair): read again whole
    log.path.unlink()
    log.append([o("gemini", "5h", 1.0, 3, 5)])
    assert [x.source for x in reader.all()] == ["gemini"]
