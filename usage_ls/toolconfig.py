"""Editing another tool's own config file, for `usage-ls setup <tool> --write`: where the file
is, the settings it would change, the diff, a backup, and an atomic write.

- Where: Claude Code `$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`;
  Codex `$CODEX_HOME/config.toml`, else `~/.codex/config.toml`; Gemini CLI
  `$GEMINI_CLI_HOME/.gemini/settings.json`, else `~/.gemini/settings.json` (where each tool
  itself reads them). A symbolic link is followed: the file it points to is edited in place.
- What: a set of key paths and values (`("env", "OTEL_LOGS_EXPORTER") -> "otlp"`). A key
  already holding the same value is left alone; one holding another value is a conflict,
  changed only with `replace` (`--replace`). Nothing else in the file changes: JSON keeps its
  key order and indentation (comments are not JSON: such a file is refused, not rewritten);
  TOML is edited with tomlkit, which keeps comments, order and layout.
- How: a backup of the old file beside it (`<name>.usage-ls-backup-<time>`), then a new file
  written, fsynced and renamed over the old one, with the old file's mode. If the file changed
  since it was read (the tool wrote it meanwhile), nothing is written.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usage_ls import jsonedit
from usage_ls.fileio import atomic_write

Key = tuple[str, ...]
Conflict = tuple[Key, Any, Any]  # (key, the value there now, ours)
_ABSENT = object()


class ConfigError(Exception):
    """The tool's config file cannot be edited safely (it does not parse, a key is not a table...)."""


@dataclass
class Plan:
    """What writing `wanted` into `path` would do."""

    path: Path  # the file to write (a symbolic link resolved)
    shown: Path  # the name to show (as the tool knows it)
    old_text: str | None  # None: no file yet
    new_text: str
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new_text != (self.old_text or "")

    def diff(self) -> str:
        old = (self.old_text or "").splitlines(keepends=True)
        new = self.new_text.splitlines(keepends=True)
        label = str(self.shown)
        lines = difflib.unified_diff(old, new, label if self.old_text is not None else "/dev/null", label)
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


# -- where ------------------------------------------------------------------------------------


def config_file(tool: str, env: dict[str, str] | None = None) -> Path:
    """The config file `tool` reads, as it finds it."""
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or Path.home())
    if tool == "claude-code":
        raw = (env.get("CLAUDE_CONFIG_DIR") or "").strip()
        if "," in raw:
            raise ConfigError(
                f"CLAUDE_CONFIG_DIR names several folders ({raw}); Claude Code reads one: "
                "run again with CLAUDE_CONFIG_DIR set to that one"
            )
        return (Path(raw).expanduser() if raw else home / ".claude") / "settings.json"
    if tool == "codex":
        raw = (env.get("CODEX_HOME") or "").strip()
        return (Path(raw).expanduser() if raw else home / ".codex") / "config.toml"
    if tool == "gemini":
        raw = (env.get("GEMINI_CLI_HOME") or "").strip()
        return (Path(raw).expanduser() if raw else home) / ".gemini" / "settings.json"
    raise ConfigError(f"usage-ls does not write {tool}'s settings")


# -- what -------------------------------------------------------------------------------------


def plan(path: Path, wanted: dict[Key, Any], replace: bool = False) -> Plan:
    """The new text of `path` with `wanted` set (conflicting keys only when `replace`)."""
    real = Path(os.path.realpath(path))
    try:
        raw = real.read_bytes()
    except FileNotFoundError:
        old_text = None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror}") from None
    else:
        try:
            old_text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); nothing changed") from None
    edit = _edit_toml if path.suffix == ".toml" else _edit_json
    new_text, conflicts = edit(path, old_text, wanted, replace)
    return Plan(real, path, old_text, new_text, conflicts)


def _where(key: Key) -> str:
    return ".".join(key)


