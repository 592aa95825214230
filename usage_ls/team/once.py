"""One sync of a data directory: the team push, then the OTLP export; used by `usage-ls sync`
(team/command.py) and by the server's push worker (team/worker.py)."""

from __future__ import annotations

from usage_ls.config import Config
from usage_ls.team import push, state
from usage_ls.team.db import TeamError
from usage_ls.team.secrets import shown


def sync_once(
    cfg: Config,
    quiet: bool = True,
    link: push.Link | None = None,
    out: push.Outcome | None = None,
    export: bool = True,
) -> list[str]:
    """One sync: the team push (journals too: no fold first, its cost grows with the day), then
    the OTLP export (unless `export` is False); the errors (masked). `link`: the push worker's
    kept connection; `out` gets the push's counts."""
    errors: list[str] = []
    done: push.Outcome | None = None
    if cfg.sync_postgres is not None:
        try:
            done = push.push(cfg.data_dir, cfg.tz, cfg.sync_postgres, link=link)
        except TeamError as exc:
            if link is None or link.fresh:
                errors.append(str(exc))
            else:  # a kept connection the database closed while idle (or killed): once more, on a new one
                try:
                    done = push.push(cfg.data_dir, cfg.tz, cfg.sync_postgres, link=link)
                except TeamError as again:
                    errors.append(str(again))
        if done is not None and out is not None:
            out.sent, out.inserted, out.batches, out.busy = done.sent, done.inserted, done.batches, done.busy
        if done is not None and not quiet:
            if done.busy:
                print("another usage-ls process of this data directory is pushing; nothing to do here")
            else:
                print(
                    f"pushed {done.sent} record(s) in {done.batches} batch(es); {done.inserted} new to the team database"
                )
    if cfg.export_otlp is not None and export:
        _checkpoint(cfg)  # the export reads day files only
        error = _export(cfg, quiet)
        if error:
            errors.append(error)
    return errors


def _export(cfg: Config, quiet: bool) -> str | None:
    from usage_ls.team import otlp_out

    try:
        done = otlp_out.export_new(cfg.data_dir, cfg.tz, cfg.export_otlp or "", cfg.export_headers)
    except TeamError as exc:
        state.write_status(cfg.data_dir, otlpLastError=str(exc), otlpLastErrorAt=state.now_ms())
        return str(exc)
    if not done.busy:
        state.write_status(cfg.data_dir, otlpLastSuccess=state.now_ms(), otlpLastError=None)
    if not quiet:
        if done.busy:
            print("another usage-ls process of this data directory is exporting; nothing to do here")
        elif done.first:
            print("OTLP export: started; records stored before now are not sent (metrics have no past)")
        else:
            print(f"OTLP export: {done.records} record(s) sent to {shown(otlp_out.metrics_url(cfg.export_otlp or ''))}")
    return None


def _checkpoint(cfg: Config) -> None:
    """Fold journals first: the OTLP export reads day files only."""
    from usage_ls.store.ledger import Ledger

    ledger = Ledger(cfg.data_dir, cfg.tz)
    ledger.files.make_dirs()
    ledger.checkpoint(blocking=True)
