"""Runs the Neovim plugin (editor-clients/nvim) in real headless Neovim, 0.7.2 and 0.11.4.

Each test starts `nvim --headless -u NONE` under `timeout` with one Lua script from
tests/nvim/lua/. The script loads the plugin, drives it, and writes what a user would see
(statusline text, float lines, hover text, messages) as JSON; the Python test asserts on it.
A Lua error ends Neovim with `cq!` (exit 1), so failures fail and nothing hangs.
The server is the repo's own `.venv/bin/usage-ls`; data lives in a tmp dir seeded with
records whose `costUsd` is given, so credits are costUsd / 0.01 ($0.01 per credit).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from nvim_harness import NVIMS, Run, cli, nvim_version, seed_records


@pytest.fixture(params=list(NVIMS), ids=[f"nvim-{v}" for v in NVIMS])
def nvim(request) -> Path:
    version, binary = request.param, NVIMS[request.param]
    found = nvim_version(binary) if binary.exists() else None
    if found != version:
        why = f"Neovim {version} not found at {binary} (found: {found}); run scripts/setup.d/30-neovim.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return binary


@pytest.fixture
def seeded(tmp_path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "config.toml").write_text('user = "tester"\n', encoding="utf-8")
    cli(data, "record", stdin="\n".join(json.dumps(r) for r in seed_records()) + "\n")
    return data


@pytest.fixture
def run(nvim, tmp_path) -> Run:
    return Run(nvim, tmp_path)
