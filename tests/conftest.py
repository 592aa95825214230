import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# days in tests are computed in a fixed zone unless a test says otherwise
os.environ.setdefault("TZ", "UTC")
# the price cache (usage_ls.price_cache.PriceCache) of this test run, never the user's
os.environ.setdefault("USAGE_LS_CACHE_DIR", tempfile.mkdtemp(prefix="usage-ls-test-cache-"))


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("USAGE_LS_DATA_DIR", str(d))
    return d


# servers started by tests watch no tool's logs unless a test asks (the default, "auto", would
# read this machine's ~/.claude, ~/.codex, ...)
os.environ.setdefault("USAGE_LS_WATCH", "off")
