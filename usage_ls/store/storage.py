"""TinyDB storage for the ledger's files: never leaves a torn file behind.

Plain `JSONStorage` rewrites its file in place: a crash mid-write leaves half a file and loses
everything in it. `AtomicJSONStorage` writes through `usage_ls.fileio.atomic_write` (temp file,
fsync, rename, directory fsync), so a reader sees the old file or the new one, never a mix, and
reads through `fileio.read_json`, which moves a file that does not parse aside.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import orjson
from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage
from tinydb.table import Document, Table

from usage_ls.fileio import atomic_write, quarantine, read_json


class AtomicJSONStorage(Storage):
    def __init__(self, path: str | Path, **_: object):
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        data = read_json(self.path)
        if data is not None and not isinstance(data, dict):
            quarantine(self.path, "not a TinyDB document store")
            return None
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
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


def batch(path: Path) -> tuple[Database, Callable[[], None]]:
    """A database whose writes are held in memory until the `flush` returned beside it is
    called: one atomic write for many documents."""
    cached = CachingMiddleware(AtomicJSONStorage)  # type: ignore[no-untyped-call]

    def flush() -> None:
        cached.flush()  # type: ignore[no-untyped-call]

    return Database(path, storage=cached), flush


def document(value: dict[str, Any], doc_id: str) -> Document:
    """A document keyed by our own string id (`StrIdTable`; TinyDB's types say int)."""
    return Document(value, doc_id=cast(int, doc_id))


def upsert_all(path: Path, table: str, docs: dict[str, dict[str, Any]]) -> None:
    """Upsert documents by their string ids into `table` of `path`, with one atomic write."""
    db, flush = batch(path)
    t = db.table(table)
    for doc_id, value in docs.items():
        t.upsert(document(value, doc_id))
    flush()
