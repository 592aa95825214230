"""How an import finds a tool's files and the lines it parses, made fast (bench/import_bench.py)
without changing what it finds: one walk of the tree instead of a `rglob` and a `resolve` per
pattern and file, and only the marked lines of a log parsed."""

from __future__ import annotations

import os
import re
from pathlib import Path

from usage_ls.importers.base import walk
from usage_ls.importers.lines import FileResult, json_objects, marked_objects


def _rglob(root: Path, patterns) -> list[Path]:
    """What discovery found before: each pattern's `rglob`, files only, resolved."""
    return sorted({p.resolve() for pat in patterns for p in root.rglob(pat) if p.is_file()}, key=str)


def test_one_walk_finds_what_rglob_found_links_resolved_linked_folders_not_entered(tmp_path):
    root = tmp_path / "logs"
    for rel in ("a/s1.jsonl", "a/b/c/s2.jsonl", ".hidden/s3.jsonl", "a/x.jsonl.reset.2026", "a/x.jsonl.bak",
                "a/notes.md", "a/deep/msg_1.json", "a/deep/prt_1.json"):  # fmt: skip
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("{}\n")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "inner").mkdir(parents=True)
    (elsewhere / "target.jsonl").write_text("{}\n")
    (elsewhere / "inner" / "s4.jsonl").write_text("{}\n")
    os.symlink(elsewhere / "target.jsonl", root / "a" / "link.jsonl")  # a linked file: its target
    os.symlink(elsewhere / "inner", root / "a" / "linked-folder")  # a linked folder: not entered
    os.symlink(tmp_path / "missing.jsonl", root / "a" / "dangling.jsonl")  # not a file
    (root / "a" / "folder.jsonl").mkdir()  # a folder named like a log
    for patterns in (("*.jsonl",), ("*.jsonl", "*.jsonl.reset.*"), ("msg_*.json",), ("*.md", "*.json")):
        found = sorted(walk(root, patterns), key=str)
        assert found == _rglob(root, patterns)
    assert elsewhere / "target.jsonl" in set(walk(root, ("*.jsonl",)))
    # a root given through a link is walked as the folder it names
    os.symlink(root, tmp_path / "via-link")
    assert sorted(walk(tmp_path / "via-link", ("*.jsonl",)), key=str) == _rglob(root, ("*.jsonl",))


def test_marked_lines_parsed_others_only_checked_problems_counted_in_file_order(tmp_path):
    log = tmp_path / "wire.jsonl"
    lines = [
        b'{"type": "metadata"}',
        b"garbage that is no JSON at all",  # without the mark: still counted unreadable
        b'{"message": {"type": "StatusUpdate", "n": 1}}',
        b'{"message": {"type": "StatusUpdate", "n": ',  # marked, cut: not JSON
        b'["StatusUpdate"]',  # marked, not an object
        b'{"message": {"type": "TurnBegin", "text": "a long prompt"}}',
        b'{"message": {"type": "StatusUpdate", "n": 2}}',
    ]
    log.write_bytes(b"\n".join(lines) + b"\n")
    result = FileResult()
    got = [obj["message"]["n"] for _offset, obj in marked_objects(log, 0, result, b"StatusUpdate")]
    assert got == [1, 2]
    assert result.unreadable == 3 and result.end == log.stat().st_size
    assert str(result.first_problem).startswith("wire.jsonl:21: not a JSON object")  # the garbage line, first
    # what the whole parse (json_objects) makes of the marked lines is the same
    full = FileResult()
    assert [o for _off, o in json_objects(log, 0, full) if b"StatusUpdate" in repr(o).encode()][:2] == [
        {"message": {"type": "StatusUpdate", "n": 1}},
        {"message": {"type": "StatusUpdate", "n": 2}},
    ]
    # several marks: a line with any of them
    result = FileResult()
    kinds = [o["message"]["type"] for _off, o in marked_objects(log, 0, result, (b"StatusUpdate", b"TurnBegin"))]
    assert kinds == ["StatusUpdate", "TurnBegin", "StatusUpdate"]
    # or a pattern (marks with a common start: one search), the same lines
    result = FileResult()
    mark = re.compile(rb'"(?:StatusUpdate|TurnBegin)"')
    assert [o["message"]["type"] for _off, o in marked_objects(log, 0, result, mark)] == kinds
    assert result.unreadable == 3


def test_ids_looked_up_by_binary_search_as_isin_finds_them():
    # a bulk import looks each day's new ids up in the ledger's whole id index: `np.isin`
    # sorted both each time (0.7 s a day at a million ids on numpy 2.4)
    import numpy as np

    from usage_ls.store.idsets import member

    rng = np.random.default_rng(7)
    for n, m in ((0, 5), (5, 0), (1, 3), (1000, 500), (50_000, 20_000)):
        ids = np.unique(rng.integers(0, 2**63, n, dtype=np.uint64)) if n else np.zeros(0, np.uint64)
        some = rng.choice(ids, m // 2) if n and m else np.zeros(0, np.uint64)
        values = np.concatenate([some, rng.integers(0, 2**63, m - m // 2, dtype=np.uint64),
                                 np.array([0, 2**64 - 1], dtype=np.uint64)])  # fmt: skip
        shuffled = ids.copy()
        rng.shuffle(shuffled)  # an index not in order is sorted first
        for index in (ids, shuffled):
            assert member(index, values).tolist() == np.isin(values, ids).tolist()
