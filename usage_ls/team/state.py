"""What a data directory keeps about syncing, in `sync/` beside the ledger.

- `device-id`: this data directory's id (random, made once): one device per data directory;
- `cursor.json`: how far each day file has been pushed, per database (the schema's random
  `database_id`: a new or recreated database starts from the beginning). For each day,
  `[n, last_id, signature]`: its first n records are in the database, the nth is `last_id`
  (checked before trusting n: a day file only grows, records appended; if it was rebuilt
  differently the day is pushed again, which the database ignores by id), and the file's
  (mtime_ns, size) when it was read, so an unchanged day is not read again; and for each
  journal (records a running server acknowledged, not yet folded into a day file), the byte
  offset its lines were pushed up to;
- `status.json`: the last attempt, the last success, the last error (already masked);
- `push.lock`: one pusher per data directory at a time (several editor windows share one).

Every file is written atomically; the cursor only after the database committed the batch,
so a crash, a dropped connection or a stopped database loses nothing: the batch is sent again.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import orjson

from usage_ls import fileio
from usage_ls.store import safety
from usage_ls.store.journal import FileLock

SYNC_DIR = "sync"
DayMark = list[Any]  # [n, last_id, [mtime_ns, size]]


def folder(root: Path) -> Path:
    return safety.checked_folder(root / SYNC_DIR)


def device_id(root: Path) -> str:
    """This data directory's device id, made on first use (32 hex digits)."""
    path = root / SYNC_DIR / "device-id"
    try:
        text = (fileio.read_bytes(path) or b"").decode("ascii", "replace").strip()
    except (OSError, fileio.NotAFile):
        text = ""
    if len(text) == 32 and all(c in "0123456789abcdef" for c in text):
        return text
    folder(root)
    made = secrets.token_hex(16)
    fileio.atomic_write(path, made.encode() + b"\n")
    return made


class Cursor:
    """The durable push cursor of one data directory towards one database."""

    def __init__(self, root: Path):
        self.path = root / SYNC_DIR / "cursor.json"
        self.root = root
        self.database = ""
        self.days: dict[str, DayMark] = {}
        self.journals: dict[str, int] = {}
        self.days_read_at = 0.0  # when a push last read the day files (time.time())

    def load(self, database: str) -> Cursor:
        data = fileio.read_json(self.path) if self.path.parent.exists() else None
        self.database = database
        self.days, self.journals, self.days_read_at = {}, {}, 0.0
        if isinstance(data, dict) and data.get("database") == database and isinstance(data.get("days"), dict):
            for day, mark in data["days"].items():
                if isinstance(mark, list) and len(mark) == 3 and isinstance(mark[0], int):
                    self.days[day] = mark
            at = data.get("daysReadAt")
            self.days_read_at = float(at) if isinstance(at, (int, float)) else 0.0
            journals = data.get("journals")
            for name, offset in journals.items() if isinstance(journals, dict) else ():
                if isinstance(offset, int) and offset >= 0:
                    self.journals[name] = offset
        return self

    def save(self) -> None:
        folder(self.root)
        data = {
            "database": self.database,
            "days": self.days,
            "journals": self.journals,
            "daysReadAt": self.days_read_at,
        }
        fileio.atomic_write(self.path, orjson.dumps(data))


def read_status(root: Path) -> dict[str, Any]:
    data = fileio.read_json(root / SYNC_DIR / "status.json") if (root / SYNC_DIR).exists() else None
    return data if isinstance(data, dict) else {}


def write_status(root: Path, **changes: Any) -> dict[str, Any]:
    status = read_status(root)
    status.update(changes)
    folder(root)
    fileio.atomic_write(root / SYNC_DIR / "status.json", orjson.dumps(status), durable=False)
    return status


def push_lock(root: Path) -> FileLock:
    folder(root)
    return FileLock(root / SYNC_DIR / "push.lock")


def now_ms() -> int:
    return int(time.time() * 1000)
