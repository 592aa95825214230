"""Giving freed heap back to the OS: glibc keeps what Python frees, so after a checkpoint
reload, a year-long query or a burst of records a long-running server would stay large.
`trim` calls malloc_trim (about a millisecond; a no-op elsewhere); `trim_if_grown` does it
once resident memory grew by TRIM_GROWTH since the last time."""

from __future__ import annotations

import os

TRIM_GROWTH = 8 * 1024 * 1024


def trim() -> None:
    """Give freed heap back to the OS (glibc keeps it otherwise): after a checkpoint reload, a
    year-long query or a burst of records, resident memory falls back by tens of MB. Takes
    about a millisecond. A no-op elsewhere."""
    global _malloc_trim, _trimmed_at
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)
    _trimmed_at = _resident_bytes()


def trim_if_grown() -> None:
    """`trim` once resident memory grew by TRIM_GROWTH since the last time: called after
    each push (at most ten a second while records stream in) and each tick of the watch loop."""
    if _resident_bytes() > _trimmed_at + TRIM_GROWTH:
        trim()


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


_malloc_trim = None
_trimmed_at = 0
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
