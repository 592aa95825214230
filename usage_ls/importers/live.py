"""Live import: the running server picks up new log lines while a terminal agent works.

On by default (`[import] watch = "auto"` in config.toml: every tool whose logs are on this
machine; a list names tools, `[]` turns it off). `attach(svc)` makes a `LiveImporter`;
`start(loop)` then watches:

- **by OS file events** (inotify through `watchdog`, `events.py`): the tools' log folders,
  recursively. An append, a new file or a new session folder wakes the server's loop, which
  reads what is new from the offset the last import stopped at (the same `imports.json` as
  `usage-ls import`) and pushes `usage/didChange` at once. Idle, nothing runs: no stat, no
  timer.
- **by polling**, only for a tool whose folders cannot give events (a network filesystem, the
  inotify watch limit reached, `USAGE_LS_WATCH_POLL=1`): the reason is logged and shown by
  `usage-ls doctor`. The server calls `poll` on its tick (0.25 s): *hot* files (written in the
  last 10 minutes) are stat-ed every tick; *cold* files in turn, a quarter of them per tick (at
  most 500); the folders once a second (a new session file is seen within about a second);
  the whole tree again once a minute.

History written while the server was not running is imported in the background when it starts
(`backfill.py`, with progress in the editor); the watcher is paused meanwhile and then reads
what changed during it. Imports by this watcher and by the CLI exclude each other with a lock
on the data directory; the watcher tries again a quarter of a second later rather than wait.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from usage_ls.importers import ALIASES, TOOL_NAMES, Importer
from usage_ls.importers.base import lock
from usage_ls.importers.registry import EXPORTS

log = logging.getLogger(__name__)

HOT_SECONDS = 600.0
DIR_SECONDS = 1.0
RESCAN_SECONDS = 60.0
RETRY_SECONDS = 0.25  # a CLI import holds the lock
HELD_SECONDS = 0.25  # a file ending in a response held back (still written) is read again


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
        self.held: set[Path] = set()  # event mode: read again in HELD_SECONDS (a response being written)
        self.next_dirs = 0.0
        self.next_rescan = 0.0
        self.mode = "polled: file events not started"  # "events" once `LiveImporter.start` watches

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
        # records go through `_Announcing`: the editor hears of them as soon as they are in the
        # ledger, before the import state is saved (its fsyncs would delay the push)
        self.importer = Importer(svc=_Announcing(svc, self._recorded))
        self.watches = [_Watch(self.importer, n) for n in names]
        self.paused = False  # while the history is imported (backfill.py): one importer at a time
        self.events = None  # events.Events once started
        self.on_records: Callable[[], None] | None = None  # the server: refresh and push
        self.last_record: dict[str, float] = {}  # tool -> when it last gave records (epoch s)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.due: asyncio.TimerHandle | None = None
        self.held_due: asyncio.TimerHandle | None = None  # files whose last response is held back
        self.roots: list[tuple[str, _Watch]] = []  # watched folder (with a final /) -> its tool
        self.files: dict[str, _Watch] = {}  # watched single files (aider's history)
        self.missing: list[tuple[Path, _Watch]] = []  # roots not there yet: looked for once a minute
        self.next_missing = 0.0
        self.running: str | None = None  # the tool being read

    # -- file events -------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Watch each tool's folders by file events; a tool whose folders cannot be watched so
        is polled (`mode` says which and why)."""
        from usage_ls.importers import events

        self.loop = loop
        try:
            self.events = events.Events(loop, self.changed_paths)
        except Exception as exc:  # no inotify here: every tool is polled
            log.warning("live import: file events unavailable (%s): polling", exc)
            for w in self.watches:
                w.mode = f"polled: file events unavailable ({exc})"
            return
        for w in self.watches:
            w.mode = "events"
            for root in w.tool.roots():
                root = Path(root).expanduser()
                reason = self._watch_root(root, w)
                if reason:
                    w.mode = f"polled: {reason}"
                    log.warning("live import %s: %s; polling its logs instead", w.name, reason)
                    break

    def _watch_root(self, root: Path, w: _Watch) -> str | None:
        from usage_ls.importers import events

        if not root.exists():
            self.missing.append((root, w))
            return None
        root = root.resolve()
        folder = root if root.is_dir() else root.parent
        reason = events.why_not(folder)
        if reason is None:
            assert self.events is not None
            reason = self.events.watch(folder, recursive=root.is_dir())
        if reason is None:
            if root.is_dir():
                self.roots.append((str(root).rstrip("/") + "/", w))
            else:
                self.files[str(root)] = w
        return reason

    def changed_paths(self, paths: set[str]) -> None:
        """Files the OS says changed (on the loop): their tools' to read, soon."""
        for raw in paths:
            if raw.endswith(("-wal", "-journal")):  # SQLite (opencode.db): the database changed
                raw = raw.rsplit("-", 1)[0]
            w = self.files.get(raw) or next((w for root, w in self.roots if raw.startswith(root)), None)
            if w is not None and w.mode == "events" and (raw in self.files or w._matches(os.path.basename(raw))):
                w.pending.add(Path(raw))
        self.run_soon(0.0)

    def run_soon(self, delay: float) -> None:
        if self.due is None and self.loop is not None and any(w.pending for w in self.watches):
            self.due = self.loop.call_later(delay, self._run_events)

    def _run_events(self) -> None:
        self.due = None
        if self.paused:  # `resume` runs what came meanwhile
            return
        work = [(w, set(w.pending)) for w in self.watches if w.mode == "events" and w.pending]
        if work and self._import(work) is None:
            self.run_soon(RETRY_SECONDS)  # a CLI import holds the lock: try again shortly

    def resume(self) -> None:
        """The history is in (backfill): read what the tools appended meanwhile (the events
        that came during it left their files pending)."""
        self.paused = False
        self.run_soon(0.0)

    # -- the poll (where events cannot be had), on the server's tick ----------------------------

    def poll(self) -> bool:
        if self.paused:  # what changes meanwhile is seen after: signatures are compared then
            return False
        now = time.time()
        if self.missing and now >= self.next_missing:
            self._look_for_missing(now)
        work: list[tuple[_Watch, set[Path]]] = []
        for w in self.watches:
            if w.mode == "events":
                continue
            if now >= w.next_rescan:
                w.rescan(now)
            elif now >= w.next_dirs:
                w.check_dirs(now)
            files = w.changed()
            if files:
                work.append((w, set(files)))
        return bool(work) and bool(self._import(work))

    def _look_for_missing(self, now: float) -> None:
        """A tool's folder created after the server started (a tool used for the first time)."""
        self.next_missing = now + RESCAN_SECONDS
        missing, self.missing = self.missing, []
        for root, w in missing:
            if w.mode != "events":
                continue
            reason = self._watch_root(root, w)
            if reason:
                w.mode = f"polled: {reason}"
                log.warning("live import %s: %s; polling its logs instead", w.name, reason)
            elif root.exists():  # what was written before the watch began
                w.pending.update(w.tool.discover([root]))
                self.run_soon(0.0)

    # -- reading -------------------------------------------------------------------------------

    def _import(self, work: list[tuple[_Watch, set[Path]]]) -> bool | None:
        """Read the files; True if records came, None if the import lock is taken."""
        lk = lock(self.importer.data_dir, blocking=False)
        if lk is None:
            for w, files in work:  # a CLI import is running: try these again shortly
                w.pending.update(files)
            return None
        recorded = False
        try:
            self.importer.refresh()
            for w, files in work:
                w.pending -= files
                self.running = w.name
                tally = self.importer.run(w.name, files=sorted(files, key=str), final=False)
                recorded |= tally.imported > 0
                held = {p for p in files if self.importer.held(w.name, p)}
                if w.mode == "events":  # a response still being written: read again shortly
                    w.held |= held
                else:
                    w.pending |= held
                if tally.unreadable:
                    log.info("live import %s: %s", w.name, tally.line())
        finally:
            self.running = None
            lk.release()
        if self.held_due is None and self.loop is not None and any(w.held for w in self.watches):
            self.held_due = self.loop.call_later(HELD_SECONDS, self._retry_held)
        return recorded

    def _recorded(self) -> None:
        """Records of the tool being read are in the ledger."""
        if self.running is not None:
            self.last_record[self.running] = time.time()
        if self.on_records is not None:
            self.on_records()

    def _retry_held(self) -> None:
        self.held_due = None
        for w in self.watches:
            w.pending |= w.held
            w.held.clear()
        self.run_soon(0.0)

    def seen_before(self) -> None:
        """When each tool last wrote what the import state says was read (after the backfill):
        what `last_record` starts from."""
        state = self.importer.state
        for w in self.watches:
            prefix = w.name + ":"
            newest = max(
                (e.get("mtime", 0) for k, e in state.files.items() if k.startswith(prefix) and e.get("offset")),
                default=0,
            )
            if newest and w.name not in self.last_record:
                self.last_record[w.name] = newest / 1e9

    def sources(self) -> list[dict]:
        """Each watched tool: how it is watched and when it last gave records."""
        return [{"tool": w.name, "mode": w.mode, "lastRecord": self.last_record.get(w.name)} for w in self.watches]

    def stop(self) -> None:
        for handle in (self.due, self.held_due):
            if handle is not None:
                handle.cancel()
        self.due = self.held_due = None
        self.loop = None  # nothing is scheduled again (the backfill's end may still resume)
        if self.events is not None:
            self.events.stop()
            self.events = None


class _Announcing:
    """The service, with a word after each write that took records."""

    def __init__(self, svc, after: Callable[[], None]):
        self._svc = svc
        self._after = after

    def __getattr__(self, name: str):
        return getattr(self._svc, name)

    def record(self, *args, **kwargs) -> dict:
        result = self._svc.record(*args, **kwargs)
        if result.get("accepted"):
            self._after()
        return result


def attach(svc, setting: list[str] | None = None) -> LiveImporter | None:
    """Watch the tools `setting` names (default: config.toml's `[import] watch`): tool names,
    "all", or "auto" (every tool whose logs are on this machine). The caller starts the
    file events (`start`) once its loop runs; until then, and for what events cannot watch,
    `poll` is in `svc.watchers`."""
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
