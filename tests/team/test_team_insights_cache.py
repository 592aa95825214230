"""Team insights answered again from their cache (team/insights.Cache), through the real
protocol: the same answer while no record of the days they read arrived, a record pushed by
another machine into those days in the next answer, and the burn rate (the clock's) read anew
every time."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
from raw_server import RawServer
from team_helpers import machine, record, rounded, three_machines

from usage_ls.service import Usage
from usage_ls.team import push

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)
SPAN = {"from": (YESTERDAY - dt.timedelta(days=27)).isoformat(), "to": TODAY.isoformat(), "scope": "team"}
PAST = {"from": (TODAY - dt.timedelta(days=20)).isoformat(), "to": (TODAY - dt.timedelta(days=5)).isoformat()}


def _at(day: dt.date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def _ordinary(k: int) -> list[dict]:
    day = YESTERDAY - dt.timedelta(days=k)
    return [
        {
            "id": f"day-{k}-{h}",
            "timestamp": _at(day, h, 10),
            "model": "gpt-4.1-mini",
            "inputTokens": 2_000,
            "outputTokens": 300,
            "project": "widget",
            "session": f"s-{k}",
        }
        for h in (9, 13, 16)
    ]


def _burst(prefix: str, n: int, first: int = 0) -> list[dict]:
    """Long uncached prompts to Sonnet with short answers, yesterday at 10: a spike, and the
    cheaper-model and prompt-caching tips."""
    return [
        {
            "id": f"{prefix}-{i}",
            "timestamp": _at(YESTERDAY, 10, i % 60),
            "model": "claude-sonnet-4-5",
            "inputTokens": 40_000 + 100 * i,
            "outputTokens": 120,
            "project": "widget",
            "session": "burst",
        }
        for i in range(first, first + n)
    ]


def _cheaper(answer: dict) -> int:
    return next(t["records"] for t in answer["tips"] if t["kind"] == "cheaperModel")


def _fresh(data_dir, params: dict) -> dict:
    """What a service without a cache answers (a new process would)."""
    svc = Usage(data_dir=data_dir).open()
    try:
        return svc.insights(params)
    finally:
        svc.close()


@pytest.fixture
def team(cluster, tmp_path):
    team = three_machines(cluster, tmp_path, "cache_" + uuid.uuid4().hex[:10], 'timezone = "UTC"\n')
    record(team["laptop"], [r for k in range(1, 28) for r in _ordinary(k)] + _burst("burst", 10))
    push.push(team["laptop"], Usage(data_dir=team["laptop"]).tz, team["pg"])
    return team


def test_repeated_team_insights_come_from_the_cache_until_a_record_of_their_days_arrives(team):
    server = RawServer(team["bob"])
    try:
        server.initialize()
        first = server.request("usage/insights", SPAN, timeout=60)["result"]
        again = server.request("usage/insights", SPAN, timeout=60)["result"]
        # the second answer is the first's spikes and tips, computed once
        assert again["computedAt"] == first["computedAt"]
        assert rounded(again["spikes"]) == rounded(first["spikes"]) and rounded(again["tips"]) == rounded(first["tips"])
        assert again["burnRate"]["asOf"] >= first["burnRate"]["asOf"]  # the clock's part: read again
        assert [s["kind"] for s in first["spikes"]] == ["day", "hour"] and _cheaper(first) == 10

        # Alice's desktop pushes three more answers of yesterday's burst
        record(team["desktop"], _burst("burst", 3, first=10))
        push.push(team["desktop"], Usage(data_dir=team["desktop"]).tz, team["pg"])
        after = server.request("usage/insights", SPAN, timeout=60)["result"]
        assert after["computedAt"] != first["computedAt"]
        assert _cheaper(after) == 13 and after["spikes"][0]["value"] > first["spikes"][0]["value"]
        fresh = _fresh(team["bob"], SPAN)
        assert rounded(after["spikes"]) == rounded(fresh["spikes"]) and rounded(after["tips"]) == rounded(fresh["tips"])
        assert server.request("usage/insights", SPAN, timeout=60)["result"]["computedAt"] == after["computedAt"]
    finally:
        server.close()


def test_the_burn_rate_is_read_anew_while_a_past_range_is_kept(team):
    """A range that ended days ago: a record pushed now is not of its days (the cache holds),
    but it is in the last hour's burn rate and today's projection of the next answer."""
    past = {**PAST, "scope": "team"}
    server = RawServer(team["bob"])
    try:
        server.initialize()
        before = server.request("usage/insights", past, timeout=60)["result"]
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        one = {**_burst("now", 1)[0], "timestamp": now.isoformat().replace("+00:00", "Z")}
        record(team["desktop"], [one])
        push.push(team["desktop"], Usage(data_dir=team["desktop"]).tz, team["pg"])
        after = server.request("usage/insights", past, timeout=60)["result"]
        assert after["computedAt"] == before["computedAt"]  # no record of the range's days arrived
        assert after["burnRate"]["costUsd"] > before["burnRate"]["costUsd"] == 0.0
        assert after["projection"]["today"]["costUsd"] > before["projection"]["today"]["costUsd"]
        assert rounded(after["tips"]) == rounded(_fresh(team["bob"], past)["tips"])
    finally:
        server.close()


def test_a_members_cached_insights_follow_a_colleagues_push(tmp_path, pg, cluster, main):
    """Row-level security: Bob's login reads his own records and the team's rollups. Alice's
    push (records he cannot read) moves the rollup, so his next answer is computed again: the
    day spike (the rollup's) grows, his tips (his records) stay his."""
    owner = machine(tmp_path, "owner", "root", pg)
    assert main(owner, "sync", "--init-roles", "--apply").returncode == 0
    with psycopg.connect(pg, autocommit=True) as conn:
        for login in ("rc_alice", "rc_bob"):
            conn.execute(f"DROP ROLE IF EXISTS {login}")
            conn.execute(f"CREATE ROLE {login} LOGIN PASSWORD 'Cache-pw-1' IN ROLE usage_ls_writer")
    dbname = pg.split("dbname=")[1].split()[0]
    alice = machine(tmp_path, "alice", "rc_alice", cluster.uri(dbname, "rc_alice", "Cache-pw-1"), 'timezone = "UTC"\n')
    bob = machine(tmp_path, "bob", "rc_bob", cluster.uri(dbname, "rc_bob", "Cache-pw-1"), 'timezone = "UTC"\n')
    record(alice, [r for k in range(1, 28) for r in _ordinary(k)] + _burst("a", 10))
    record(bob, _burst("b", 4))
    assert main(alice, "sync").returncode == 0 and main(bob, "sync").returncode == 0
    server = RawServer(bob)
    try:
        server.initialize()
        first = server.request("usage/insights", SPAN, timeout=60)["result"]
        assert server.request("usage/insights", SPAN, timeout=60)["result"]["computedAt"] == first["computedAt"]
        assert _cheaper(first) == 4  # his own records only
        record(alice, _burst("a", 3, first=10))
        assert main(alice, "sync").returncode == 0
        after = server.request("usage/insights", SPAN, timeout=60)["result"]
        assert after["computedAt"] != first["computedAt"] and _cheaper(after) == 4
        day = [s["value"] for a in (first, after) for s in a["spikes"] if s["kind"] == "day"]
        assert len(day) == 2 and day[1] > day[0]
        fresh = _fresh(bob, SPAN)
        assert rounded(after["spikes"]) == rounded(fresh["spikes"]) and rounded(after["tips"]) == rounded(fresh["tips"])
    finally:
        server.close()
