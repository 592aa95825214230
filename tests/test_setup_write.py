"""`usage-ls setup <tool> --write` and `setup claude-code --statusline` through the real command:
the tool's own config file gets exactly our settings and nothing else changes (its layout
included), a diff comes first, a terminal is asked (`--yes` skips it, no terminal and no
`--yes` writes nothing), the old file is kept as a backup, a file that does not parse is named
and left alone, and a setting that holds another value is replaced only with `--replace`."""

from __future__ import annotations

import json
import os
import pty
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

URL = "http://127.0.0.1:4318"
ENV_LINES = [
    '"CLAUDE_CODE_ENABLE_TELEMETRY": "1"',
    '"OTEL_LOGS_EXPORTER": "otlp"',
    '"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"',
    f'"OTEL_EXPORTER_OTLP_ENDPOINT": "{URL}"',
    '"OTEL_LOGS_EXPORT_INTERVAL": "1000"',
]


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def setup(home: Path, *args: str, env: dict | None = None, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_CLI_HOME")}
    return subprocess.run(
        [sys.executable, "-m", "usage_ls", "setup", *args],
        env={**base, "HOME": str(home), "USAGE_LS_DATA_DIR": str(home.parent / "data"), **(env or {})},
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".usage-ls-backup-*"))


def test_claude_code_settings_get_the_env_and_keep_everything_else(home):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    old = (
        '{\n    "model": "opus",\n    "env": {"FOO": "bar"},\n'
        '    "permissions": {"allow": ["Bash(ls)"], "deny": []}\n}\n'
    )
    settings.write_text(old)
    settings.chmod(0o644)
    # no terminal and no --yes: the diff, and nothing written
    out = setup(home, "claude-code", "--write")
    assert out.returncode == 1 and "no terminal to ask on" in out.stderr and "--yes" in out.stderr
    assert f"+++ {settings}" in out.stdout and '-    "env": {"FOO": "bar"},' in out.stdout
    assert settings.read_text() == old and not backups(settings)

    out = setup(home, "claude-code", "--write", "--yes")
    assert out.returncode == 0, out.stderr
    new = old.replace('{"FOO": "bar"}', '{"FOO": "bar", ' + ", ".join(ENV_LINES) + "}")
    assert settings.read_text() == new  # only the env grew; the layout is the file's own
    assert stat.S_IMODE(settings.stat().st_mode) == 0o644
    [backup] = backups(settings)
    assert backup.read_text() == old and f"kept as {backup}" in out.stdout
    assert "First turn the receiver on" in out.stdout  # the receiver is off in this data directory

    again = setup(home, "claude-code", "--write", "--yes")
    assert again.returncode == 0 and "already set; nothing to change" in again.stdout
    assert settings.read_text() == new and len(backups(settings)) == 1

    broken = '{\n  "env": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},\n}\n'
    settings.write_text(broken)
    out = setup(home, "claude-code", "--write", "--yes")
    assert out.returncode == 1 and out.stderr.startswith(f"usage-ls setup: {settings}: not valid JSON: ")
    assert "line 3 column 1" in out.stderr and "comments" not in out.stderr
    assert settings.read_text() == broken and len(backups(settings)) == 1


def test_a_terminal_is_asked_and_no_means_no(home, tmp_path):
    config = tmp_path / "claude-dir"  # CLAUDE_CONFIG_DIR is where Claude Code's settings are
    config.mkdir()
    settings = config / "settings.json"
    settings.write_text("{}\n")
    for answer, written in ((b"n\n", False), (b"y\n", True)):
        primary, secondary = pty.openpty()
        try:
            os.write(primary, answer)
            out = setup(home, "claude-code", "--write", env={"CLAUDE_CONFIG_DIR": str(config)}, stdin=secondary)
        finally:
            os.close(primary)
            os.close(secondary)
        assert f"Write {settings}? [y/N]" in out.stdout
        if written:
            assert out.returncode == 0, out.stderr
            assert json.loads(settings.read_text())["env"]["OTEL_LOGS_EXPORTER"] == "otlp"
        else:
            assert out.returncode == 1 and "Nothing changed." in out.stdout
            assert settings.read_text() == "{}\n" and not backups(settings)
    assert not (home / ".claude").exists()


def test_codex_config_toml_keeps_comments_and_conflicts_need_replace(home, tmp_path):
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()
    config = codex_home / "config.toml"
    old = (
        "# my Codex settings\n"
        'model = "gpt-5.1-codex"  # the usual one\n\n'
        "[otel]\n"
        'environment = "dev"  # keep me\n'
        'exporter = "none"\n\n'
        "[model_providers.mock]\n"
        'base_url = "http://127.0.0.1:9/v1"\n'
    )
    config.write_text(old)
    env = {"CODEX_HOME": str(codex_home)}
    out = setup(home, "codex", "--write", "--yes", env=env)
    assert out.returncode == 1
    assert '`otel.exporter` is already set to "none"' in out.stderr and "--replace" in out.stderr
    assert config.read_text() == old and not backups(config)

    out = setup(home, "codex", "--write", "--yes", "--replace", env=env)
    assert out.returncode == 0, out.stderr
    exporter = f'{{otlp-http = {{endpoint = "{URL}/v1/logs", protocol = "binary"}}}}'
    assert config.read_text() == old.replace('exporter = "none"\n', f"exporter = {exporter}\nlog_user_prompt = false\n")
    assert [b.read_text() for b in backups(config)] == [old]
    assert not (home / ".codex").exists()

    config.write_text('model = "gpt-5"\n[otel\n')
    out = setup(home, "codex", "--write", "--yes", env=env)
    assert out.returncode == 1 and f"{config}: not valid TOML" in out.stderr and "line 2" in out.stderr
    assert config.read_text() == 'model = "gpt-5"\n[otel\n'


