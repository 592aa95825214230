"""Local days and the record schema."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from usage_ls import days
from usage_ls.model import Defaults, RecordError, validate_record
from usage_ls.queries import FilterError, parse_filter

BERLIN = ZoneInfo("Europe/Berlin")


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def test_a_minute_before_and_after_local_midnight_are_different_days():
    assert days.day_of(ms("2026-11-21T23:59:00+01:00"), BERLIN) == "2026-11-21"
    assert days.day_of(ms("2026-11-22T00:01:00+01:00"), BERLIN) == "2026-11-22"
    # the same instants in UTC fall on one day
    assert days.day_of(ms("2026-11-21T23:59:00+01:00"), dt.timezone.utc) == "2026-11-21"
    assert days.day_of(ms("2026-11-22T00:01:00+01:00"), dt.timezone.utc) == "2026-11-21"


def test_dst_days_have_23_and_25_hours():
    # Europe/Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25
    assert days.day_of(ms("2026-03-29T00:30:00+01:00"), BERLIN) == "2026-03-29"
    assert days.day_of(ms("2026-03-29T23:30:00+02:00"), BERLIN) == "2026-03-29"
    assert days.day_of(ms("2026-10-25T00:30:00+02:00"), BERLIN) == "2026-10-25"
    assert days.day_of(ms("2026-10-25T23:30:00+01:00"), BERLIN) == "2026-10-25"
    assert days.day_of(ms("2026-10-26T00:00:00+01:00"), BERLIN) == "2026-10-26"


def test_naive_timestamps_are_local_wall_clock_time():
    d = Defaults(project="p", user="u", tz=BERLIN)
    rec, _ = validate_record({"model": "m", "inputTokens": 1, "outputTokens": 1, "timestamp": "2026-07-01T00:30:00"}, d)
    assert rec["date"] == "2026-07-01" and rec["ts"] == ms("2026-06-30T22:30:00+00:00")


DEFAULTS = Defaults(project="proj", user="me", tz=dt.timezone.utc)
GOOD = {"model": "gpt-4o", "inputTokens": 10, "outputTokens": 5}


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"model": None}, "model"),
        ({"model": "   "}, "model"),
        ({"model": 42}, "model"),
        ({"model": "a\nb"}, "model"),
        ({"inputTokens": -1}, "inputTokens"),
        ({"inputTokens": 1.5}, "inputTokens"),
        ({"inputTokens": "10"}, "inputTokens"),
        ({"inputTokens": True}, "inputTokens"),
        ({"outputTokens": None}, "outputTokens"),
        ({"cacheReadTokens": float("nan")}, "cacheReadTokens"),
        ({"costUsd": float("nan")}, "costUsd"),
        ({"costUsd": float("inf")}, "costUsd"),
        ({"costUsd": -0.1}, "costUsd"),
        ({"credits": "1"}, "credits"),
        ({"timestamp": "not a date"}, "timestamp"),
        ({"timestamp": 12}, "timestamp"),
        ({"timestamp": [2026]}, "timestamp"),
        ({"billing": "free"}, "billing"),
        ({"project": "x" * 10_000_000}, "project"),
        ({"id": ""}, "id"),
        ({"id": 7}, "id"),
        ({"cacheWriteTokens": 1, "cacheWrite1hTokens": 2}, "cacheWrite1hTokens"),
    ],
)
def test_each_bad_field_is_named(patch, field):
    with pytest.raises(RecordError) as info:
        validate_record({**GOOD, **patch}, DEFAULTS)
    assert info.value.field == field and info.value.message


def test_defaults_and_dropped_fields():
    rec, dropped = validate_record({**GOOD, "prompt": "secret", "response": "also secret", "timestamp": 1_790_000_000_000}, DEFAULTS)
    assert rec["project"] == "proj" and rec["user"] == "me" and rec["billing"] == "premium"
    assert rec["cacheReadTokens"] == 0 and rec["id"]
    assert sorted(dropped) == ["prompt", "response"] and "prompt" not in rec
    assert validate_record({**GOOD, "inputTokens": 12.0}, DEFAULTS)[0]["inputTokens"] == 12


def test_filters_name_their_bad_field():
    for params, field in [({"from": "2026-13-01"}, "from"), ({"to": 5}, "to"), ({"billing": "x"}, "billing"),
                          ({"from": "2026-11-02", "to": "2026-11-01"}, "to"), ({"scope": "team"}, "scope"),
                          ({"project": 3}, "project"), ({"from": "1990-01-01", "to": "2026-01-01"}, "from")]:
        with pytest.raises(FilterError) as info:
            parse_filter(params, dt.timezone.utc)
        assert info.value.field == field, params
    f = parse_filter({"from": "2026-11-01"}, dt.timezone.utc)
    assert f.start == "2026-11-01"
