import sys
from pathlib import Path

# the helpers beside these tests (log generator, ccusage runner)
sys.path.insert(0, str(Path(__file__).parent))
