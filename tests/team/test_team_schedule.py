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
        assert s.due(10.0 + MIN_INTERVAL_S, seq, change_stamp(d))  # the journal grew: push (it reads journals)
        stamp = change_stamp(d)
        s.started(seq, stamp)
        s.finished(ok=True, now=20.0)
        assert not s.due(20.0 + PERIOD_S / 2, seq, stamp)  # nothing new since that push started
    finally:
        svc.close()


def test_a_push_sends_journaled_records_before_any_checkpoint_and_each_counts_once(tmp_path, pg):
    import psycopg

    from usage_ls.team import push

    d = machine(tmp_path, "m", "alice", pg)
    svc = Usage(data_dir=d).open()  # a running server: acknowledged records wait in its journal
    try:
        assert svc.record(records("j", 30))["accepted"] == 30
        assert svc.ledger.pending == 30
        first = push.push(d, svc.tz, pg)
        assert (first.sent, first.inserted) == (30, 30)  # no checkpoint needed
        assert svc.record(records("k", 12, day="2026-11-17"))["accepted"] == 12
        second = push.push(d, svc.tz, pg)
        assert (second.sent, second.inserted) == (12, 12)  # from where the journal was pushed up to
        assert push.push(d, svc.tz, pg).sent == 0
        svc.ledger.checkpoint()  # folded into day files: sent once more, inserted never again
        folded = push.push(d, svc.tz, pg)
        assert (folded.sent, folded.inserted) == (42, 0)
    finally:
        svc.close()
    with psycopg.connect(pg) as conn:
        assert conn.execute("SELECT count(*), sum(messages) FROM usage_ls.daily_models").fetchone()[1] == 42
        assert conn.execute("SELECT count(*) FROM usage_ls.records").fetchone()[0] == 42
