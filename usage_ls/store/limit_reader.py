"""Every limit observation of a data directory, kept in memory and read on from where the last
read stopped.

The observations file only grows (lines appended with O_APPEND, store/limits.py), so after the
first read a change costs its new lines only: the dashboard's history asks again after every
status line call. A file that shrank or was replaced (another inode) is read again whole; a
line still being written (no newline yet) is read the next time. The server's process only
(orjson): the status line command reads the file's tail with `LimitLog.latest`.
"""

from __future__ import annotations

import os

import orjson

from usage_ls.store.limits import LimitLog, Observation, from_json


class ObservationReader:
    def __init__(self, log: LimitLog):
        self.log = log
        self.ino: int | None = None
        self.offset = 0
        self.items: list[Observation] = []

    def all(self) -> list[Observation]:
        """The observations in the order written (the reader's own list: do not change it)."""
        try:
            fd = os.open(self.log.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            self.ino, self.offset, self.items = None, 0, []
            return self.items
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_ino != self.ino or st.st_size < self.offset:
                self.ino, self.offset, self.items = st.st_ino, 0, []
            f.seek(self.offset)
            data = f.read(max(0, st.st_size - self.offset))
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            try:
                obs = from_json(orjson.loads(line))
            except ValueError:  # orjson.JSONDecodeError included
                continue
            if obs is not None:
                self.items.append(obs)
        self.offset += end
        return self.items
