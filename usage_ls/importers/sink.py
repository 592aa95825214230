"""Where a one-shot import (`usage-ls import`) writes: the ledger's files and the prices.

A bulk import writes day files directly (`store.bulk`), so it needs neither a journal nor the
query side of `service.Usage` (insights, budgets, result caches). Opening a `Usage` cost a
journal file created, fsynced and removed, a checkpoint at start and another at the end (each
rewriting `state.json`), and the import of every query module: for a small import, more than
reading the logs. `BulkSink` is the part an import uses: the pricer, the ledger's files
(`store.bulk.Intake`, not a `Ledger`: `store.bulk` takes the checkpoint lock, finishes a bulk
write that stopped half-way and reads the id index and the journals of running servers itself)
and the record defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from usage_ls import days
from usage_ls.config import Config
from usage_ls.model import Defaults, stored_fast
from usage_ls.names import settle_user
from usage_ls.pricing import Pricer
from usage_ls.store.bulk import Intake, prepare, prepared
from usage_ls.store.files import StoreFiles


class BulkSink:
    """The `Usage` attributes an import uses (`ledger`, `pricer`, `defaults`, `close`)."""

    def __init__(self, cfg: Config):
        settle_user(cfg)
        self.cfg = cfg
        self.pricer = Pricer(cfg)
        self.ledger = Intake(StoreFiles(Path(cfg.data_dir), cfg.tz), cfg.tz)  # no query side, no numpy
        self.ledger.files.make_dirs()

    def defaults(self) -> Defaults:
        return Defaults(project="(no project)", user=self.cfg.user, tz=self.cfg.tz)

    def close(self) -> None:
        self.pricer.save_cache()


def preparer(svc: Any, billing: str):
    """`store.bulk.prepare` for a tool's records (`billing`: their default), with the user, zone
    and prices of `svc` (a `BulkSink`) and the time now. Its `fields` builds a record straight
    in stored form from what an importer's fast path read (`model.stored_fast`)."""
    pricer, defaults, now = svc.pricer, svc.defaults(), days.now_ms()

    def prep(rec: dict) -> tuple:
        rec.setdefault("billing", billing)
        return prepare(pricer.apply, rec, defaults, now)

    price = pricer.price

    def fields(rec_id, ts, model, provider, project, session, inp, out, cr, cw, w1h, cost, feature):
        """`prep` of the record with these fields, built straight in stored form when they
        are plain (`stored_fast`) and priced from them; None: build the record, call `prep`."""
        rec = stored_fast(
            rec_id,
            ts,
            model,
            provider,
            billing,
            project,
            None,
            inp,
            out,
            cr,
            cw,
            w1h,
            cost,
            None,
            feature,
            session,
            defaults,
        )
        if rec is None:
            return None
        rec["costUsd"], rec["costSource"], rec["credits"] = price(
            model, provider, ts, inp, out, cr, cw, w1h, rec["costUsd"], None, billing
        )
        return prepared(rec)

    prep.fields = fields
    pricer.cache  # read once, before any worker starts  # noqa: B018
    prep.pricer = pricer  # parallel workers hand back the prices they looked up
    return prep
