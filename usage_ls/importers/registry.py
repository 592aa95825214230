"""Which tools there are: their names, the module and class of each (imported only when the
tool is used), the names they are also known by, and which are vendor exports (files a user
downloads, imported by hand rather than watched)."""

from __future__ import annotations

import importlib

from usage_ls.importers.base import Tool

# tool name -> (module beside this file, class): imported only when the tool is used
MODULES = {
    "claude-code": ("claude_code", "ClaudeCode"),
    "codex": ("codex", "Codex"),
    "aider": ("aider", "Aider"),
    "gemini": ("gemini", "Gemini"),
    "cline": ("cline", "Cline"),
    "opencode": ("opencode", "OpenCode"),
    "continue": ("continue_", "Continue"),
    "cursor": ("cursor", "Cursor"),
    "copilot-report": ("copilot_report", "CopilotReport"),
    "droid": ("droid", "Droid"),
    "goose": ("goose", "Goose"),
    "qwen": ("qwen", "Qwen"),
    "kimi": ("kimi", "Kimi"),
    "pi": ("pi", "Pi"),
    "openclaw": ("openclaw", "OpenClaw"),
    "hermes": ("hermes", "Hermes"),
    "amp": ("amp", "Amp"),
    "codebuff": ("codebuff", "Codebuff"),
    "kilo": ("opencode", "Kilo"),
    "copilot-cli": ("copilot_cli", "CopilotCli"),
    "usage-ls": ("ledger_file", "LedgerFile"),
}
TOOL_NAMES = tuple(MODULES)
EXPORTS = ("cursor", "copilot-report", "usage-ls")  # files a user downloads: imported, not watched
ALIASES = {
    "claude": "claude-code",
    "roo": "cline",
    "roo-code": "cline",
    "kilo-cli": "kilo",
    "kilo-code": "cline",
    "continue-dev": "continue",
    "factory": "droid",
    "copilot-csv": "copilot-report",
    "qwen-code": "qwen",
    "kimi-cli": "kimi",
    "pi-agent": "pi",
    "clawdbot": "openclaw",
    "moltbot": "openclaw",
    "hermes-agent": "hermes",
    "manicode": "codebuff",
}


def get_tool(name: str) -> Tool:
    name = ALIASES.get(name, name)
    module, cls = MODULES[name]  # KeyError: not a tool
    return getattr(importlib.import_module(f"usage_ls.importers.{module}"), cls)()


__all__ = ["ALIASES", "EXPORTS", "MODULES", "TOOL_NAMES", "get_tool"]