def test_gemini_settings_created_or_refused_when_not_json(home, tmp_path):
    out = setup(home, "gemini", "--write", "--yes")
    assert out.returncode == 0, out.stderr
    settings = home / ".gemini" / "settings.json"
    assert json.loads(settings.read_text()) == {
        "telemetry": {
            "enabled": True,
            "target": "local",
            "otlpEndpoint": URL,
            "otlpProtocol": "http",
            "logPrompts": False,
        }
    }
    assert "--- /dev/null" in out.stdout and not backups(settings)
    # GEMINI_CLI_HOME stands for the home folder, as in Gemini CLI; a file with comments is refused
    other = tmp_path / "gemini-home" / ".gemini" / "settings.json"
    other.parent.mkdir(parents=True)
    commented = '{\n  // mine\n  "telemetry": {"enabled": false}\n}\n'
    other.write_text(commented)
    out = setup(home, "gemini", "--write", "--yes", env={"GEMINI_CLI_HOME": str(tmp_path / "gemini-home")})
    assert out.returncode == 1
    assert f"{other}: not valid JSON" in out.stderr and "line 2 column 3" in out.stderr
    assert "comments are not JSON" in out.stderr and "nothing changed" in out.stderr
    assert other.read_text() == commented and not backups(other)


def test_a_linked_settings_file_is_edited_where_it_lives(home, tmp_path):
    dotfiles = tmp_path / "dotfiles" / "claude.json"
    dotfiles.parent.mkdir()
    dotfiles.write_text('{\n  "env": {\n    "A": "1"\n  }\n}\n')
    (home / ".claude").mkdir()
    link = home / ".claude" / "settings.json"
    link.symlink_to(dotfiles)
    out = setup(home, "claude-code", "--write", "--yes")
    assert out.returncode == 0, out.stderr
    assert link.is_symlink() and json.loads(link.read_text())["env"]["A"] == "1"
    assert dotfiles.read_text().startswith('{\n  "env": {\n    "A": "1",\n    "CLAUDE_CODE_ENABLE_TELEMETRY": "1",\n')
    assert len(backups(dotfiles)) == 1


def test_copilot_cannot_be_written_and_says_so(home):
    out = setup(home, "copilot", "--write", "--yes")
    assert out.returncode == 1 and "nothing written" in out.stderr and "VS Code's settings.json" in out.stderr
    assert '"github.copilot.chat.otel.otlpEndpoint"' in out.stdout
    # options that go with --write, or with Claude Code, are refused elsewhere
    assert setup(home, "codex", "--yes").returncode == 2
    out = setup(home, "gemini", "--statusline", "--write")
    assert out.returncode == 2 and "--statusline is Claude Code's" in out.stderr


def test_statusline_installs_an_absolute_command_that_works_from_claude_codes_environment(home, tmp_path):
    settings = home / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text('{\n  "theme": "dark"\n}\n')
    out = setup(home, "claude-code", "--statusline", "--write", "--yes")
    assert out.returncode == 0, out.stderr
    doc = json.loads(settings.read_text())
    assert doc["theme"] == "dark" and doc["statusLine"]["type"] == "command"
    command = doc["statusLine"]["command"]
    program = shlex.split(command)[0]
    assert Path(program).is_absolute() and os.access(program, os.X_OK), command
    assert command.endswith("statusline --claude-code") and f"--data-dir {home.parent / 'data'}" in command
    # Claude Code runs it through a shell, with its own (here: a bare) PATH, the JSON on stdin
    payload = {
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
        "rate_limits": {"five_hour": {"used_percentage": 23, "resets_at": 4102444800}},
    }
    ran = subprocess.run(
        ["/bin/sh", "-c", command],
        input=json.dumps(payload),
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Sonnet 4.5" in ran.stdout and "5h 23%" in ran.stdout
    # one there already: shown, and replaced only on request
    settings.write_text('{"statusLine": {"type": "command", "command": "~/bin/mine.sh"}}')
    out = setup(home, "claude-code", "--statusline", "--write", "--yes")
    assert out.returncode == 1 and '"command": "~/bin/mine.sh"' in out.stderr and "--replace" in out.stderr
    out = setup(home, "claude-code", "--statusline", "--write", "--yes", "--replace")
    assert out.returncode == 0 and json.loads(settings.read_text())["statusLine"]["command"] == command
    # without --write: printed, nothing written
    settings.unlink()
    out = setup(home, "claude-code", "--statusline")
    assert out.returncode == 0 and json.dumps(command) in out.stdout and not settings.exists()


def test_json_members_are_set_in_the_text_itself():
    from usage_ls.jsonedit import set_member

    text = '{"k\\"e}y": "a\\\\\\"{b", "x": [1, {"y": {}}, "]}"], "env": {"A": "\\u00e9"}}\n'
    new = set_member(text, ("env", "B"), "2")
    assert new == text.replace('"\\u00e9"}', '"\\u00e9", "B": "2"}')
    new = set_member(new, ("env", "A"), {"z": True})  # replaced in place
    assert json.loads(new)["env"] == {"A": {"z": True}, "B": "2"} and new.startswith(text[:40])
    expanded = '{\n\t"a": 1,\n\t"b": {\n\t\t"c": []\n\t}\n}'
    assert set_member(expanded, ("b", "d", "e"), 3) == (
        '{\n\t"a": 1,\n\t"b": {\n\t\t"c": [],\n\t\t"d": {\n\t\t\t"e": 3\n\t\t}\n\t}\n}'
    )
    with pytest.raises(ValueError, match="`a` is not an object"):
        set_member(expanded, ("a", "x"), 1)
