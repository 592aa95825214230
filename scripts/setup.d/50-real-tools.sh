#!/usr/bin/env bash
# The real Claude Code, Codex and Gemini CLI (npm), which the importer tests run against a
# loopback stand-in of their provider's API (tests/importers/real_tools.py): installed into
# .tools/real-tools (git-ignored). Pinned: the versions below are the formats docs/importers.md
# describes. Idempotent; quick when already there. Without npm (or the registry) it says so and
# returns 0: those tests then skip locally, and fail in CI. (Gemini CLI runs on the Node 24 of
# .tools/node24 when 20-vscode.sh put it there, else on the system's node >= 20.)
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=.tools/real-tools
PACKAGES=("@anthropic-ai/claude-code@2.1.332" "@openai/codex@0.171.0" "@google/gemini-cli@0.61.0")
# Qwen Code (needs Node >= 22: .tools/node24), opencode (a native binary), pi
PACKAGES+=("@qwen-code/qwen-code@0.24.4" "opencode-ai@1.18.33" "@mariozechner/pi-coding-agent@0.73.1")
installed() {
  local spec name version
  for spec in "${PACKAGES[@]}"; do
    name="${spec%@*}"
    version="${spec##*@}"
    grep -q "\"version\": \"$version\"" "$DEST/node_modules/$name/package.json" 2>/dev/null || return 1
  done
  [ -x "$DEST/node_modules/.bin/claude" ] && [ -e "$DEST/node_modules/.bin/codex" ] && [ -e "$DEST/node_modules/.bin/gemini" ]
}
if installed; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "50-real-tools: npm not found; the real-tool importer tests will skip (and fail under CI=true)" >&2
  exit 0
fi
mkdir -p "$DEST"
[ -f "$DEST/package.json" ] || echo '{"private": true}' >"$DEST/package.json"
# the native binaries come as optional dependencies (one per platform)
if ! npm install --silent --no-audit --no-fund --prefix "$DEST" "${PACKAGES[@]}" >&2; then
  echo "50-real-tools: npm install ${PACKAGES[*]} failed" >&2
  exit 0
fi
installed || echo "50-real-tools: installed, but a tool's binary is missing for this platform" >&2
