"""The README's first command: the demo drives the real server and shows what the editor shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def test_demo_shows_status_bar_hover_tables_and_dashboard():
    out = subprocess.run(
        [sys.executable, "-m", "usage_ls", "demo"], capture_output=True, text=True, timeout=180, env={**os.environ}
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert re.search(r"premium: [\d,.]+ cr [▁▂▃▄▅▆▇█]{7}", text), text[:800]
    assert "Rejected record 367: inputTokens" in text and "50 duplicates skipped" in text
    assert 'Hover over "claude-sonnet-4-5"' in text and "Total tokens" in text
    assert "Token split by model:" in text and "acme-coder-v2" in text and "unpriced" in text
    assert "By project:" in text and "Last 7 days:" in text
    assert "Burn rate" in text  # the complete tooltip, after the server warmed up
    assert "Usage Dashboard page" in text
    assert "Traceback" not in text + out.stderr
