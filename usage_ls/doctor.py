"""`usage-ls doctor`: what is wrong with this installation's data, said plainly.

It reads, never repairs: the data directory's safety (store/safety.py: the same problems that
make the store refuse to open, each with its fix), every journal line checked as the store
checks it (by file and line number), files moved aside, and the repairs log (a day rebuilt
from its columns, records lost, journal lines skipped: store/repair.py).
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib.metadata import version

from usage_ls import __version__
from usage_ls.config import load_config
from usage_ls.store import repair, safety
from usage_ls.store.files import StoreFiles
from usage_ls.store.journal import owner_alive


def run() -> int:
    cfg = load_config()
    root = cfg.data_dir
    problems: list[str] = []
    print(
        f"usage-ls {__version__} (Python {sys.version.split()[0]}, genai-prices {version('genai-prices')}, pygls {version('pygls')})"
    )
    print(f"data directory: {root}")
    if shutil.which("usage-ls"):
        print(f"on PATH:        {shutil.which('usage-ls')}")
    else:
        problems.append("`usage-ls` is not on PATH: editor clients will need its full path in their settings")
    print(f"config:         {cfg.path} ({'present' if cfg.path.exists() else 'absent: defaults in use'})")
    problems += [f"config.toml: {e}" for e in cfg.errors]
    repairs: list[str] = []
    kept = ""
    if root.exists():
        problems += safety.problems(root)
        probe = root / f".doctor-{os.getpid()}"
        try:
            probe.write_bytes(b"x")
            probe.unlink()
        except OSError as exc:
            problems.append(f"cannot write to {root}: {exc.strerror or exc}")
        mode = root.stat().st_mode & 0o777
        if mode & 0o077 and not mode & 0o022:  # (writable by others: refused, said above)
            problems.append(f"{root} is readable by others (mode {oct(mode)}); `chmod 700` it")
        files = StoreFiles(root, cfg.tz, writable=False)
        journals = files.journals()
        live = [j for j in journals if owner_alive(j)]
        print(
            f"journals:       {len(live)} of running processes, {len(journals) - len(live)} left by processes that stopped"
        )
        for journal in journals:
            files.read_journal(journal, 0)  # every line checked as the store checks it; problems told
        problems += files.problems
        day_files = list((root / "days").glob("*/*.json"))
        print(f"day files:      {len(day_files)}; rollup months: {len(list((root / 'rollups').glob('*.json')))}")
        notes = repair.read_notes(files.notes_path)  # what the store rebuilt, lost or skipped
        for note in notes:
            (repairs if note.get("kind") == "rebuilt" else problems).append(f"{note['text']} ({note.get('time')})")
        if any(n.get("kind") == "lost" for n in notes):
            problems.append(
                "records lost with a day file come back from the tools' logs that still hold them: `usage-ls import all`"
            )
        if notes:
            kept = f"what the store rebuilt, lost or skipped is kept in {files.notes_path}: delete it once read"
        moved = sorted(p for p in root.rglob("*") if ".corrupt-" in p.name)
        for path in moved:
            problems.append(
                f"{path} was moved aside as unreadable or unsafe (kept for you to inspect; delete it once done)"
            )
    else:
        print("(the data directory does not exist yet: it is created on first use)")
    if repairs:
        print("\nRepairs made:")
        for r in repairs:
            print(f"  - {r}")
    if kept:
        print(f"\n({kept})")
    if problems:
        print("\nProblems:")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("\nNo problems found.")
    return 0
