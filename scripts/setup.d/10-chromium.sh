#!/usr/bin/env bash
# Chromium for the dashboard's browser tests (driven by Python playwright with
# executable_path=/usr/bin/chromium; `playwright install` is never used: it downloads).
# Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
source "$(dirname "$0")/../apt.sh"
apt_install 10-chromium chromium fonts-dejavu-core || exit 0
/usr/bin/chromium --version >&2 || true
