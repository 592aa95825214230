"""The log watcher on OS file events, its fallback poll, and the push that carries what it
reads: at once for a lone change, coalesced in a burst."""

from __future__ import annotations

import asyncio
import errno
import logging
import re

from ccusage_compare import usage_ls, write_config
from editor import Editor
from test_import_live import _line

from usage_ls import server as server_module
from usage_ls.importers import events, live
from usage_ls.service import Usage


async def test_a_lone_change_is_pushed_at_once_and_a_burst_coalesced(monkeypatch):
    srv = server_module.UsageServer()
    pushed: list[float] = []
    loop = asyncio.get_running_loop()

    def push(force: bool = False) -> None:
        pushed.append(loop.time())
        srv.last_push = loop.time()

    monkeypatch.setattr(srv, "push", push)
    srv.request_push()
    await asyncio.sleep(0)  # one turn of the loop: no timer has run
    assert len(pushed) == 1  # the leading edge: no waiting for an interval
    for _ in range(50):  # a burst right after: nothing more at once ...
        srv.request_push()
        await asyncio.sleep(0)
    assert len(pushed) == 1
    await asyncio.sleep(server_module.PUSH_DELAY * 3)  # ... one push once the interval is over
    assert len(pushed) == 2
    assert pushed[1] - pushed[0] >= server_module.PUSH_DELAY * 0.99
    srv.request_push(now=True)  # quiet again: pushed before request_push returns
    assert len(pushed) == 3


def _claude_home(tmp_path, monkeypatch):
    claude = tmp_path / "claude"
    project = claude / "projects" / "-home-dev-proj-widget"
    project.mkdir(parents=True)
    session = project / "live-1.jsonl"
    session.write_bytes(_line("msg_first", 100))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    return session


async def test_the_watch_limit_reached_falls_back_to_polling(tmp_path, monkeypatch, caplog):
    session = _claude_home(tmp_path, monkeypatch)

    def no_more_watches(self, *args, **kwargs):  # what inotify_add_watch says at the limit
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    from watchdog.observers.inotify import InotifyObserver

    monkeypatch.setattr(InotifyObserver, "schedule", no_more_watches)
    svc = Usage(data_dir=tmp_path / "data").open()
    watcher = live.attach(svc, ["claude-code"])
    try:
        with caplog.at_level(logging.WARNING, logger="usage_ls.importers.live"):
            watcher.start(asyncio.get_running_loop())
        (w,) = watcher.watches
        assert w.mode.startswith("polled: the inotify watch limit is reached (max_user_watches = ")
        assert "raise fs.inotify.max_user_watches" in w.mode
        assert "claude-code: the inotify watch limit is reached" in caplog.text
        assert "polling its logs instead" in caplog.text

        # the poll still reads what the tool appends
        async def polled_until(tokens: int) -> None:
            for _ in range(100):  # the server's tick
                watcher.poll()
                if svc.summary()["outputTokens"] == tokens:
                    return
                await asyncio.sleep(0.1)
            raise AssertionError(f"{svc.summary()['outputTokens']} output tokens, expected {tokens}")

        await polled_until(100)  # the session already there (held until quiet for a second)
        with session.open("ab") as f:
            f.write(_line("msg_second", 250))
        await polled_until(350)
        assert watcher.sources() == [
            {"tool": "claude-code", "mode": w.mode, "lastRecord": watcher.last_record["claude-code"]}
        ]
    finally:
        watcher.stop()
        svc.close()


def test_a_network_filesystem_is_polled():
    mountinfo = (
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        "40 22 0:35 / /home/dev/nfs rw,relatime shared:20 - nfs4 server:/export rw,vers=4.2\n"
        "41 22 0:36 / /mnt/my\\040share rw - cifs //host/share rw\n"
    )
    assert events.mount_type("/home/dev/nfs/.claude/projects", mountinfo) == "nfs4"
    assert events.mount_type("/home/dev/nfsother", mountinfo) == "ext4"
    assert events.mount_type("/mnt/my share/x", mountinfo) == "cifs"
    assert events.mount_type("/", mountinfo) == "ext4"
    assert "nfs4" in events.REMOTE and "cifs" in events.REMOTE and "ext4" not in events.REMOTE


async def test_a_forced_poll_is_said_in_the_log_and_by_the_doctor(tmp_path, monkeypatch):
    session = _claude_home(tmp_path, monkeypatch)
    data = tmp_path / "data"
    write_config(data, '[import]\nwatch = ["claude-code"]\n')
    monkeypatch.setenv("USAGE_LS_WATCH_POLL", "1")
    async with Editor(data) as ed:
        await ed.wait_change(lambda c: c["today"]["outputTokens"] == 100, timeout=10)
        with session.open("ab") as f:
            f.write(_line("msg_second", 250))
        change = await ed.wait_change(lambda c: c["today"]["outputTokens"] == 350, timeout=10)
        tip = change["statusBar"]["tooltip"]  # Markdown: the underscores escaped
        assert "- Claude Code (polled: USAGE\\_LS\\_WATCH\\_POLL is set): last record " in tip, tip
        doctor = usage_ls(data, "doctor", check=False).stdout
        assert re.search(r"log watcher: +usage-ls pid \d+ watches", doctor), doctor
        assert "  Claude Code (polled: USAGE_LS_WATCH_POLL is set): last record " in doctor
