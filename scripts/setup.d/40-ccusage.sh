#!/usr/bin/env bash
# ccusage 20.0.24 (npm), the reference the importer tests compare with: installed into
# .tools/ccusage (git-ignored). Idempotent; quick when already there. Without npm (or the
# registry) it says so and returns 0: the comparison tests then skip locally, and fail in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=20.0.24
DEST=.tools/ccusage
BIN_GLOB="$DEST/node_modules/@ccusage/ccusage-*/bin/ccusage"
if [ -f "$DEST/node_modules/ccusage/package.json" ] && grep -q "\"version\": \"$VERSION\"" "$DEST/node_modules/ccusage/package.json" && ls $BIN_GLOB >/dev/null 2>&1; then
  chmod +x $BIN_GLOB
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "40-ccusage: npm not found; the ccusage comparison tests will skip (and fail under CI=true)" >&2
  exit 0
fi
mkdir -p "$DEST"
if ! npm install --silent --no-audit --no-fund --prefix "$DEST" "ccusage@$VERSION" >&2; then
  echo "40-ccusage: npm install ccusage@$VERSION failed" >&2
  exit 0
fi
# the native binary ships without its executable bit
chmod +x $BIN_GLOB 2>/dev/null || true
ls $BIN_GLOB >/dev/null 2>&1 || echo "40-ccusage: no native ccusage binary for this platform" >&2
