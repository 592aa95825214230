"""Whether a data directory is safe to use: the user's own, and nothing in it leading elsewhere.

What the store holds is taken as the truth about what AI usage cost, and the store writes
where its folders lead. A data directory another user owns, or one its group or others may
write to, lets someone else plant records or swap a file for a link; a store folder
(journal/, days/, days/YYYY-MM/, rollups/) that is a symbolic link makes every write into it
land outside the data directory. `problems` names each such path and the command that fixes
it; the ledger refuses to open a store that has one (`errors.StoreRefused`) and
`usage-ls doctor` lists them. The data directory itself may be a link (a user's choice of
where it lives): what it leads to is checked.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

SUBDIRS = ("journal", "days", "rollups", "annotations")


def _user(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _owner_and_mode(path: Path, st: os.stat_result, root: Path) -> list[str]:
    out = []
    uid = os.getuid()
    if st.st_uid != uid:
        out.append(
            f"{path} is owned by {_user(st.st_uid)} (uid {st.st_uid}), not by you ({_user(uid)}, uid {uid}): "
            f"its owner could change what usage-ls counts; fix: `sudo chown -R {_user(uid)} {root}`, "
            "or use a data directory of your own (USAGE_LS_DATA_DIR)"
        )
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o022:
        who = " and ".join(w for w, bit in (("its group", 0o020), ("others", 0o002)) if mode & bit)
        out.append(f"{path} is writable by {who} (mode {oct(mode)}): they could plant records; fix: `chmod 700 {path}`")
    return out


def _folder(path: Path, root: Path) -> list[str]:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return []
    if stat.S_ISLNK(st.st_mode):
        return [
            f"{path} is a symbolic link (to {os.readlink(path)}): usage-ls keeps its data only inside its data "
            f"directory; fix: replace it with a real folder (`rm {path}`, then move what it points to there, "
            "or let usage-ls create it afresh)"
        ]
    if not stat.S_ISDIR(st.st_mode):
        return [f"{path} is not a folder; fix: move it away (usage-ls creates the folder)"]
    return _owner_and_mode(path, st, root)


def problems(root: Path) -> list[str]:
    """What makes the data directory `root` unsafe to use, one sentence (with its fix) each; []
    when it is fine or does not exist yet (usage-ls creates it, 0700)."""
    if not hasattr(os, "getuid"):  # no owners and modes to check (Windows)
        return []
    try:
        st = root.stat()
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(st.st_mode):
        return [f"{root} is not a folder; fix: point USAGE_LS_DATA_DIR at a folder"]
    out = _owner_and_mode(root, st, root)
    for name in SUBDIRS:
        out += _folder(root / name, root)
    days = root / "days"
    if days.is_dir() and not days.is_symlink():
        for entry in sorted(os.scandir(days), key=lambda e: e.name):
            if entry.is_dir() or entry.is_symlink():
                out += _folder(Path(entry.path), root)
    return out


def checked_folder(path: Path) -> Path:
    """`path` (a store folder about to be written into), created 0700 when missing;
    NotADirectoryError when it is a symbolic link or not a folder (made since the store opened)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not stat.S_ISDIR(path.lstat().st_mode):
        raise NotADirectoryError(f"{path} is a symbolic link or not a folder: usage-ls does not write through it")
    return path
