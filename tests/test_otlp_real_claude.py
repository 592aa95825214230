"""The real Claude Code (2.1.332, from .tools/real-tools) exporting its own OTLP to `usage-ls
receive` while it writes its transcript: every call counted once, with the transcript import
run afterwards, and equal to what the stand-in API returned (tests/otlp_real_claude.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import otlp_real_claude as real
import pytest
from otlp_helpers import cli, report

USAGES = [
    {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 200},
    {"input_tokens": 7, "output_tokens": 3, "cache_read_input_tokens": 1300, "cache_creation_input_tokens": 0},
]


def _unavailable() -> str | None:
    if real.installed_version() != real.VERSION:
        return (
            f"@anthropic-ai/claude-code@{real.VERSION} is not in .tools/real-tools (found {real.installed_version()}); "
            "scripts/setup.d/50-real-tools.sh installs it"
        )
    if shutil.which("unshare") is None:
        return "`unshare` is not installed"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`unshare --net` is not allowed here: {probe.stderr.strip()}"
    return None


@pytest.mark.parametrize("protocol", ["http/protobuf", "http/json"])
def test_real_claude_code_otlp_and_transcript_count_each_call_once(data_dir, tmp_path, protocol):
    why = _unavailable()
    if why:
        pytest.skip(why)
    job = tmp_path / "job.json"
    home = tmp_path / "home"
    job.write_text(
        json.dumps(
            {
                "home": str(home),
                "data": str(data_dir),
                "usages": USAGES,
                "protocol": protocol,
                "out": str(tmp_path / "out.json"),
            }
        )
    )
    proc = subprocess.run(
        ["unshare", "--net", sys.executable, str(Path(real.__file__)), str(job)],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "ANTHROPIC", "OTEL_"))},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads((tmp_path / "out.json").read_text())
    answered = out["answered"]
    assert len(answered) >= 2, out
    # every call the stand-in answered arrived as an event and was stored by the receiver
    assert out["status"]["sources"]["claude-code"]["records"] == len(answered), out["status"]
    # the transcript import afterwards adds nothing: each call already has the importer's id
    imported = cli(data_dir, "import", "claude-code", "--json", env={"CLAUDE_CONFIG_DIR": str(home / ".claude")})
    assert imported.returncode == 0, imported.stderr
    rows = report(data_dir, "interactions")["rows"]
    assert sorted(r["id"] for r in rows) == sorted(f"claude-code:{a['messageId']}:{a['requestId']}" for a in answered)
    today = report(data_dir, "today")
    truth = [a["usage"] for a in answered]
    assert today["messages"] == len(answered)
    assert today["inputTokens"] == sum(u["input_tokens"] for u in truth)
    assert today["outputTokens"] == sum(u["output_tokens"] for u in truth)
    assert today["cacheReadTokens"] == sum(u["cache_read_input_tokens"] for u in truth)
    assert today["cacheWriteTokens"] == sum(u["cache_creation_input_tokens"] for u in truth)
    assert {r["project"] for r in rows} == {"project"}  # the transcript's working directory
