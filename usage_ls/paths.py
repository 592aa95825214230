"""Where usage-ls keeps its data: a leaf, light enough for a status line command's start."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_FILE = "config.toml"


def default_data_dir() -> Path:
    """`USAGE_LS_DATA_DIR`, else the platform's user data directory (platformdirs)."""
    env = os.environ.get("USAGE_LS_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("usage-ls", appauthor=False))
