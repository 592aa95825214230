#!/usr/bin/env bash
# Emacs 28 with Debian's eglot, for tests/emacs (usage-ls from an editor with no client of
# ours: hover, commands, code actions through eglot). Idempotent: nothing to do when both are
# there. Without apt-get or root it says so; the Emacs test then skips locally (and fails in CI).
set -euo pipefail
if command -v emacs >/dev/null 2>&1 && ls -d /usr/share/emacs/site-lisp/elpa/eglot-* >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "60-emacs: emacs is missing and apt-get is not available; install emacs-nox and elpa-eglot by hand" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "60-emacs: not root and no sudo; install emacs-nox and elpa-eglot by hand" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot >/dev/null
emacs --version | head -1 >&2 || true
