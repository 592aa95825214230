"""Several machines, one team database: the team's numbers add up exactly once."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import psycopg
from team_helpers import cli, machine, record, records, rounded

from usage_ls.service import Usage
from usage_ls.team import push

sys.path.insert(0, str(Path(__file__).parent.parent / "importers"))
from ccusage_compare import clean_env
from synth_logs import claude_logs

SPAN = {"from": "2026-11-14", "to": "2026-11-20"}


def test_two_devices_of_one_user_and_a_colleague_add_up_once(tmp_path, pg, main):
    """Alice's laptop and desktop both import the same Claude Code logs (same ids) and each
    record their own; Bob records his. The team's totals equal one ledger holding each
    record once, in every query method answered by the team scope and in the CLI."""
    logs = claude_logs(tmp_path / "claude", sessions=6, days=3, start="2026-11-15")
    env = clean_env(tmp_path, CLAUDE_CONFIG_DIR=logs)
    laptop = machine(tmp_path, "laptop", "alice", pg)
    desktop = machine(tmp_path, "desktop", "alice", pg)
    bob = machine(tmp_path, "bob", "bob", pg)
    for d in (laptop, desktop):
        cli(d, "import", "claude-code", env=env)
    union = tmp_path / "union"  # every record once: what the team must show (the log imported once)
    shutil.copytree(laptop, union)
    (union / "config.toml").write_text('user = "alice"\n')
    own = {laptop: records("lap", 40), desktop: records("desk", 30, day="2026-11-17"), bob: records("bob", 25)}
    for d, recs in own.items():
        record(d, recs)
    record(union, own[laptop] + own[desktop])
    record(union, [{**r, "user": "bob"} for r in own[bob]])

    first = cli(laptop, "sync")  # by hand, as a user would
    assert "new to the team database" in first.stdout
    pushed = [push.push(d, Usage(data_dir=d).tz, pg) for d in (desktop, bob)]
    assert pushed[1].inserted == 25
    assert pushed[0].inserted == 30  # the shared Claude Code records were already there: not again
    again = push.push(laptop, Usage(data_dir=laptop).tz, pg)
    assert (again.sent, again.inserted) == (0, 0)  # the cursor: nothing is sent twice

    with psycopg.connect(pg) as conn:
        devices = conn.execute('SELECT "user", count(DISTINCT device_id) FROM usage_ls.records GROUP BY 1 ORDER BY 1')
        assert devices.fetchall() == [("alice", 2), ("bob", 1)]

    team = Usage(data_dir=laptop).open()
    truth = Usage(data_dir=union).open()
    try:
        local = team.summary(SPAN)
        expected = truth.summary(SPAN)
        assert expected["messages"] > local["messages"] > 40  # the team has more than the laptop
        for method in ("summary", "daily", "users", "projects", "token_split"):
            for extra in ({}, {"user": "alice"}, {"billing": "premium", "model": "gpt-4.1-mini"}):
                got = getattr(team, method)({**SPAN, **extra, "scope": "team"})
                want = getattr(truth, method)({**SPAN, **extra})
                assert rounded(got) == rounded(want), (method, extra)
        users = {u["user"]: u["messages"] for u in team.users({**SPAN, "scope": "team"})["users"]}
        assert users["bob"] == 25
    finally:
        team.close()
        truth.close()

    import json

    got = json.loads(
        main(desktop, "report", "daily", "--team", "--json", "--from", SPAN["from"], "--to", SPAN["to"]).stdout
    )
    truth = Usage(data_dir=union).open()
    try:
        assert rounded(got) == rounded(truth.daily(SPAN))
    finally:
        truth.close()
    table = main(bob, "report", "today", "--team", "--from", "2026-11-16").stdout
    assert "scope=team" in table and "claude-sonnet-4-5" in table


def test_team_scope_needs_the_database_configured(tmp_path, main):
    d = machine(tmp_path, "solo", "alice", None)
    done = main(d, "report", "daily", "--team")
    assert done.returncode == 2
    assert 'scope: "team" needs the team database: [sync] postgres in config.toml' in done.stderr
    off = main(d, "sync")
    assert off.returncode == 2 and "sync: off: set [sync] postgres or [export] otlp in config.toml" in off.stderr
