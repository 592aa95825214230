"""Journal reading: what re-validating every line read from a journal costs.

    .venv/bin/python bench/journal_bench.py                 # 20,000 records
    .venv/bin/python bench/journal_bench.py --records 200000

Journals one process wrote are read by every other process (the overlay: `Ledger.refresh`)
and by checkpoints (`read_lines`); each line read from disk is checked again with the rules of
`usage/record` (a line on disk could have been written by anything). This writes N records
through the real ingest path (the server bench's records), then times, best of `--repeat`:
`read_lines` over the whole journal, and a second process's catching up (a read-only ledger
opening and reading every line into its overlay). Figures only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    os.environ.setdefault("TZ", "UTC")

    from server_bench import generate

    from usage_ls.service import Usage
    from usage_ls.store.journal import read_lines

    work = Path(tempfile.mkdtemp(prefix="usage-ls-journal-bench-"))
    try:
        svc = Usage(data_dir=work / "data", tag="bench").open()
        records = generate(args.records, args.days, svc.tz)
        for i in range(0, len(records), 50_000):
            svc.record(records[i : i + 50_000], sync=False)
        svc.ledger.sync()
        journal = svc.ledger.writer.path
        n = len(read_lines(journal, 0)[0])
        size = journal.stat().st_size
        print(f"usage-ls journal bench: {n:,} lines, {size / 1e6:.1f} MB, Python {sys.version.split()[0]}")

        t = best(lambda: read_lines(journal, 0), args.repeat)
        print(f"  read_lines over the whole journal      {t * 1000:8.1f} ms  {t / n * 1e6:6.2f} us/line")

        def catch_up():
            other = Usage(data_dir=work / "data", writable=False).open()
            assert other.ledger.pending == n

        t = best(catch_up, args.repeat)
        print(f"  another process catching up (overlay)  {t * 1000:8.1f} ms  {t / n * 1e6:6.2f} us/line")
        svc.ledger.close(checkpoint=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
