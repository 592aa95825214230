"""A module imported on its first use, not when the importing module loads.

numpy costs ~0.1 s of CPU to import (more than a small log import spends reading), and the
one-shot `usage-ls import` of most tools never needs it: the store's write path works on plain
ints (`store.idsets`, `store.rollup.rollup_columns`). The modules on that path name numpy as
`np = lazy.module("numpy")` (and import it for real under `TYPE_CHECKING`), so it loads the
first time something reads an attribute of it (a query, a big import's workers), and from then
on the attributes are plain lookups in the stand-in's own dict: no cost per use.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class _Lazy(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):  # (pickle, copy, introspection)
            raise AttributeError(name)
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, name)


def module(name: str) -> Any:
    """A stand-in for the module `name` that imports it when first used."""
    return _Lazy(name)
