"""The record: one AI interaction. Validated here and only here.

`validate_record` turns what a client sent (protocol camelCase JSON) into the stored form, or
raises `RecordError` naming the field, what was expected and what came instead (its type, or
the value only where it cannot be a secret: `errors.describe`). Fields outside the
schema are dropped (never stored: no prompt or response text ends up in the ledger) and
reported back so the sender can notice. A stored record read back from disk is checked again
with these same rules by `stored.check_stored`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from usage_ls import days
from usage_ls.errors import describe

BILLINGS = ("premium", "byok")  # stored as codes 0 and 1 in columns (`billing_code`)
TOKEN_FIELDS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "cacheWrite1hTokens")
# the token counts that add up to a total: cacheWrite1hTokens is a part of cacheWriteTokens
TOTAL_TOKEN_FIELDS = TOKEN_FIELDS[:4]


def billing_code(billing: str) -> int:
    """A billing's code in the columns (0 premium, 1 byok)."""
    return 0 if billing == "premium" else 1


KNOWN_FIELDS = frozenset(
    (
        "id",
        "timestamp",
        "model",
        "provider",
        "billing",
        "project",
        "user",
        *TOKEN_FIELDS,
        "costUsd",
        "credits",
        "feature",
        "session",
    )
)
MAX_NAME = 200  # model, project, user, feature, session, provider
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_ID = 200
MAX_TOKENS = 10**12  # a trillion tokens in one interaction is a bug, not usage
MAX_USD = 1_000_000.0
MIN_MS = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
MAX_MS = int(dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)


class RecordError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Defaults:
    """What fills a field the client left out."""

    project: str
    user: str
    tz: dt.tzinfo


def _name(rec: dict[str, Any], field: str, *, required: bool = False, limit: int = MAX_NAME) -> str | None:
    value = rec.get(field)
    if _plain(value, limit):  # the common case, cheaply: already clean
        return value
    if value is None:
        if required:
            raise RecordError(field, "is required (a non-empty string)")
        return None
    if not isinstance(value, str):
        raise RecordError(field, f"expected a string, got {describe(value)}")
    if len(value) > limit:
        raise RecordError(field, f"is too long ({len(value)} characters; at most {limit})")
    lead = len(value) - len(value.lstrip())
    value = value.strip()
    if not value:
        if required:
            raise RecordError(field, "must not be empty")
        return None
    control = _CONTROL.search(value)
    if control:
        raise RecordError(field, f"contains a control character (at character {lead + control.start() + 1})")
    return value


def check_name(value: object, field: str) -> str:
    """`value` as a record's `field` (project, user: a name) would be stored: trimmed; raises
    `RecordError` naming `field` when the record rules refuse it (empty, not a string, too
    long, control characters). For names that are not in a record: the defaults."""
    name = _name({field: value}, field, required=True)
    assert name is not None  # (required)
    return name


def _count(rec: dict[str, Any], field: str, *, required: bool = False) -> int:
    value: Any = rec.get(field)
    if _plain_count(value):
        return int(value)
    if value is None:
        if required:
            raise RecordError(field, "is required (an integer >= 0)")
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(field, f"expected an integer >= 0, got {describe(value)}")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise RecordError(field, f"expected an integer >= 0, got {describe(value)}")
        value = int(value)
    if value < 0:
        raise RecordError(field, f"must be >= 0, got {value}")
    if value > MAX_TOKENS:
        raise RecordError(field, f"is implausibly large ({value}; at most {MAX_TOKENS})")
    return int(value)


