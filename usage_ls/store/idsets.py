"""Sets of 64-bit id hashes as sorted arrays (the id index, import memories).

Two kinds of sorted array hold them: numpy's (`unique_ids`, `union_ids`, `member`: queries, the
workers of a big import, checkpoints) and the standard library's `array("Q")` (`id_array`,
`contains`, `merged`: the write of a small import, which then never imports numpy, ~0.1 s of
CPU). The id index file (`ids.npy`) is numpy's format either way: `npy_bytes` writes the same
bytes as `np.save`, and `from_npy` reads what it wrote.

`np.unique`/`np.union1d` without `return_*` take a hash-based path in numpy 2.4 that is ~60x
slower than sorting on arrays of distinct 64-bit values (0.8 s against 10 ms for a million
ids), so these sort and drop repeats themselves, and look ids up by binary search (`member`).
"""

from __future__ import annotations

import re
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from usage_ls import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy.module("numpy")  # loaded on first use (usage_ls/lazy.py)


def unique_ids(values: np.ndarray) -> np.ndarray:
    """`np.unique(values)` for 64-bit ids: sorted, each once."""
    s = np.sort(values)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def union_ids(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`np.union1d(a, b)` for 64-bit ids."""
    return unique_ids(np.concatenate((np.asarray(a, dtype=np.uint64), np.asarray(b, dtype=np.uint64))))


def member(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`np.isin(values, ids)` for 64-bit ids, by a binary search in `ids` (sorted first if it is
    not; the id index always is): `np.isin` sorts both arrays each call, by that hash path (a
    bulk import looked every day's new ids up in the whole index: 0.7 s a day at a million)."""
    values = np.asarray(values, dtype=np.uint64)
    if len(ids) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    if len(ids) > 1 and not bool((ids[1:] >= ids[:-1]).all()):
        ids = np.sort(ids)
    pos = np.searchsorted(ids, values)
    np.minimum(pos, len(ids) - 1, out=pos)
    found: np.ndarray = ids[pos] == values
    return found


# -- the same without numpy --------------------------------------------------------------------

NPY_MAGIC = b"\x93NUMPY\x01\x00"
_NPY_HEADER = re.compile(rb"\{'descr': '<u8', 'fortran_order': False, 'shape': \((\d+),\), \} *\n")
NUMPY_FROM = 50_000  # more new ids than this: numpy's sort and binary search pay for its import


def id_array(values: Iterable[int] = ()) -> array[int]:
    """An `array("Q")` of 64-bit ids."""
    return array("Q", values)


def npy_bytes(ids: Any) -> bytes:
    """`np.save` of a 1-D array of 64-bit ids (an `array("Q")` or a numpy array), byte for byte:
    the format 1.0 header (with numpy's room to grow the shape), then the little-endian values."""
    if isinstance(ids, array):
        if sys.byteorder == "big":
            ids = array("Q", ids)
            ids.byteswap()
        raw: bytes = ids.tobytes()
    else:
        raw = np.ascontiguousarray(ids, dtype="<u8").tobytes()
    n = len(raw) // 8
    head = b"{'descr': '<u8', 'fortran_order': False, 'shape': (%d,), }" % n
    head += b" " * (21 - len(str(n)))
    head += b" " * (64 - (len(NPY_MAGIC) + 2 + len(head) + 1) % 64) + b"\n"
    return NPY_MAGIC + len(head).to_bytes(2, "little") + head + raw


def from_npy(data: bytes) -> array[int]:
    """The ids of an id index file as an `array("Q")`; ValueError when it is not one
    `npy_bytes` (or `np.save` of a 1-D uint64 array) wrote."""
    if not data.startswith(NPY_MAGIC) or len(data) < 10:
        raise ValueError("not an id index (no .npy header)")
    end = 10 + int.from_bytes(data[8:10], "little")
    m = _NPY_HEADER.fullmatch(data, 10, end)
    if m is None:
        raise ValueError("not an id index (unexpected array header)")
    n = int(m.group(1))
    if len(data) - end != 8 * n:
        raise ValueError(f"id index truncated ({len(data) - end} bytes for {n} ids)")
    ids = array("Q")
    ids.frombytes(data[end:])
    if sys.byteorder == "big":
        ids.byteswap()
    return ids


def contains(ids: array[int], values: Sequence[int]) -> list[bool]:
    """`member` for sorted `ids` held as an `array("Q")` (the id index as `from_npy` reads it):
    numpy's binary search when there are many values, else one `bisect` each."""
    if not len(ids) or not len(values):
        return [False] * len(values)
    if len(values) > NUMPY_FROM or "numpy" in sys.modules:
        found: list[bool] = member(np.frombuffer(ids, dtype=np.uint64), np.asarray(values, dtype=np.uint64)).tolist()
        return found
    return bisected(ids, values)


def bisected(ids: Sequence[int], values: Iterable[int]) -> list[bool]:
    """`contains` by one `bisect` a value, without numpy."""
    n, out = len(ids), []
    for v in values:
        i = bisect_left(ids, v)
        out.append(i < n and ids[i] == v)
    return out


def merged(ids: array[int], new: Iterable[int]) -> array[int]:
    """The sorted `ids` with `new` ids added (each once): `union_ids` for an `array("Q")`. Few
    new ids go in by binary search and slices of `ids`; many, by numpy's sort."""
    fresh = sorted(set(new))
    if not len(ids):
        return array("Q", fresh)
    if len(fresh) > NUMPY_FROM or ("numpy" in sys.modules and len(fresh) > 1000):
        both = union_ids(np.frombuffer(ids, dtype=np.uint64), np.array(fresh, dtype=np.uint64))
        return as_id_array(both)
    return spliced(ids, fresh)


def spliced(ids: array[int], fresh: list[int]) -> array[int]:
    """`merged` without numpy: `fresh` (sorted, each once) spliced into `ids`."""
    out, at, n = array("Q"), 0, len(ids)
    for v in fresh:
        i = bisect_left(ids, v, at)
        out.extend(ids[at:i])
        if i == n or ids[i] != v:
            out.append(v)
        at = i
    out.extend(ids[at:])
    return out


def as_id_array(values: np.ndarray) -> array[int]:
    """A numpy array of 64-bit ids as an `array("Q")`."""
    out = array("Q")
    out.frombytes(np.ascontiguousarray(values, dtype=np.uint64).tobytes())
    return out
