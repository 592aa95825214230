#!/usr/bin/env bash
# Emacs 28 with Debian's eglot, for tests/emacs (usage-ls from an editor with no client of
# ours: hover, commands, code actions through eglot). Idempotent: nothing to do when both are
# there. Without apt-get or root it says so; the Emacs test then skips locally (and fails in CI).
set -euo pipefail
if command -v emacs >/dev/null 2>&1 && ls -d /usr/share/emacs/site-lisp/elpa/eglot-* >/dev/null 2>&1; then
  exit 0
fi
source "$(dirname "$0")/../apt.sh"
apt_install 60-emacs emacs-nox elpa-eglot || exit 0
emacs --version | head -1 >&2 || true
