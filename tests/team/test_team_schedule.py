"""When a server pushes: as soon as new records are journaled (not only after a checkpoint), at
most every MIN_INTERVAL_S, and never while the data directory is idle."""

from __future__ import annotations

from team_helpers import machine, records

from usage_ls.service import Usage
from usage_ls.store.stamp import change_stamp
from usage_ls.team.background import MIN_INTERVAL_S, PERIOD_S, SyncSchedule


def test_journaled_records_make_a_push_due_before_any_checkpoint(tmp_path):
    d = machine(tmp_path, "m", "alice", "host=/nonexistent dbname=x")
    svc = Usage(data_dir=d).open()  # as a server: records go to its journal, folded later
    try:
        s = SyncSchedule(now=0.0)
        seq = svc.ledger.checkpoint_seq
        assert s.due(10.0, seq, change_stamp(d))
        s.started(seq, change_stamp(d))
        s.finished(ok=True, now=10.0)
        assert not s.due(10.0 + 5 * MIN_INTERVAL_S, seq, change_stamp(d))  # idle: nothing to push
        assert svc.record(records("r", 3))["accepted"] == 3
        assert svc.ledger.checkpoint_seq == seq and svc.ledger.pending == 3  # not folded yet
        assert not s.due(10.0 + MIN_INTERVAL_S / 2, seq, change_stamp(d))  # not more often than that
        assert s.due(10.0 + MIN_INTERVAL_S, seq, change_stamp(d))  # the journal grew: push (it folds first)
        stamp = change_stamp(d)
        s.started(seq, stamp)
        s.finished(ok=True, now=20.0)
        assert not s.due(20.0 + PERIOD_S / 2, seq, stamp)  # nothing new since that push started
    finally:
        svc.close()
