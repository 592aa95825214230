"""`usage-ls doctor`: what is wrong with this installation's data, said plainly."""

from __future__ import annotations

import os
import shutil
import sys
from importlib.metadata import version

from usage_ls import __version__
from usage_ls.config import load_config
from usage_ls.store.journal import SUFFIX, owner_alive


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
    if root.exists():
        probe = root / f".doctor-{os.getpid()}"
        try:
            probe.write_bytes(b"x")
            probe.unlink()
        except OSError as exc:
            problems.append(f"cannot write to {root}: {exc.strerror or exc}")
        mode = root.stat().st_mode & 0o777
        if mode & 0o077:
            problems.append(f"{root} is readable by others (mode {oct(mode)}); `chmod 700` it")
        journals = sorted((root / "journal").glob(f"*{SUFFIX}"))
        live = [j for j in journals if owner_alive(j)]
        print(
            f"journals:       {len(live)} of running processes, {len(journals) - len(live)} left by processes that stopped"
        )
        day_files = list((root / "days").glob("*/*.json"))
        print(f"day files:      {len(day_files)}; rollup months: {len(list((root / 'rollups').glob('*.json')))}")
        moved = sorted(p for p in root.rglob("*") if ".corrupt-" in p.name)
        for path in moved:
            problems.append(
                f"{path} was unreadable and moved aside (kept for you to inspect; its records are not counted)"
            )
    else:
        print("(the data directory does not exist yet: it is created on first use)")
    from usage_ls.receive.command import doctor_lines

    receiver_lines, receiver_problems = doctor_lines(cfg)
    for line in receiver_lines:
        print(line)
    problems += receiver_problems
    if problems:
        print("\nProblems:")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("\nNo problems found.")
    return 0
