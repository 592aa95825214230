"""OpenClaw's transcripts in its agent database (OpenClaw 2026.9 and later).

Format read
    `agents/<agent>/agent/openclaw-agent.sqlite`, table `transcript_events(session_id, seq,
    event_json, event_zstd, event_utf8_bytes, created_at)`: each row one line of what used to
    be the session's `.jsonl` transcript (pi's format: `session`, `model_change`, `custom`
    `model-snapshot`, `message` lines). An event of 1 KiB or more is stored zstd-compressed
    (`event_zstd`, its length in `event_utf8_bytes`) instead of as text: an assistant message
    with a longer answer is. Checked against OpenClaw 2026.9.6 on 2026-12-06
    (tests/importers/test_real_vendor_tools.py). `trajectory_runtime_events`' `model.completed`
    sums a run's requests and is not read.

Mapping
    As the `.jsonl` transcripts (`openclaw.py`), with the same record ids, so a transcript
    OpenClaw moved into its database from a file imported before adds nothing.

Not read (UNCERTAIN: not seen written): `session_transcript_archives` and
`session_transcript_cold_archives`, where OpenClaw keeps a reset or deleted session's
transcript as one blob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from usage_ls.importers.lines import FileResult
from usage_ls.importers.running import columns, open_ro, wal_to_db

DB = "openclaw-agent.sqlite"
MAX_EVENT = 4 * 1024 * 1024  # OpenClaw's own bound on an event


def _zstd() -> Callable[[bytes, int], bytes] | None:
    """A zstd decoder: Python's own (3.14+), else the `zstandard` package."""
    try:
        from compression import zstd  # type: ignore[import-not-found]

        return lambda data, size: zstd.decompress(data)
    except ImportError:
        pass
    try:
        import zstandard
    except ImportError:
        return None
    return lambda data, size: zstandard.ZstdDecompressor().decompress(data, max_output_size=size)


def events(path: Path, result: FileResult) -> Iterator[tuple[str, int, dict]]:
    """(session id, seq, event) of every transcript event in the database `path` (or the
    database its `-wal` belongs to), in order per session; problems counted in `result`."""
    import sqlite3

    db = wal_to_db(path)
    if not db.exists():
        return
    try:
        con = open_ro(db)
    except sqlite3.Error as exc:
        result.bad(db.name, f"cannot read the database ({exc})")
        result.retry = True
        return
    decode = None
    try:
        have = columns(con, "transcript_events")
        if not {"session_id", "seq", "event_json"} <= have:
            return
        packed = "event_zstd, event_utf8_bytes" if {"event_zstd", "event_utf8_bytes"} <= have else "NULL, NULL"
        # only what can matter: a message with usage, a model change, and what is compressed
        wanted = (
            "event_json IS NULL OR instr(event_json, '\"usage\"') > 0"
            " OR instr(event_json, '\"model_change\"') > 0 OR instr(event_json, '\"model-snapshot\"') > 0"
        )
        sql = f"SELECT session_id, seq, event_json, {packed} FROM transcript_events WHERE {wanted} ORDER BY session_id, seq"
        for session, seq, text, blob, size in con.execute(sql):
            where = f"{db.name}:{session}:{seq}"
            if text is None and blob is not None:
                decode = decode or _zstd()
                if decode is None:
                    result.bad(
                        where, "event is zstd-compressed and no zstd decoder is installed (pip install zstandard)"
                    )
                    continue
                if not isinstance(size, int) or not 0 < size <= MAX_EVENT:
                    result.bad(where, f"event_utf8_bytes: expected 1 to {MAX_EVENT}, got {size!r}")
                    continue
                try:
                    text = decode(bytes(blob), size)
                except Exception as exc:  # the codecs' own error types differ
                    result.bad(where, f"event_zstd: cannot be decompressed ({exc})")
                    continue
            if text is None:
                continue
            try:
                obj = orjson.loads(text)
            except orjson.JSONDecodeError:
                result.bad(where, "event_json is not JSON")
                continue
            if isinstance(obj, dict):
                yield str(session), int(seq), obj
    except sqlite3.Error as exc:
        result.bad(db.name, f"cannot read the database ({exc})")
        result.retry = True
    finally:
        con.close()
