"""TinyDB storage for the ledger's files: never leaves a torn file behind.

Plain `JSONStorage` rewrites its file in place: a crash mid-write leaves half a file and loses
everything in it. `AtomicJSONStorage` writes through `usage_ls.fileio.atomic_write` (temp file,
fsync, rename, directory fsync), so a reader sees the old file or the new one, never a mix, and
reads through `fileio.read_json`, which moves a file that does not parse aside.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from usage_ls.fileio import atomic_write, quarantine, read_json


class AtomicJSONStorage(Storage):
    def __init__(self, path: str | Path, **_: object):
        self.path = Path(path)

    def read(self):
        data = read_json(self.path)
        if data is not None and not isinstance(data, dict):
            quarantine(self.path, "not a TinyDB document store")
            return None
        return data

    def write(self, data) -> None:
        atomic_write(self.path, orjson.dumps(data))

    def close(self) -> None:
        pass


class StrIdTable(Table):
    """Documents keyed by our own string ids (record ids, dates) instead of counters."""

    document_id_class = str  # type: ignore[assignment]


class Database(TinyDB):
    table_class = StrIdTable


def open_db(path: Path) -> Database:
    return Database(path, storage=AtomicJSONStorage)
