"""A cheap stamp of everything that changes what the ledger holds.

Every write to the ledger changes one of: `state.json` (checkpoints and bulk imports bump its
`seq`), a journal file in `journal/` (records appended, journals rotated or folded away), or
`config.toml` (prices, time zone, budgets). Their sizes and modification times, read with a
few `stat` calls, make a stamp: equal stamps mean equal answers, so a status line can be
served from a cache (`usage_ls.statusline`) without opening the ledger. Standard library
only: it runs before anything heavy is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

from usage_ls.paths import CONFIG_FILE

STATE = "state.json"  # StoreFiles.state_path
JOURNAL_DIR = "journal"  # StoreFiles.journal_dir


def _sig(path: Path) -> list[int]:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return [0, 0]
    return [st.st_mtime_ns, st.st_size]


def change_stamp(root: Path) -> list[object]:
    """[state, config, [journal name, mtime, size]...] as JSON-ready lists."""
    journals: list[object] = []
    try:
        with os.scandir(root / JOURNAL_DIR) as entries:
            for entry in entries:
                if entry.name.endswith(".jsonl"):
                    st = entry.stat(follow_symlinks=False)
                    journals.append([entry.name, st.st_mtime_ns, st.st_size])
    except OSError:
        pass
    journals.sort(key=str)
    return [_sig(root / STATE), _sig(root / CONFIG_FILE), journals]
