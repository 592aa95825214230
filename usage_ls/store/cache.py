"""One cache type for every in-memory cache of usage-ls: bounded in bytes, least recently used out.

The ledger keeps months of rollups, days of record columns and short ranges of aggregate rows;
the service keeps query results. Each is a `ByteCache`: values weighed in bytes (by the
caller, or by `weigh`), the least recently used dropped once the total passes `max_bytes`.
A value larger than the whole budget is still kept while it is the only one (the request that
made it is served from it), and `put(..., keep=...)` protects the entries a request is using.

`stamped` caches drop everything when their stamp changes (e.g. the ledger's version): none
of the old results would be served again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteCache(Generic[K, V]):
    def __init__(self, max_bytes: int, weigh: Callable[[V], int] | None = None):
        self.max_bytes = max_bytes
        self.weigh = weigh
        self.bytes = 0
        self.stamp: Any = None
        self._entries: dict[K, tuple[V, int]] = {}  # least recently used first

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._entries))

    def get(self, key: K) -> V | None:
        """The value of `key` (now the most recently used), or `default`."""
        hit = self._entries.pop(key, None)
        if hit is None:
            return None
        self._entries[key] = hit
        return hit[0]

    def peek(self, key: K) -> V | None:
        """The value of `key` without touching its place."""
        hit = self._entries.get(key)
        return None if hit is None else hit[0]

    def put(self, key: K, value: V, weight: int | None = None, keep: Iterable[K] = ()) -> bool:
        """Hold `value`, dropping the least recently used entries (not those in `keep`) until it
        fits. False when it does not fit beside the kept ones (then it is not held)."""
        if weight is None:
            weight = self.weigh(value) if self.weigh is not None else 1
        self.pop(key)
        kept = set(keep)
        for old in [k for k in self._entries if k not in kept]:
            if self.bytes + weight <= self.max_bytes:
                break
            self.pop(old)
        if self.bytes + weight > self.max_bytes and self._entries:
            return False
        self._entries[key] = (value, weight)
        self.bytes += weight
        return True

    def pop(self, key: K) -> V | None:
        hit = self._entries.pop(key, None)
        if hit is None:
            return None
        self.bytes -= hit[1]
        return hit[0]

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def restamp(self, stamp: Any) -> None:
        """Drop everything when `stamp` differs from the one the entries were made under."""
        if stamp != self.stamp:
            self.clear()
            self.stamp = stamp

    def memo(self, stamp: Any, key: K, compute: Callable[[], V]) -> V:
        """The result of `compute` for `key` under `stamp`, computed once per stamp. A result
        computed while the stamp moved on is returned but not held."""
        self.restamp(stamp)
        hit = self._entries.pop(key, None)
        if hit is not None:
            self._entries[key] = hit
            return hit[0]
        value = compute()
        if self.stamp == stamp:
            self.put(key, value)
        return value
