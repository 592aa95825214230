"""usage-ls in real Emacs (28, with Debian's eglot 1.9): hover, commands, code actions.

scripts/setup.d/60-emacs.sh installs `emacs-nox` and `elpa-eglot`. eglot 1.9 has neither
`window/showDocument` nor `$/progress`: the dashboard command falls back to a message with the
URL, which is what this checks (docs/editors.md).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

EMACS = shutil.which("emacs")
HERE = Path(__file__).parent
SERVER = Path(sys.executable).parent / "usage-ls"

pytestmark = pytest.mark.skipif(
    EMACS is None and not os.environ.get("CI"), reason="emacs not installed (scripts/setup.d/60-emacs.sh)"
)


def test_eglot_hover_code_actions_and_commands(tmp_path):
    work = tmp_path / "widget"
    work.mkdir()
    notes = work / "notes.txt"
    notes.write_text("We moved to claude-sonnet-4-5 this week.\n", encoding="utf-8")
    out = tmp_path / "results.json"
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "USAGE_LS": str(SERVER),
        "USAGE_LS_FILE": str(notes),
        "USAGE_LS_OUT": str(out),
        "USAGE_LS_DATA_DIR": str(tmp_path / "data"),
        "USAGE_LS_WATCH": "off",
    }
    run = subprocess.run(
        [EMACS or "emacs", "--batch", "--no-init-file", "-l", str(HERE / "eglot_check.el")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.exists(), run.stderr[-3000:]
    got = json.loads(out.read_text())
    assert got["connected"] is True
    assert set(got["commands"]) >= {"usage-ls.openDashboard", "usage-ls.showToday", "usage-ls.record"}
    # eglot without markdown-mode takes plain text only (hover.contentFormat): no Markdown marks
    assert got["hoverKind"] == "plaintext"
    assert got["hover"].startswith("claude-sonnet-4-5: AI usage today") and "**" not in got["hover"]
    assert re.search(r"Total tokens\s+15,000", got["hover"]) and "```" not in got["hover"]
    assert got["actions"] == ["Show usage of claude-sonnet-4-5", "Open Usage Dashboard filtered to this model"]
    assert not got["actionsElsewhere"]
    messages = got["messages"]
    assert "usage-ls today" in messages and "15.0k tokens in 1 message" in messages
    url = re.search(r"Usage Dashboard: (http://127\.0\.0\.1:\d+/\?token=\S+)", messages).group(1)
    # the dashboard ended with the server (eglot shut it down): nothing left listening
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)
