"""A stored record read back from disk, checked again with the rules of `usage/record`.

The ledger validated every record before writing it (model.py), but what is on disk could have
been written by anything: a journal line appended by another program, a day rebuilt from its
columns. `check_stored` takes the stored form (what `validate_record` returns, priced:
`costUsd`, `costSource`, `credits`) and says, naming the field, what is wrong with it. A record
as this program writes it takes a shortcut of about a microsecond (`_plainly_stored`); a
property test checks the whole against `validate_record` on any input.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from usage_ls import days
from usage_ls.model import (
    BILLINGS,
    KNOWN_FIELDS,
    MAX_ID,
    MAX_MS,
    MAX_TOKENS,
    MAX_USD,
    MIN_MS,
    PLAIN_NAMES,
    TOKEN_FIELDS,
    Defaults,
    RecordError,
    stored_fast,
    validate_record,
)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


COST_SOURCES = ("computed", "reported", "unpriced")  # a stored record's costSource
# a stored record: what validate_record returns, priced (costUsd, costSource, credits)
STORED_FIELDS = frozenset(("ts", "date", "costSource", *(KNOWN_FIELDS - {"timestamp"})))
_EVERY_STORED = STORED_FIELDS - {"costSource"}  # (costSource: "computed" when absent)
_STORED_COUNT = len(STORED_FIELDS)
_REQUIRED_STORED = ("id", "ts", "date", "model", "billing", "project", "user", *TOKEN_FIELDS)  # never null
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_DATES: dict[str, int] = {}  # stored dates seen to be well formed -> their ordinal
_CHECK_DEFAULTS = Defaults(project="", user="", tz=dt.UTC)


def check_stored(rec: Any) -> dict[str, Any]:
    """A stored record read back from disk (a journal line, a day's columns) checked again
    with the rules of `usage/record`: what is on disk may have been written by anything. The
    record itself when it holds (fields outside the stored form dropped, as `validate_record`
    drops them), else RecordError naming the field. Fast for what this program wrote
    (`_plainly_stored`); a property test checks it against `validate_record` on any input."""
    if type(rec) is not dict:
        raise RecordError("record", f"expected an object, got {type(rec).__name__}")
    try:
        if _plainly_stored(rec):
            return rec
    except (KeyError, TypeError):  # a field missing, or a name that is a list or a dict
        pass
    if not rec.keys() >= _EVERY_STORED:
        missing = sorted(_EVERY_STORED - rec.keys())
        raise RecordError(missing[0], "is missing (a stored record has every field, null when unknown)")
    get = rec.get
    fast = stored_fast(
        get("id"),
        get("ts"),
        get("model"),
        get("provider"),
        get("billing") or "",  # the stored form always has these: no defaults
        get("project") or "",
        get("user") or "",
        get("inputTokens"),
        get("outputTokens"),
        get("cacheReadTokens"),
        get("cacheWriteTokens"),
        get("cacheWrite1hTokens"),
        get("costUsd"),
        get("credits"),
        get("feature"),
        get("session"),
        _CHECK_DEFAULTS,
    )
    if fast is None:
        _check_slowly(rec)
    day, ts = get("date"), rec["ts"]
    ordinal = _DATES.get(day) if type(day) is str else None
    if ordinal is None:
        ordinal = _stored_date(day)
    if abs(ordinal - (ts // 86_400_000 + _EPOCH_ORDINAL)) > 1:  # every zone's day is within a day of UTC's
        raise RecordError("date", f"{day} is not the day of its timestamp ({days.day_of(ts, dt.UTC)} in UTC)")
    source = get("costSource")
    if source is not None and source not in COST_SOURCES:
        raise RecordError("costSource", f"expected one of {', '.join(COST_SOURCES)}, got {_show(source)}")
    if not rec.keys() <= STORED_FIELDS:
        return {k: v for k, v in rec.items() if k in STORED_FIELDS}
    return rec


def _plainly_stored(rec: dict[str, Any]) -> bool:
    """True for a stored record exactly as this program writes it whose every field is plainly
    valid (names already seen to be plain, a date seen before): `check_stored`'s shortcut, one
    line of a journal in about a microsecond. False: ask the full rules. (Written out flat.)"""
    plain = PLAIN_NAMES
    ts, day, cost, credits = rec["ts"], rec["date"], rec["costUsd"], rec["credits"]
    provider, feature, session = rec["provider"], rec["feature"], rec["session"]
    inp, out, cr, cw, w1h = (
        rec["inputTokens"],
        rec["outputTokens"],
        rec["cacheReadTokens"],
        rec["cacheWriteTokens"],
        rec["cacheWrite1hTokens"],
    )
    rec_id, ordinal = rec["id"], _DATES.get(day)
    return (
        len(rec) == _STORED_COUNT
        and rec["costSource"] in COST_SOURCES
        and type(rec_id) is str
        and 0 < len(rec_id) <= MAX_ID
        and not rec_id.isspace()
        and type(ts) is int
        and MIN_MS <= ts < MAX_MS
        and ordinal is not None
        and -1 <= ordinal - (ts // 86_400_000 + _EPOCH_ORDINAL) <= 1
        and rec["billing"] in BILLINGS
        and rec["model"] in plain
        and rec["project"] in plain
        and rec["user"] in plain
        and (provider is None or provider in plain)
        and (feature is None or feature in plain)
        and (session is None or session in plain)
        and type(inp) is int
        and type(out) is int
        and type(cr) is int
        and type(cw) is int
        and type(w1h) is int
        and 0 <= inp <= MAX_TOKENS
        and 0 <= out <= MAX_TOKENS
        and 0 <= cr <= MAX_TOKENS
        and 0 <= w1h <= cw <= MAX_TOKENS
        and (cost is None or (type(cost) is float and 0 <= cost <= MAX_USD))
        and (credits is None or (type(credits) is float and 0 <= credits <= MAX_USD))
    )


def _stored_date(value: Any) -> int:
    if not (type(value) is str and _DATE.match(value)):
        raise RecordError("date", f"expected a day as YYYY-MM-DD, got {_show(value)}")
    try:
        ordinal = dt.date.fromisoformat(value).toordinal()
    except ValueError:
        raise RecordError("date", f"is not a calendar day: {_show(value)}") from None
    if len(_DATES) < 100_000:
        _DATES[value] = ordinal
    return ordinal


def _check_slowly(rec: dict[str, Any]) -> None:
    """`check_stored` for a record `stored_fast` did not vouch for: every rule of
    `validate_record`, and the stored form exactly as it returns it. Raises naming the field."""
    for field in _REQUIRED_STORED:
        if rec.get(field) in (None, ""):
            raise RecordError(field, "is required in a stored record")
    if type(rec["ts"]) is not int:
        raise RecordError("ts", f"expected epoch milliseconds (an integer), got {_show(rec['ts'])}")
    raw = {k: v for k, v in rec.items() if k in KNOWN_FIELDS}
    try:
        out, _ = validate_record({**raw, "timestamp": rec["ts"]}, _CHECK_DEFAULTS)
    except RecordError as exc:  # (the stored form calls the timestamp `ts`)
        raise RecordError("ts" if exc.field == "timestamp" else exc.field, exc.message) from None
    for field, value in out.items():
        have = rec[field]
        if type(have) is int and field in ("costUsd", "credits"):
            have = float(have)
        if field != "date" and (type(value) is not type(have) or value != have):
            raise RecordError(field, f"is not in its stored form: {_show(have)}")
