"""`usage-ls import`'s progress bar: bytes of log read, per tool, with tqdm, on a terminal only
(standard error a TTY, no `--json`); nothing is drawn otherwise, so scripts and pipes see the
summary lines alone. The bar only appears when the reading takes a moment (tqdm's `delay`, 0.2 s)."""

from __future__ import annotations

import sys
from typing import Any

LABEL_WIDTH = 14


class ImportBar:
    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar: Any = tqdm(
            total=0,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=sys.stderr,
            delay=0.2,  # a quick import draws nothing
            leave=False,
            dynamic_ncols=True,
            bar_format="{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
        )

    def planned(self, tool: str, size: int) -> None:
        """`tool` is about to read `size` bytes."""
        self.bar.set_description_str(f"importing {tool}"[: LABEL_WIDTH + 10])
        self.bar.total += size
        self.bar.refresh()

    def read(self, size: int) -> None:
        self.bar.update(size)

    def close(self) -> None:
        self.bar.close()


def for_terminal(as_json: bool) -> ImportBar | None:
    """A bar when a person watches (standard error a terminal, not `--json`), else None."""
    if as_json or not sys.stderr.isatty():
        return None
    return ImportBar()
