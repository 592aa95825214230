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

from usage_ls import __version__, price_data, price_extra
from usage_ls.config import load_config
from usage_ls.render.text import plain
from usage_ls.service import settle_user
from usage_ls.store import repair, safety
from usage_ls.store.annotations import Annotations
from usage_ls.store.files import StoreFiles
from usage_ls.store.journal import owner_alive


def _price_data(root) -> list[str]:
    """Print where the price data comes from and its date; its problems."""
    _, info = price_data.load(root)
    print(f"price data:     {plain(info.summary())}")
    print(
        f"our prices:     {len(price_extra.ENTRIES)} dated entries for models genai-prices lacks "
        "(`usage-ls prices show` lists the unpriced models of your ledger)"
    )
    if info.kind == "downloaded":
        print(f"                {info.path}")
        if info.validated_with != info.genai_prices:
            print(
                f"                (fetched with genai-prices {info.validated_with}; {info.genai_prices} is installed now and "
                "its bundled table may be newer: `usage-ls prices update` or `usage-ls prices reset`)"
            )
    return [plain(p) for p in info.problems]


def run() -> int:
    cfg = load_config()
    settle_user(cfg)
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
    problems += _price_data(root)
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
        added = Annotations(root / "annotations")  # attribution added to stored records; every line checked
        months = sorted(p.stem for p in added.dir.glob("*.jsonl"))
        enriched = sum(len(ids) for m in months for ids in added.month(m).values())
        print(f"attribution:    added to {enriched} record(s) later ({len(months)} month file(s) in annotations/)")
        problems += added.problems
        notes = repair.read_notes(files.notes_path)  # what the store rebuilt, lost or skipped
        for note in notes:
            (repairs if note.get("kind") == "rebuilt" else problems).append(f"{note['text']} ({note.get('time')})")
        if any(n.get("kind") == "lost" for n in notes):
            problems.append(
                "records lost with a day file come back from the tools' logs that still hold them: `usage-ls import all`"
            )
        if notes:
            kept = f"what the store rebuilt, lost or skipped is kept in {files.notes_path}: delete it once read"
        problems += _claude_code_costs(cfg)
        moved = sorted(p for p in root.rglob("*") if ".corrupt-" in p.name)
        for path in moved:
            problems.append(
                f"{path} was moved aside as unreadable or unsafe (kept for you to inspect; delete it once done)"
            )
    else:
        print("(the data directory does not exist yet: it is created on first use)")
    from usage_ls.importers.live_status import doctor_lines as watcher_lines
    from usage_ls.receive.command import doctor_lines

    for line in watcher_lines(root):
        print(line)
    receiver_lines, receiver_problems = doctor_lines(cfg)
    for line in receiver_lines:
        print(line)
    problems += receiver_problems
    from usage_ls.team.command import status_lines

    team_lines, team_problems = status_lines(cfg)
    print("\n".join(team_lines))
    problems += team_problems
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


def _claude_code_costs(cfg) -> list[str]:
    """Claude Code's own cost (its transcripts' `cost-state`) against ours, over the recent
    sessions the importer read: a standing check of our reading and our prices."""
    from usage_ls.importers import cost_check
    from usage_ls.pricing import Pricer

    checked, disagree = cost_check.check_recent(cfg.data_dir, Pricer(cfg))
    if not checked:
        return []
    verdict = "all agree to the micro-dollar" if not disagree else f"{len(disagree)} differ"
    print(f"Claude Code:    {checked} recent session(s) checked against its own cost (cost-state): {verdict}")
    return [
        f"Claude Code's own cost differs from ours: {cost_check.describe(c)}; see `usage-ls report session {c['session']}`"
        for c in disagree[:10]
    ] + ([f"... and {len(disagree) - 10} more session(s)"] if len(disagree) > 10 else [])
