"""Local days and the record schema."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from usage_ls import days
from usage_ls.errors import InvalidParams
from usage_ls.model import Defaults, RecordError, validate_record
from usage_ls.queries import parse_filter

BERLIN = ZoneInfo("Europe/Berlin")


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def test_a_minute_before_and_after_local_midnight_are_different_days():
    assert days.day_of(ms("2026-11-21T23:59:00+01:00"), BERLIN) == "2026-11-21"
    assert days.day_of(ms("2026-11-22T00:01:00+01:00"), BERLIN) == "2026-11-22"
    # the same instants in UTC fall on one day
    assert days.day_of(ms("2026-11-21T23:59:00+01:00"), dt.UTC) == "2026-11-21"
    assert days.day_of(ms("2026-11-22T00:01:00+01:00"), dt.UTC) == "2026-11-21"


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


DEFAULTS = Defaults(project="proj", user="me", tz=dt.UTC)
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
    rec, dropped = validate_record(
        {**GOOD, "prompt": "secret", "response": "also secret", "timestamp": 1_790_000_000_000}, DEFAULTS
    )
    assert rec["project"] == "proj" and rec["user"] == "me" and rec["billing"] == "premium"
    assert rec["cacheReadTokens"] == 0 and rec["id"]
    assert sorted(dropped) == ["prompt", "response"] and "prompt" not in rec
    assert validate_record({**GOOD, "inputTokens": 12.0}, DEFAULTS)[0]["inputTokens"] == 12


def test_filters_name_their_bad_field():
    for params, field in [
        ({"from": "2026-13-01"}, "from"),
        ({"to": 5}, "to"),
        ({"billing": "x"}, "billing"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to"),
        ({"scope": "team"}, "scope"),
        ({"project": 3}, "project"),
        ({"from": "1990-01-01", "to": "2026-01-01"}, "from"),
    ]:
        with pytest.raises(InvalidParams) as info:
            parse_filter(params, dt.UTC)
        assert info.value.field == field, params
    f = parse_filter({"from": "2026-11-01"}, dt.UTC)
    assert f.start == "2026-11-01"


# -- validate_fast: the importers' shortcut must never disagree with validate_record ---------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from usage_ls.model import KNOWN_FIELDS, MAX_TOKENS, validate_fast  # noqa: E402

_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10),
    st.integers(MAX_TOKENS - 1, MAX_TOKENS + 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.sampled_from(
        [
            "",
            " ",
            "a ",
            " a",
            "x" * 200,
            "x" * 201,
            "a\x00b",
            "é\u200d",
            "premium",
            "byok",
            "2026-11-20T10:00:00Z",
            "claude-sonnet-4-5",
        ]
    ),
    st.integers(946684800000, 4102444800001),
    st.lists(st.integers(), max_size=2),
)


_GOOD = {
    "id": "claude-code:msg_1:req_1",
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
}


@settings(max_examples=4000, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(KNOWN_FIELDS) + ["extra"]), _ODD_VALUES, max_size=4),
    st.sets(st.sampled_from(sorted(KNOWN_FIELDS)), max_size=3),
)
def test_validate_fast_agrees_with_validate_record_on_any_input(changed, removed):
    # a well-formed record with a few fields changed to odd values or removed
    raw = {k: v for k, v in {**_GOOD, **changed}.items() if k not in removed}
    d = Defaults(project="(no project)", user="dev", tz=dt.UTC)
    fast = validate_fast(raw, d)
    if fast is None:
        return  # the caller asks validate_record
    slow, dropped = validate_record(raw, d, 0)  # must not raise: fast accepted it
    assert fast == slow and list(fast) == list(slow) and dropped == []


def test_the_property_above_is_not_vacuous():
    # the well-formed record and its harmless variants do take the fast way
    d = Defaults(project="(no project)", user="dev", tz=dt.UTC)
    for change in (
        {},
        {"costUsd": None},
        {"credits": None},
        {"user": None},
        {"cacheWrite1hTokens": 0},
        {"billing": "premium"},
    ):
        assert validate_fast({**_GOOD, **change}, d) is not None, change


def test_validate_fast_takes_an_importer_record():
    rec = {
        "id": "claude-code:msg_1:req_1",
        "timestamp": 1_763_600_000_000,
        "model": "claude-sonnet-4-5",
        "provider": "anthropic",
        "project": "widget",
        "inputTokens": 1,
        "outputTokens": 2,
        "cacheReadTokens": 3,
        "cacheWriteTokens": 4,
        "cacheWrite1hTokens": 4,
        "feature": "claude-code",
        "session": "s1",
        "billing": "byok",
    }
    d = Defaults(project="(no project)", user="dev", tz=ZoneInfo("Asia/Tokyo"))
    assert validate_fast(rec, d) == validate_record(rec, d, 0)[0]
    assert validate_fast(rec, d)["date"] == "2025-11-20"