def _edit_json(path: Path, text: str | None, wanted: dict[Key, Any], replace: bool) -> tuple[str, list[Conflict]]:
    if text is None or not text.strip():
        doc: Any = {}
    else:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            commented = re.search(r"^\s*(//|/\*)", text, re.MULTILINE)
            hint = " (comments are not JSON: usage-ls does not rewrite such a file)" if commented else ""
            raise ConfigError(
                f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}; nothing changed"
            ) from None
        except RecursionError:
            raise ConfigError(f"{path}: not valid JSON: nested too deeply; nothing changed") from None
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: expected a JSON object at the top, got {_kind(doc)}; nothing changed")
    empty = not doc  # nothing to keep: laid out as the tools write it
    conflicts: list[Conflict] = []
    edits: list[tuple[Key, Any]] = []
    for key, value in wanted.items():
        parent = doc
        for i, part in enumerate(key[:-1]):
            child = parent.setdefault(part, {})
            if not isinstance(child, dict):
                where = _where(key[: i + 1])
                raise ConfigError(f"{path}: `{where}` is {_kind(child)}, not an object; nothing changed")
            parent = child
        now = parent.get(key[-1], _ABSENT)
        if now is not _ABSENT and now == value:
            continue
        if now is not _ABSENT:
            conflicts.append((key, now, value))
            if not replace:
                continue
        parent[key[-1]] = value
        edits.append((key, value))
    if text is None or empty:
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n" if doc else text or ""), conflicts
    new_text = text
    for key, value in edits:  # in the text itself: every other byte stays
        new_text = jsonedit.set_member(new_text, key, value)
    if json.loads(new_text) != doc:  # never expected; if it happens, a plain rewrite is still right
        new_text = json.dumps(doc, indent=jsonedit.indent_unit(text), ensure_ascii=False) + "\n"
    return new_text, conflicts


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _edit_toml(path: Path, text: str | None, wanted: dict[Key, Any], replace: bool) -> tuple[str, list[Conflict]]:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        doc = tomlkit.parse(text or "")
    except TOMLKitError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}; nothing changed") from None
    conflicts: list[Conflict] = []
    changed = False
    for key, value in wanted.items():
        parent: Any = doc
        for i, part in enumerate(key[:-1]):
            if part not in parent:
                parent[part] = tomlkit.table()
            child = parent[part]
            if not isinstance(child, dict):
                where = _where(key[: i + 1])
                raise ConfigError(f"{path}: `{where}` is {type(child).__name__}, not a table; nothing changed")
            parent = child
        now = parent.get(key[-1], _ABSENT)
        plain = now.unwrap() if hasattr(now, "unwrap") else now
        if now is not _ABSENT and plain == value:
            continue
        if now is not _ABSENT:
            conflicts.append((key, plain, value))
            if not replace:
                continue
        parent[key[-1]] = _toml_item(value)
        changed = True
    if not changed and text is not None:
        return text, conflicts
    return doc.as_string(), conflicts


def _toml_item(value: Any) -> Any:
    """Tables as inline tables (`{ otlp-http = { … } }`), as the tools' docs write them."""
    import tomlkit

    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for k, v in value.items():
            table[k] = _toml_item(v)
        return table
    return value


# -- how --------------------------------------------------------------------------------------


def write(plan_: Plan) -> Path | None:
    """Back up the old file and write the new one atomically; the backup's path (None: there
    was no file). ConfigError when the file changed since it was planned."""
    path = plan_.path
    try:
        now = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        now = None
    if now != plan_.old_text:
        raise ConfigError(f"{plan_.shown} changed while usage-ls was planning the edit; nothing written: run it again")
    backup = None
    mode = 0o600
    if plan_.old_text is not None:
        mode = path.stat().st_mode & 0o777
        backup = _backup(path, mode)
    else:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    atomic_write(path, plan_.new_text.encode("utf-8"), mode=mode)
    return backup


def _backup(path: Path, mode: int) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    data = path.read_bytes()
    for n in range(100):
        target = path.with_name(f"{path.name}.usage-ls-backup-{stamp}" + (f"-{n}" if n else ""))
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return target
    raise ConfigError(f"{path}: too many backups named {path.name}.usage-ls-backup-{stamp}*; nothing written")


def show(value: Any) -> str:
    """A setting's value as the user reads it in the file."""
    return json.dumps(value, ensure_ascii=False)


def statusline_command(env: dict[str, str] | None = None) -> str:
    """The command Claude Code runs as its statusLine: this installation's `usage-ls` by its
    absolute path (Claude Code's environment may have another PATH), else this Python with
    `-m usage_ls`; with `--data-dir` when one is set (`--data-dir` or USAGE_LS_DATA_DIR)."""
    import shlex
    import shutil
    import sys

    env = dict(os.environ) if env is None else env
    name = "usage-ls.exe" if os.name == "nt" else "usage-ls"
    beside = Path(sys.executable).parent / name  # the venv's (or pipx's) bin folder: not resolved
    found = shutil.which(name, path=env.get("PATH"))
    if beside.is_file() and os.access(beside, os.X_OK):
        command = shlex.quote(str(beside.absolute()))
    elif found:
        command = shlex.quote(str(Path(found).absolute()))
    else:
        command = f"{shlex.quote(sys.executable)} -m usage_ls"
    data_dir = env.get("USAGE_LS_DATA_DIR")
    if data_dir:
        command += f" --data-dir {shlex.quote(str(Path(data_dir).expanduser().absolute()))}"
    return command + " statusline --claude-code"


def statusline_setting(env: dict[str, str] | None = None) -> dict[Key, Any]:
    return {("statusLine",): {"type": "command", "command": statusline_command(env)}}
