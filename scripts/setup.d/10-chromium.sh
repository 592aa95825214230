#!/usr/bin/env bash
# Chromium for the dashboard's browser tests (driven by Python playwright with
# executable_path=/usr/bin/chromium; `playwright install` is never used: it downloads).
# Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "10-chromium: /usr/bin/chromium is missing and apt-get is not available; install Chromium by hand" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "10-chromium: not root and no sudo; install chromium by hand (apt-get install chromium)" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version >&2 || true
