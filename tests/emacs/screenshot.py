"""Renders docs/emacs-*.png: usage-ls in real Emacs 28 (terminal UI, Debian's eglot), in tmux.

Not a test (pytest does not collect it). It runs `usage-ls demo --keep` for a realistic week of
data, opens a file in `emacs -nw` inside tmux with eglot managing it, puts the cursor on a model
name (eldoc shows the hover in the echo area), then runs the code action "Show usage of ...".
The pane is drawn to PNG with tests/nvim/screenshot.py's renderer (Pillow):

    python3 -m venv .tools/shot && .tools/shot/bin/pip install pillow
    .tools/shot/bin/python tests/emacs/screenshot.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nvim"))
from screenshot import COLS, ROOT, ROWS, render, tmux, wait_for

SERVER = ROOT / ".venv" / "bin" / "usage-ls"
INIT = """
(setq native-comp-async-report-warnings-errors nil warning-minimum-level :error)
(require 'eglot)
(setq inhibit-startup-screen t eldoc-echo-area-use-multiline-p t max-mini-window-height 0.6)
(add-to-list 'eglot-server-programs '(text-mode . (%(server)s "serve" "--stdio")))
(add-hook 'text-mode-hook #'eglot-ensure)
(load-theme 'wombat t)
"""
NOTES = """Model choices for the widget project

- chat: claude-sonnet-4-5 (long context, tools)
- review: gemini-2.5-pro
- completion: gpt-4.1-mini
"""


def main() -> None:
    demo = subprocess.run([SERVER, "demo", "--keep"], capture_output=True, text=True, timeout=300).stdout
    data = re.search(r"data kept in (\S+?)\)", demo).group(1)
    work = Path(tempfile.mkdtemp(prefix="usage-ls-emacs-")) / "widget"
    work.mkdir()
    (work / "models.txt").write_text(NOTES, encoding="utf-8")
    init = work.parent / "init.el"
    init.write_text(INIT % {"server": f'"{SERVER}"'}, encoding="utf-8")
    env = {**os.environ, "USAGE_LS_DATA_DIR": data, "TERM": "xterm-256color", "HOME": str(work.parent)}
    tmux(
        "new-session", "-d", "-x", str(COLS), "-y", str(ROWS), "-c", str(work),
        f"emacs -nw --no-init-file -l {init} models.txt",
        env=env,
    )  # fmt: skip
    try:
        wait_for("Connected!", timeout=40)
        tmux("send-keys", "M-<", "C-s", "claude-son", "Enter")  # the cursor on the model name
        time.sleep(1.0)
        tmux("send-keys", "C-b")  # a motion: eldoc asks for the hover when the echo area is free
        shot = wait_for("Total tokens", timeout=20)
        render(shot, ROOT / "docs" / "emacs-hover.png")
        tmux("send-keys", "M-x", "eglot-code-actions", "Enter")
        wait_for("Show usage of", timeout=20)
        time.sleep(0.5)
        tmux("send-keys", "Enter")
        shot = wait_for("tokens (input", timeout=20)
        render(shot, ROOT / "docs" / "emacs-code-action.png")
    finally:
        tmux("kill-server")


if __name__ == "__main__":
    main()
