"""What each running server's log watcher watches, for `usage-ls doctor`: kept in
`<data_dir>/live/<pid>.json` while the server runs (the tools, how each is watched, when each
last gave a record), read by the doctor, which lists those whose process is alive."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import orjson

from usage_ls import fileio

log = logging.getLogger(__name__)

STATUS_DIR = "live"  # <data_dir>/live/<pid>.json: what each running server watches (`usage-ls doctor`)


def write_status(data_dir: Path, live: Any) -> None:
    """Say what this server watches and how, for `usage-ls doctor`; None: it watches no more."""
    path = Path(data_dir) / STATUS_DIR / f"{os.getpid()}.json"
    try:
        if live is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fileio.atomic_write(path, orjson.dumps({"pid": os.getpid(), "sources": live.sources()}), durable=False)
    except OSError as exc:  # the doctor would not know; the watching goes on
        log.info("live import: cannot write %s: %s", path, exc)


def read_status(data_dir: Path) -> list[dict]:
    """What the running servers of this data directory watch: [{pid, sources}] (`usage-ls doctor`)."""
    out = []
    for path in sorted((Path(data_dir) / STATUS_DIR).glob("*.json")):
        try:
            doc = orjson.loads(path.read_bytes())
            pid = int(doc["pid"])
            os.kill(pid, 0)
        except ProcessLookupError:
            continue  # left by a server that was killed
        except PermissionError:
            pass
        except (OSError, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            continue
        out.append(doc)
    return out


def doctor_lines(data_dir: Path) -> list[str]:
    """`usage-ls doctor`: which servers watch which tools' logs, how, and their last records."""
    from usage_ls.render.status import source_line
    from usage_ls.render.text import plain

    running = read_status(data_dir)
    if not running:
        return ["log watcher:    no editor's server watches the tools' logs now ([import] watch in config.toml)"]
    out = []
    for doc in running:
        out.append(f"log watcher:    usage-ls pid {doc['pid']} watches")
        out += [f"  {source_line(s, plain)}" for s in doc.get("sources") or [] if isinstance(s, dict) and "tool" in s]
    return out
