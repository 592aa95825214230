"""A full disk: the editor is told, records are kept in memory, nothing acknowledged as durable
is lost, and everything is written when space is back.

The server runs with a small RLIMIT_FSIZE (writes past it fail with EFBIG, as a full disk fails
with ENOSPC); raising the limit from outside with prlimit is "the disk is back"."""

from __future__ import annotations

import resource
import signal

from editor import Editor, rec

from usage_ls.service import Usage


def small_files():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited through exec: EFBIG instead of a kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, resource.RLIM_INFINITY))


async def test_full_disk_keeps_records_in_memory_and_writes_them_later(data_dir, monkeypatch):
    ed = Editor(data_dir)
    real_start = ed.client.start_io

    async def start_limited(*args, **kw):
        return await real_start(*args, preexec_fn=small_files, **kw)

    monkeypatch.setattr(ed.client, "start_io", start_limited)
    await ed.start()
    pid = ed.client._server.pid
    durable, kept = [], []
    for i in range(40):
        records = [rec("gpt-4o", 1000 + i, 100, id=f"d{i}-{j}", costUsd=0.01) for j in range(5)]
        result = await ed.request("usage/record", {"records": records})
        assert result["accepted"] == 5
        (durable if result["durable"] else kept).extend(r["id"] for r in records)
        if kept:
            assert "not durable" in result["warning"]
    assert durable and kept, "the limit should have been hit part way"
    await ed.wait_message(lambda m: "cannot write" in m)
    # still counted while in memory
    assert (await ed.request("usage/summary"))["messages"] == 200
    # the disk is back
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    await ed.wait_message(lambda m: "now saved" in m, timeout=5)
    # a crash now loses nothing: everything reached the journal
    import os

    os.kill(pid, signal.SIGKILL)
    await ed.client.stop()
    svc = Usage(data_dir=data_dir).open()
    assert svc.summary()["messages"] == 200
    svc.close()