def _money(rec: dict[str, Any], field: str) -> float | None:
    value = rec.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecordError(field, f"expected a number >= 0, got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise RecordError(field, f"must be a finite number, got {value}")
    if value < 0:
        raise RecordError(field, f"must be >= 0, got {value}")
    if value > MAX_USD:
        raise RecordError(field, f"is implausibly large ({value}; at most {MAX_USD:g})")
    return value


def parse_timestamp(value: Any, tz: dt.tzinfo) -> int:
    """RFC 3339 string or epoch milliseconds -> epoch milliseconds."""
    if isinstance(value, bool):
        raise RecordError("timestamp", f"expected an RFC 3339 string or epoch milliseconds, got {describe(value)}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise RecordError("timestamp", f"must be finite, got {value}")
        ms = int(value)
    elif isinstance(value, str):
        if len(value) > 64:
            raise RecordError("timestamp", "is too long to be a timestamp")
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
        except ValueError:
            raise RecordError(
                "timestamp", f"does not parse as RFC 3339 (e.g. 2026-11-21T14:03:00Z), got {describe(value)}"
            ) from None
        if parsed.tzinfo is None:  # a local wall-clock time in the user's zone
            parsed = parsed.replace(tzinfo=tz)
        ms = int(parsed.timestamp() * 1000)
    else:
        raise RecordError("timestamp", f"expected an RFC 3339 string or epoch milliseconds, got {describe(value)}")
    if not MIN_MS <= ms < MAX_MS:
        raise RecordError("timestamp", f"is outside 2000-2099 ({describe(value)}); epoch milliseconds expected")
    return ms


def validate_record(raw: Any, defaults: Defaults, now_ms: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """Validate one record. Returns (stored record without price fields, dropped field names)."""
    if not isinstance(raw, dict):
        raise RecordError("record", f"expected an object, got {describe(raw)}")
    rec_id = raw.get("id")
    if rec_id is None:
        rec_id = uuid.uuid4().hex
    elif not isinstance(rec_id, str) or not rec_id.strip():
        raise RecordError("id", f"expected a non-empty string, got {describe(rec_id)}")
    elif len(rec_id) > MAX_ID:
        raise RecordError("id", f"is too long ({len(rec_id)} characters; at most {MAX_ID})")
    ts = raw.get("timestamp")
    ts_ms = (now_ms if now_ms is not None else days.now_ms()) if ts is None else parse_timestamp(ts, defaults.tz)
    billing = raw.get("billing", "premium")
    if billing is None:
        billing = "premium"
    if billing not in BILLINGS:
        raise RecordError("billing", f'expected "premium" or "byok", got {describe(billing)}')
    out = {
        "id": rec_id,
        "ts": ts_ms,
        "date": days.day_of_cached(ts_ms, defaults.tz),
        "model": _name(raw, "model", required=True),
        "provider": _name(raw, "provider", limit=100),
        "billing": billing,
        "project": _name(raw, "project") or defaults.project,
        "user": _name(raw, "user") or defaults.user,
        "inputTokens": _count(raw, "inputTokens", required=True),
        "outputTokens": _count(raw, "outputTokens", required=True),
        "cacheReadTokens": _count(raw, "cacheReadTokens"),
        "cacheWriteTokens": _count(raw, "cacheWriteTokens"),
        "cacheWrite1hTokens": _count(raw, "cacheWrite1hTokens"),
        "costUsd": _money(raw, "costUsd"),
        "credits": _money(raw, "credits"),
        "feature": _name(raw, "feature"),
        "session": _name(raw, "session"),
    }
    if out["cacheWrite1hTokens"] > out["cacheWriteTokens"]:
        raise RecordError(
            "cacheWrite1hTokens",
            f"({out['cacheWrite1hTokens']}) is part of cacheWriteTokens ({out['cacheWriteTokens']}) and cannot exceed it",
        )
    dropped = [k for k in raw if k not in KNOWN_FIELDS]
    return out, dropped


PLAIN_NAMES: set[str] = set()  # strings of at most 100 characters seen to be plain (names repeat)


def _plain(value: object, limit: int) -> bool:
    """A string `_name` would return unchanged: non-empty, printable, not padded, not too long."""
    if type(value) is not str:
        return False
    if value in PLAIN_NAMES:
        return True
    ok = 0 < len(value) <= limit and value.isprintable() and not value[0].isspace() and not value[-1].isspace()
    if ok and len(value) <= 100 and len(PLAIN_NAMES) < 100_000:
        PLAIN_NAMES.add(value)
    return ok


def _plain_count(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_TOKENS


def validate_fast(raw: Any, defaults: Defaults) -> dict[str, Any] | None:
    """`validate_record(raw)[0]` for a record whose every field is plainly valid (as the log
    importers build them: epoch-ms timestamp, counts as ints, names already clean), else None
    and the caller asks `validate_record`, which has every rule and its message. A property
    test checks the two agree on any input."""
    if type(raw) is not dict or not raw.keys() <= KNOWN_FIELDS:
        return None
    get = raw.get
    return stored_fast(
        get("id"),
        get("timestamp"),
        get("model"),
        get("provider"),
        get("billing"),
        get("project"),
        get("user"),
        get("inputTokens"),
        get("outputTokens"),
        get("cacheReadTokens", 0),
        get("cacheWriteTokens", 0),
        get("cacheWrite1hTokens", 0),
        get("costUsd"),
        get("credits"),
        get("feature"),
        get("session"),
        defaults,
    )


def stored_fast(
    rec_id: Any,
    ts: Any,
    model: Any,
    provider: Any,
    billing: Any,
    project: Any,
    user: Any,
    inp: Any,
    out: Any,
    cr: Any,
    cw: Any,
    w1h: Any,
    cost: Any,
    credits: Any,
    feature: Any,
    session: Any,
    defaults: Defaults,
) -> dict[str, Any] | None:
    """`validate_fast` of the record with these fields (None: absent), without the record: an
    importer's fast path calls it with what it read. (Written out flat: runs per record.)"""
    if not (type(rec_id) is str and 0 < len(rec_id) <= MAX_ID and not rec_id.isspace()):
        return None
    if not (type(ts) is int and MIN_MS <= ts < MAX_MS):
        return None
    plain = PLAIN_NAMES  # `x in plain` first: names repeat (a list or dict raises TypeError: not plain)
    try:
        if not (model in plain or _plain(model, MAX_NAME)):
            return None
    except TypeError:
        return None
    if billing is None:
        billing = "premium"
    elif billing not in BILLINGS:
        return None
    if project is None:
        project = defaults.project
    if user is None:
        user = defaults.user
    try:
        if not (
            (provider is None or provider in plain or _plain(provider, 100))
            and (project in plain or _plain(project, MAX_NAME))
            and (user in plain or _plain(user, MAX_NAME))
            and (feature is None or feature in plain or _plain(feature, MAX_NAME))
            and (session is None or session in plain or _plain(session, MAX_NAME))
        ):
            return None
    except TypeError:
        return None
    if not (
        type(inp) is int
        and type(out) is int
        and type(cr) is int
        and type(cw) is int
        and type(w1h) is int
        and 0 <= inp <= MAX_TOKENS
        and 0 <= out <= MAX_TOKENS
        and 0 <= cr <= MAX_TOKENS
        and 0 <= w1h <= cw <= MAX_TOKENS
    ):
        return None
    if cost is not None:
        if not ((type(cost) is float or type(cost) is int) and 0 <= cost <= MAX_USD):
            return None
        cost = float(cost)
    if credits is not None:
        if not ((type(credits) is float or type(credits) is int) and 0 <= credits <= MAX_USD):
            return None
        credits = float(credits)
    return {
        "id": rec_id,
        "ts": ts,
        "date": days.day_of_cached(ts, defaults.tz),
        "model": model,
        "provider": provider,
        "billing": billing,
        "project": project,
        "user": user,
        "inputTokens": inp,
        "outputTokens": out,
        "cacheReadTokens": cr,
        "cacheWriteTokens": cw,
        "cacheWrite1hTokens": w1h,
        "costUsd": cost,
        "credits": credits,
        "feature": feature,
        "session": session,
    }


def total_tokens(rec: dict[str, Any]) -> int:
    total: int = rec["inputTokens"] + rec["outputTokens"] + rec["cacheReadTokens"] + rec["cacheWriteTokens"]
    return total
