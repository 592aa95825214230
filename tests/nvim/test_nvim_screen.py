"""The plugin in Neovim's real terminal UI, run in tmux: the statusline on screen changes by
itself (no key pressed) when another process records usage, and :UsageModels draws a float
that `q` closes."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from nvim_harness import LUA, PLUGIN, SERVER, cli


class Screen:
    def __init__(self, nvim: Path, cwd: Path, env: dict, name: str):
        self.socket = f"usage-ls-nvim-{os.getpid()}-{name}"[:90]
        self.tmux = ["tmux", "-L", self.socket, "-f", "/dev/null"]
        nvim_cmd = f"timeout 60 {nvim} -u NONE -i NONE -n -c 'luafile {LUA / 'screen_init.lua'}' NOTES.md"
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-x", "110", "-y", "24", "-c", str(cwd), nvim_cmd],
            env=env,
            check=True,
            timeout=20,
        )

    def text(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p"], capture_output=True, text=True, timeout=20).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", *keys], check=True, timeout=20)

    def wait_for(self, what: str, predicate, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{text}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True, timeout=20)


@pytest.fixture
def screen(nvim, seeded, tmp_path, request):
    if not shutil.which("tmux"):
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is missing: run scripts/setup.d/30-neovim.sh")
        pytest.skip("tmux is missing")
    cwd = tmp_path / "widget"
    cwd.mkdir()
    (cwd / "NOTES.md").write_text("# Notes\n\nReviews run on claude-sonnet-4-5.\n", encoding="utf-8")
    env = {
        **os.environ,
        "USAGE_LS_DATA_DIR": str(seeded),
        "USAGE_LS_SERVER": str(SERVER),
        "USAGE_LS_PLUGIN": str(PLUGIN),
        "HOME": str(tmp_path / "home"),
        "TERM": "xterm-256color",
    }
    s = Screen(nvim, cwd, env, request.node.name.replace("[", "-").rstrip("]"))
    try:
        yield s
    finally:
        s.close()


def statusline(text: str) -> str:
    lines = [line for line in text.splitlines() if "AI today:" in line]
    return lines[-1] if lines else ""


def test_statusline_redraws_when_another_process_records(screen, seeded):
    screen.wait_for("27.0 credits on the statusline", lambda t: "AI today: 27.0 cr ▁▁▁▁▁█▄" in t)
    cli(seeded, "record", "--model", "gpt-4.1-mini", "--input", "500", "--output", "20", "--cost", "0.05")
    text = screen.wait_for("32.0 credits on the statusline", lambda t: "AI today: 32.0 cr " in t)
    assert "NOTES.md" in statusline(text)  # the rest of the statusline is intact


def test_models_float_on_screen_closes_with_q(screen):
    screen.wait_for("the statusline", lambda t: "AI today: 27.0 cr" in t)
    screen.keys(":UsageModels", "Enter")
    text = screen.wait_for("the float", lambda t: "claude-sonnet-4-5     1  1,000" in t)
    assert "gpt-4.1-mini          1    300      50           0            0    350      2.0  $0.02" in text
    screen.keys("q")
    screen.wait_for("the float to close", lambda t: "1,000" not in t)
