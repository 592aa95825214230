"""The receiver inside the language server ([receive] otlp): records reach the status bar, two
editor windows and a terminal `usage-ls receive` share the port without fighting over it."""

from __future__ import annotations

import asyncio

from editor import Editor
from otlp_helpers import claude_event, cli, free_port, sdk_logs

from usage_ls.receive.otlp import who_listens


async def _listening(port: int, pid_not: int | None = None, timeout: float = 30.0) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        found = await asyncio.to_thread(who_listens, "127.0.0.1", port, 1.0)
        if found is not None and found.get("pid") != pid_not:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"no usage-ls receiver on port {port} within {timeout}s")


async def test_server_receives_otlp_and_a_second_window_stands_by(data_dir):
    port = free_port()
    data_dir.mkdir(parents=True)
    (data_dir / "config.toml").write_text(f'[receive]\notlp = "127.0.0.1:{port}"\n')
    url = f"http://127.0.0.1:{port}"
    first = await Editor(data_dir).start()
    try:
        owner = await _listening(port)
        await asyncio.to_thread(sdk_logs, url, "claude-code", [claude_event("req_S1"), claude_event("req_S2")])
        change = await first.wait_change(lambda c: c["today"]["messages"] == 2, timeout=15)
        assert change["today"]["inputTokens"] == 200 and change["today"]["cacheWriteTokens"] == 400
        assert any("listening on" in m for m in first.log_messages)

        second = await Editor(data_dir, workspace="other").start()
        try:
            await _wait(lambda: any("stands by" in m for m in second.log_messages))
            assert not any("stands by" in m for m in second.messages)  # quiet: no popup
            # a terminal receiver on the same port says who has it and leaves
            out = await asyncio.to_thread(cli, data_dir, "receive", "--listen", f"127.0.0.1:{port}")
            assert out.returncode == 0 and "another usage-ls" in out.stdout, out.stdout + out.stderr
            doctor = await asyncio.to_thread(cli, data_dir, "doctor")
            assert f"usage-ls pid {owner['pid']} listens" in doctor.stdout
            assert "claude-code: records 2" in doctor.stdout
            # the first window closes: the second takes the port over
            await first.stop()
            first = None
            await _listening(port, pid_not=owner["pid"])
            await asyncio.to_thread(sdk_logs, url, "claude-code", [claude_event("req_S3"), claude_event("req_S1")])
            change = await second.wait_change(lambda c: c["today"]["messages"] == 3, timeout=15)
            assert change["today"]["outputTokens"] == 150
        finally:
            await second.stop()
    finally:
        if first is not None:
            await first.stop()


async def _wait(predicate, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
