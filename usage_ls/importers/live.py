"""Live import: the running server picks up new log lines while a terminal agent works.

On by default (`[import] watch = "auto"` in config.toml: every tool whose logs are on this
machine; a list names tools, `[]` turns it off). The server calls `attach(svc)` once; it appends a watcher the server calls on every tick (0.25 s) on its event
loop thread. Cheap when idle:

- *hot* files (written in the last 10 minutes) are stat-ed every tick; a change is read from
  the offset the last import stopped at (the same `imports.json` as `usage-ls import`);
- *cold* files are stat-ed in turn, a quarter of them per tick (at most 500), so an old
  session that is resumed is noticed within about a second too;
- the tool's folders are stat-ed once a second; a folder whose mtime moved is listed, so a new
  session file is seen within about a second;
- the whole tree is walked again once a minute (folders created deep inside, files cooling
  down).

History written while the server was not running is imported in the background when it starts
(`backfill.py`, with progress in the editor); a cold file is read again once it changes. Imports by this watcher and by the CLI exclude each other with a
lock on the data directory; the watcher skips a tick rather than wait.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from usage_ls.importers import ALIASES, TOOL_NAMES, Importer
from usage_ls.importers.base import lock
from usage_ls.importers.registry import EXPORTS

log = logging.getLogger(__name__)

HOT_SECONDS = 600.0
DIR_SECONDS = 1.0
RESCAN_SECONDS = 60.0


class _Watch:
    """One tool's files and folders."""

    def __init__(self, importer: Importer, name: str):
        self.importer = importer
        self.name = name
        self.tool = importer.tool(name)
        self.dirs: dict[str, int] = {}  # folder -> mtime_ns
        self.hot: dict[Path, tuple] = {}  # file -> (size, mtime_ns)
        self.cold: dict[Path, tuple] = {}
        self.cold_order: list[Path] = []
        self.cold_next = 0
        self.pending: set[Path] = set()
        self.next_dirs = 0.0
        self.next_rescan = 0.0

    def _matches(self, name: str) -> bool:
        import fnmatch

        return any(fnmatch.fnmatch(name, pat) for pat in self.tool.patterns)

    def rescan(self, now: float) -> None:
        self.next_rescan = now + RESCAN_SECONDS
        dirs: dict[str, int] = {}
        for root in self.tool.roots():
            self._walk(Path(root), dirs, now, initial=not self.dirs)
        self.dirs = dirs
        cutoff = now - HOT_SECONDS
        for path in list(self.hot):
            try:
                st = path.stat()
            except OSError:
                del self.hot[path]
                continue
            if st.st_mtime < cutoff and path not in self.pending:
                del self.hot[path]
                self.cold[path] = (st.st_size, st.st_mtime_ns)
        self.cold_order = list(self.cold)
        self.cold_next = 0

    def _walk(self, root: Path, dirs: dict, now: float, initial: bool) -> None:
        if root.is_file():  # a tool whose root is a file (a database, Qwen's usage record)
            if self._matches(root.name):
                try:
                    self._consider(root, root.stat(), now, initial)
                except OSError:
                    pass
            return
        stack = [root]
        while stack:
            d = stack.pop()
            try:
                st = os.stat(d)
                entries = list(os.scandir(d))
            except OSError:
                continue
            dirs[str(d)] = st.st_mtime_ns
            for e in entries:
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(Path(e.path))
                    elif self._matches(e.name):
                        self._consider(Path(e.path), e.stat(), now, initial)
                except OSError:
                    continue

    def _consider(self, path: Path, st, now: float, initial: bool) -> None:
        if path in self.hot or path in self.cold:
            return
        if initial and st.st_mtime < now - HOT_SECONDS:
            # cold history (`usage-ls import` is for that): only what is appended from now on
            self.cold[path] = (st.st_size, st.st_mtime_ns)
            return
        # a file new to the watcher: read what the import state does not cover yet
        self.hot[path] = (-1, -1)

    def check_dirs(self, now: float) -> None:
        self.next_dirs = now + DIR_SECONDS
        for d, mtime in list(self.dirs.items()):
            try:
                st = os.stat(d)
            except OSError:
                self.dirs.pop(d, None)
                continue
            if st.st_mtime_ns == mtime:
                continue
            self.dirs[d] = st.st_mtime_ns
            try:
                entries = list(os.scandir(d))
            except OSError:
                continue
            for e in entries:
                try:
                    if e.is_dir(follow_symlinks=False):
                        if e.path not in self.dirs:
                            self._walk(Path(e.path), self.dirs, now, initial=False)
                    elif self._matches(e.name):
                        self._consider(Path(e.path), e.stat(), now, initial=False)
                except OSError:
                    continue

    def changed(self) -> list[Path]:
        out = []
        order = self.cold_order
        if order:
            n = min(500, max(1, -(-len(order) // 4)))
            for _ in range(min(n, len(order))):
                if self.cold_next >= len(order):
                    self.cold_next = 0
                path = order[self.cold_next]
                self.cold_next += 1
                sig = self.cold.get(path)
                if sig is None:
                    continue
                try:
                    st = path.stat()
                except OSError:
                    self.cold.pop(path, None)
                    continue
                if (st.st_size, st.st_mtime_ns) != sig:
                    del self.cold[path]  # woke up: hot from now on
                    self.hot[path] = (-1, -1)
        for path, sig in list(self.hot.items()):
            try:
                st = path.stat()
            except OSError:
                self.hot.pop(path, None)
                self.pending.discard(path)
                continue
            now_sig = (st.st_size, st.st_mtime_ns)
            if now_sig != sig or path in self.pending:
                self.hot[path] = now_sig
                out.append(path)
        return out


class LiveImporter:
    def __init__(self, svc, names: list[str]):
        self.svc = svc
        self.importer = Importer(svc=svc)
        self.watches = [_Watch(self.importer, n) for n in names]
        self.paused = False  # while the history is imported (backfill.py): one importer at a time

    def poll(self) -> bool:
        if self.paused:  # what changes meanwhile is seen after: signatures are compared then
            return False
        now = time.time()
        work: list[tuple[_Watch, list[Path]]] = []
        for w in self.watches:
            if now >= w.next_rescan:
                w.rescan(now)
            elif now >= w.next_dirs:
                w.check_dirs(now)
            files = w.changed()
            if files:
                work.append((w, files))
        if not work:
            return False
        lk = lock(self.importer.data_dir, blocking=False)
        if lk is None:
            for w, files in work:  # a CLI import is running: try these again next tick
                w.pending.update(files)
            return False
        recorded = False
        try:
            self.importer.refresh()
            for w, files in work:
                tally = self.importer.run(w.name, files=sorted(files, key=str), final=False)
                recorded |= tally.imported > 0
                w.pending = {p for p in files if self.importer.held(w.name, p)}
                if tally.unreadable:
                    log.info("live import %s: %s", w.name, tally.line())
        finally:
            lk.release()
        return recorded


def attach(svc, setting: list[str] | None = None) -> LiveImporter | None:
    """Watch the tools `setting` names (default: config.toml's `[import] watch`): tool names,
    "all", or "auto" (every tool whose logs are on this machine)."""
    names = []
    for raw in svc.cfg.import_watch if setting is None else setting:
        name = ALIASES.get(raw, raw)
        if name == "auto":
            from usage_ls.importers.backfill import detect

            names.extend(detect(Importer(svc=svc)))
        elif name == "all":
            names.extend(n for n in TOOL_NAMES if n not in EXPORTS)
        elif name in TOOL_NAMES:
            names.append(name)
        else:
            log.warning("[import] watch: unknown tool %r (known: %s)", raw, ", ".join(TOOL_NAMES))
    names = list(dict.fromkeys(names))
    if not names:
        return None
    live = LiveImporter(svc, names)
    svc.watchers.append(live.poll)
    return live
