#!/usr/bin/env bash
# Sets up everything the test suite needs and runs all of it:
#   the Python environment (.venv), lint/format/type checks (ruff, mypy), then each scripts/setup.d/*.sh (editors, browser, ...),
#   then pytest over tests/ (protocol, store, CLI, dashboard in Chromium, Neovim, VS Code).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k hover`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# byte-code now, as a regular install does: where PYTHONDONTWRITEBYTECODE is set (CI), every
# command would otherwise compile the package again (~70 ms a start)
.venv/bin/python -m compileall -q usage_ls
# the house rules first (seconds): lint, format, types
.venv/bin/ruff check usage_ls tests bench
.venv/bin/ruff format --check --quiet usage_ls tests bench
.venv/bin/mypy
for setup in scripts/setup.d/*.sh; do
  [ -e "$setup" ] || continue
  echo "== $setup" >&2
  bash "$setup"
done
exec .venv/bin/python -m pytest -q "$@"
