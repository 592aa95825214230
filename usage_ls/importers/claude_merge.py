"""Claude Code: which usage lines are the same response (ccusage's rule, checked against its
binary), for `claude_code.ClaudeCode.merge` and its parallel form `merge_compact`."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from usage_ls import lazy
from usage_ls.importers.claude_lines import Entry

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)


def hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def replays(hm: np.ndarray, has_mid: np.ndarray, side: np.ndarray, memory: dict) -> np.ndarray:
    """Of kept candidates (message id hashes, whether there is one, sidechain flags): True for
    a replay of a message an earlier run imported (a sidechain line whose message id was seen,
    or a parent line whose id was seen as a sidechain). The others' ids are remembered."""
    replay = np.zeros(len(hm), dtype=bool)
    if len(memory["all"]) or len(memory["side"]):
        replay = has_mid & np.where(side, np.isin(hm, memory["all"]), np.isin(hm, memory["side"]))
    new = has_mid & ~replay
    memory["new_all"].extend(hm[new].tolist())
    memory["new_side"].extend(hm[new & side].tolist())
    return replay


def merge_rule(entries: list) -> tuple[list, int]:
    """The merge rule over candidates in order -> (kept candidates in order, duplicates).
    Only lines whose message id occurs more than once can merge: the others are kept as they
    are, in their place (the rule would keep them too)."""
    seen: dict = {}
    for e in entries:
        mid = e.message_id
        if mid is not None:
            seen[mid] = seen.get(mid, 0) + 1
    kept: list = []
    exact: dict[tuple, int] = {}
    by_msg: dict = {}
    dups = 0
    for e in entries:
        mid, rid, side = e.message_id, e.request_id, e.sidechain
        if mid is None or seen[mid] == 1:
            kept.append(e)
            continue
        idx = exact.get((mid, rid))
        if idx is None:
            for j in by_msg.get(mid, ()):
                if side or kept[j].sidechain:
                    idx = j
                    break
        if idx is not None:
            dups += 1
            if better(e, kept[idx]):
                kept[idx] = e
                exact[(mid, rid)] = idx
            continue
        idx = len(kept)
        kept.append(e)
        exact[(mid, rid)] = idx
        by_msg.setdefault(mid, []).append(idx)
    return kept, dups


def better(cand: Entry, old: Entry) -> bool:
    if cand.sidechain != old.sidechain:
        return old.sidechain  # a parent line beats a sidechain copy
    if cand.total != old.total:
        return cand.total > old.total
    return (cand.cost or 0.0) > (old.cost or 0.0)
