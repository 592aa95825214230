"""`usage-ls setup <tool>`: the lines that send a tool's telemetry to the receiver (printed;
`--write` puts the same settings into the tool's own config file: `usage_ls.toolconfig`)."""

from __future__ import annotations

import json
from typing import Any

TOOLS = ("claude-code", "codex", "gemini", "copilot")
DEFAULT_LISTEN = ("127.0.0.1", 4318)


def endpoint(listen: tuple[str, int] | None) -> str:
    host, port = listen or DEFAULT_LISTEN
    host = "127.0.0.1" if host == "localhost" else host
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def claude_env(url: str) -> dict[str, str]:
    """Claude Code's settings.json `env`: one api_request event per API call."""
    return {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": url,
        "OTEL_LOGS_EXPORT_INTERVAL": "1000",
    }


def codex_otel(url: str) -> dict[str, Any]:
    """Codex's config.toml `[otel]`: its events over OTLP/HTTP, without the user's prompts."""
    return {"log_user_prompt": False, "exporter": {"otlp-http": {"endpoint": f"{url}/v1/logs", "protocol": "binary"}}}


def gemini_telemetry(url: str) -> dict[str, Any]:
    """Gemini CLI's settings.json `telemetry`."""
    return {"enabled": True, "target": "local", "otlpEndpoint": url, "otlpProtocol": "http", "logPrompts": False}


def wanted(tool: str, listen: tuple[str, int] | None) -> dict[tuple[str, ...], Any]:
    """The settings `setup <tool> --write` puts into the tool's config file: key path -> value."""
    url = endpoint(listen)
    if tool == "claude-code":
        return {("env", k): v for k, v in claude_env(url).items()}
    if tool == "codex":
        return {("otel", k): v for k, v in codex_otel(url).items()}
    if tool == "gemini":
        return {("telemetry", k): v for k, v in gemini_telemetry(url).items()}
    raise ValueError(f"usage-ls does not write {tool}'s settings")


def receiver_note(listen: tuple[str, int] | None, config_path: str) -> str:
    """Whether the receiver is on, and how to turn it on."""
    url = endpoint(listen)
    return (
        f'# The receiver is on: [receive] otlp = "{url.removeprefix("http://")}" in {config_path}\n'
        if listen
        else "# First turn the receiver on: add to "
        + config_path
        + f'\n#   [receive]\n#   otlp = "{url.removeprefix("http://")}"\n'
        + "# (the language server then receives while an editor is open; `usage-ls receive` without one)\n"
    )


def lines(tool: str, listen: tuple[str, int] | None, config_path: str) -> str:
    """What to add where, for `tool`, sending to the receiver at `listen`."""
    url = endpoint(listen)
    receiver = receiver_note(listen, config_path)
    if tool == "claude-code":
        env = claude_env(url)
        exports = "\n".join(f"export {k}={v}" for k, v in env.items())
        return (
            receiver
            + "\n# Claude Code: one api_request event per API call (its token metrics are not needed).\n"
            + "# In your shell profile:\n"
            + exports
            + '\n\n# or, for every session, in ~/.claude/settings.json under "env":\n'
            + json.dumps({"env": env}, indent=2)
            + "\n"
        )
    if tool == "codex":
        return (
            receiver
            + "\n# Codex: one codex.sse_event (response.completed) per API call. In ~/.codex/config.toml\n"
            + "# ($CODEX_HOME/config.toml); merge into an [otel] table you already have:\n"
            + "[otel]\nlog_user_prompt = false\n"
            + f'exporter = {{ otlp-http = {{ endpoint = "{url}/v1/logs", protocol = "binary" }} }}\n'
            + "# Sessions whose rollout is on this machine are counted from the rollout (usage-ls import /\n"
            + "# the log watcher); the events count the others (docs/live.md).\n"
        )
    if tool == "gemini":
        settings = {"telemetry": gemini_telemetry(url)}
        env = {
            "GEMINI_TELEMETRY_ENABLED": "true",
            "GEMINI_TELEMETRY_TARGET": "local",
            "GEMINI_TELEMETRY_OTLP_ENDPOINT": url,
            "GEMINI_TELEMETRY_OTLP_PROTOCOL": "http",
            "GEMINI_TELEMETRY_LOG_PROMPTS": "false",
        }
        return (
            receiver
            + "\n# Gemini CLI: one gemini_cli.api_response event per API call. In ~/.gemini/settings.json:\n"
            + json.dumps(settings, indent=2)
            + "\n\n# or in your shell profile:\n"
            + "\n".join(f"export {k}={v}" for k, v in env.items())
            + "\n# Sessions whose chat recording is on this machine are counted from the recording.\n"
        )
    if tool == "copilot":
        vscode = {
            "github.copilot.chat.otel.enabled": True,
            "github.copilot.chat.otel.exporterType": "otlp-http",
            "github.copilot.chat.otel.otlpEndpoint": url,
            "github.copilot.chat.otel.captureContent": False,
        }
        return (
            receiver
            + "\n# Copilot: usage comes from its gen_ai.client.token.usage metric (no cost: priced by model).\n"
            + "# VS Code Copilot Chat, in settings.json:\n"
            + json.dumps(vscode, indent=2)
            + "\n\n# Copilot CLI, in your shell profile:\n"
            + f"export COPILOT_OTEL_ENABLED=true\nexport OTEL_EXPORTER_OTLP_ENDPOINT={url}\n"
            + "# (from GitHub's documentation; not checked against a real Copilot here)\n"
        )
    raise ValueError(f"unknown tool {tool!r} (one of {', '.join(TOOLS)})")
