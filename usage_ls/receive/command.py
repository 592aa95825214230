"""The receiver's faces on the command line: `usage-ls receive` and the lines `usage-ls doctor`
prints about it (`usage-ls setup <tool>`: usage_ls/setup_command.py)."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from usage_ls.config import Config, load_config, parse_listen
from usage_ls.receive.setup import DEFAULT_LISTEN


def run_receive(args: Any) -> int:
    """`usage-ls receive`: the receiver without an editor, until Ctrl-C."""
    from usage_ls.receive.receiver import Runner
    from usage_ls.service import Usage

    cfg = load_config()
    for problem in cfg.errors:
        print(f"usage-ls: config: {problem}", file=sys.stderr)
    try:
        listen = parse_listen(args.listen) if args.listen else cfg.receive_otlp or DEFAULT_LISTEN
    except ValueError as exc:
        print(f"usage-ls receive: --listen: {exc}", file=sys.stderr)
        return 2
    svc = Usage(cfg, tag="rcv").open()
    lock = threading.Lock()
    last_write = [time.monotonic()]

    def sink(records: list[dict[str, Any]]) -> dict[str, Any]:
        with lock:
            result = svc.record(records, svc.defaults(), sync=True)
        if result.get("warning"):
            print(f"usage-ls receive: {result['warning']}", file=sys.stderr)
        last_write[0] = time.monotonic()
        return result

    def say(level: str, text: str) -> None:
        print(text, file=sys.stderr if level == "warning" else sys.stdout, flush=True)

    def stored(source: str, n: int) -> None:
        if not args.quiet:
            print(f"{time.strftime('%H:%M:%S')} {source}: {n} record(s)", flush=True)

    runner = Runner(cfg.data_dir, listen, sink, say, cfg.receive_genai)
    runner.on_stored = stored
    if not runner.start(retry=False):
        runner.stop()
        svc.close()
        return 0 if runner.blocked == "usage-ls" else 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            with lock:
                svc.rotate_journal()
                due = svc.checkpoint_due(idle=time.monotonic() - last_write[0] > 30)
            if due:  # fold journals in a child process, as the language server does
                subprocess.run(
                    [sys.executable, "-m", "usage_ls", "--data-dir", str(cfg.data_dir), "checkpoint"],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                )
                with lock:
                    svc.refresh()
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
        with lock:
            svc.close()
    return 0


def doctor_lines(cfg: Config) -> tuple[list[str], list[str]]:
    """(lines to print, problems) about the OTLP receiver of this data directory."""
    from usage_ls.receive.otlp import who_listens

    if cfg.receive_otlp is None:
        return ["OTLP receiver:  off ([receive] otlp in config.toml; `usage-ls setup <tool>`)"], []
    host, port = cfg.receive_otlp
    where = f"{host}:{port}"
    other = who_listens(host, port, timeout=1.0)
    if other is None:
        if _port_free(host, port):
            return [f"OTLP receiver:  {where}: nobody listens now (an editor's server or `usage-ls receive` does)"], []
        return [], [f"OTLP receiver: {where} is taken by another program: the receiver cannot listen"]
    out = [f"OTLP receiver:  {where}: usage-ls pid {other.get('pid')} listens"]
    for source, counters in sorted((other.get("sources") or {}).items()):
        last = counters.get("lastRecord")
        when = dt.datetime.fromtimestamp(last / 1000).strftime("%Y-%m-%d %H:%M:%S") if last else "never"
        shown = ", ".join(f"{k} {v}" for k, v in sorted(counters.items()) if k != "lastRecord")
        out.append(f"  {source}: {shown}; last record {when}")
    if other.get("waiting"):
        out.append(f"  {other['waiting']} call(s) waiting for their Claude Code transcript line")
    return out, []


def _port_free(host: str, port: int) -> bool:
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1" if host == "localhost" else host, port))
        except OSError:
            return False
    return True
