"""OS file events for the log watcher (`live.py`): inotify through `watchdog`.

One observer thread per server watches every tool's log folders recursively (new files,
appends, new session folders: watchdog adds a watch for a folder created inside and reports
the files already in it). The thread only notes which paths changed and wakes the server's
event loop once per batch; the import itself runs on the loop, as every write to the ledger.

Where events cannot be had, `place()` says why and the watcher polls that tool instead: a
network or FUSE filesystem (inotify sees only this machine's writes there), the inotify watch
or instance limit reached, or `USAGE_LS_WATCH_POLL=1` (for a filesystem whose events are not
to be trusted). The reason is logged and shown by `usage-ls doctor`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# filesystems where inotify misses other machines' writes (or sees none at all)
REMOTE = frozenset(
    (
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "gpfs",
        "davfs",
        "ncpfs",
        "coda",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.gcsfuse",
        "fuse.glusterfs",
        "fuse.cephfs",
    )
)


def mount_type(path: Path, mountinfo: str | None = None) -> str | None:
    """The filesystem type of the mount holding `path` (Linux /proc/self/mountinfo, or the
    `mountinfo` text given), or None."""
    real = os.path.realpath(path)
    if mountinfo is None:
        try:
            with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
                mountinfo = f.read()
        except OSError:
            return None
    lines = mountinfo.splitlines()
    best, kind = "", None
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 5 or not right:
            continue
        point = fields[4].replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, right.split()[0]
    return kind


def why_not(path: Path) -> str | None:
    """Why `path` cannot be watched by events (None: it can)."""
    if os.environ.get("USAGE_LS_WATCH_POLL", "").strip().lower() in ("1", "true", "yes", "on"):
        return "USAGE_LS_WATCH_POLL is set"
    if not hasattr(os, "inotify_init") and not Path("/proc/sys/fs/inotify").exists():
        return "this system has no inotify"
    kind = mount_type(path)
    if kind in REMOTE:
        return f"{path} is on a network filesystem ({kind}): file events miss other machines' writes"
    return None


class Events:
    """Watches folders; `on_paths(paths)` runs on `loop` with the files that changed."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_paths: Callable[[set[str]], None]):
        from watchdog.events import (
            DirCreatedEvent,
            DirMovedEvent,
            FileCreatedEvent,
            FileModifiedEvent,
            FileMovedEvent,
            FileSystemEventHandler,
        )
        from watchdog.observers.inotify import InotifyObserver

        self.loop = loop
        self.on_paths = on_paths
        self.lock = threading.Lock()
        self.changed: set[str] = set()
        events = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:  # the observer's thread
                if event.is_directory or event.event_type in ("deleted", "opened", "closed", "closed_no_write"):
                    return
                path = event.dest_path or event.src_path
                events.note(os.fsdecode(path))

        self.handler = Handler()
        # only writes and new names: not the opens and reads of our own imports (inotify's mask)
        self.kinds = [FileCreatedEvent, FileModifiedEvent, FileMovedEvent, DirCreatedEvent, DirMovedEvent]
        self.observer = InotifyObserver()
        self.observer.daemon = True
        self.observer.start()

    def note(self, path: str) -> None:
        with self.lock:
            wake = not self.changed
            self.changed.add(path)
        if wake:  # one wake-up per batch: a burst of appends is one import
            try:
                self.loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # the loop is closed: the server is exiting
                pass

    def _deliver(self) -> None:
        with self.lock:
            paths, self.changed = self.changed, set()
        if paths:
            self.on_paths(paths)

    def watch(self, root: Path, recursive: bool = True) -> str | None:
        """Watch the folder `root` (and everything below); None, or why it cannot be (then poll it)."""
        try:
            self.observer.schedule(self.handler, str(root), recursive=recursive, event_filter=self.kinds)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                return (
                    f"the inotify watch limit is reached ({_limit('max_user_watches')}; "
                    "raise fs.inotify.max_user_watches)"
                )
            if exc.errno == errno.EMFILE:
                return (
                    f"the inotify instance limit is reached ({_limit('max_user_instances')}; "
                    "raise fs.inotify.max_user_instances)"
                )
            return f"{root} cannot be watched: {exc.strerror or exc}"
        return None

    def stop(self) -> None:
        try:
            self.observer.stop()
            self.observer.join(2)
        except Exception:
            log.exception("stopping the file watcher")


def _limit(name: str) -> str:
    try:
        return f"{name} = " + Path(f"/proc/sys/fs/inotify/{name}").read_text().strip()
    except OSError:
        return name
