"""Property-based fuzzing of the real server over stdio: malformed messages to every method.

The server must never die or hang: every request gets a result or a JSON-RPC error; records
are rejected by field; nothing half-valid is stored; memory stays bounded.
USAGE_LS_FUZZ_EXAMPLES raises the count (the reliability benchmark runs tens of thousands).
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_server import RawServer

from usage_ls.model import Defaults, validate_record

EXAMPLES = int(os.environ.get("USAGE_LS_FUZZ_EXAMPLES", "1200"))
METHODS = [
    "usage/record",
    "usage/summary",
    "usage/tokenSplit",
    "usage/projects",
    "usage/users",
    "usage/daily",
    "usage/interactions",
    "usage/statusBar",
    "textDocument/hover",
    "usage/nope",
    "initialize",
    "$/cancelRequest",
]
FIELDS = [
    "id",
    "timestamp",
    "model",
    "provider",
    "billing",
    "project",
    "user",
    "inputTokens",
    "outputTokens",
    "cacheReadTokens",
    "cacheWriteTokens",
    "cacheWrite1hTokens",
    "costUsd",
    "credits",
    "feature",
    "session",
    "from",
    "to",
    "limit",
    "offset",
    "sort",
    "records",
    "textDocument",
    "position",
    "prompt",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["2026-11-21", "2026-11-21T10:00:00Z", "premium", "byok", "gpt-4o", "-costUsd", "", "NaN"]),
    st.just("x" * 300_000),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=10)), children, max_size=8),
    ),
    max_leaves=30,
)
records = st.lists(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=10), max_size=6)
VALID = {"model": "gpt-4o", "inputTokens": 10, "outputTokens": 5, "timestamp": "2026-11-21T10:00:00Z"}
near_valid = st.builds(
    lambda field, value, drop, i: {**{k: v for k, v in VALID.items() if k != drop}, field: value, "id": f"nv-{i}"},
    st.sampled_from(FIELDS),
    json_values,
    st.sampled_from([None, *VALID]),
    st.integers(0, 10**6),
)
params = st.one_of(
    json_values,
    st.fixed_dictionaries({"records": records}),
    st.fixed_dictionaries({"records": st.lists(near_valid, min_size=1, max_size=5)}),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
)
raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.just(b"[" * 50_000 + b"]" * 50_000),
    st.just(b'{"jsonrpc":"2.0","method":"usage/record","params":{"records":[{"model":"\xff\xfe"}]}}'),
    st.just(b"{}"),
    st.just(b"null"),
)
# bytes outside the framing, sent unframed: the request after them must be answered all the same
raw_junk = st.one_of(
    st.sampled_from(
        [
            b"Content-Length: abc\r\n\r\n",
            b'Content-Length: abc\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"usage/summary"}',
            b"Content-Length: 99999999999999999999\r\n\r\n[[[",
            b'{"jsonrpc":"2.0","method":"usage/summary","params":{}}',
            b"\r\n\r\n",
            b"stray text",
            b"\x00\xff{",
        ]
    ),
    st.binary(max_size=50).filter(lambda b: b"ength" not in b.lower()),
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz") / "data"
    srv = RawServer(data)
    srv.initialize()
    yield srv
    srv.close()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(
    method=st.sampled_from(METHODS),
    p=params,
    as_request=st.booleans(),
    raw=st.one_of(st.none(), raw_bodies),
    junk=st.one_of(st.none(), st.none(), raw_junk),
)
def test_no_message_kills_hangs_or_half_stores(server, method, p, as_request, raw, junk):
    if raw is not None:
        server.send_body(raw)
    if junk is not None:
        server.send_bytes(junk)
    if as_request:
        answer = server.request(method, p, timeout=20)
        assert "result" in answer or ("error" in answer and answer["error"]["message"])
        if method == "usage/record" and "result" in answer:
            server.accepted = getattr(server, "accepted", 0) + answer["result"]["accepted"]
            for r in answer["result"]["rejected"]:
                assert r["field"] and r["message"]
    elif method != "usage/record":  # notifications carry no answer; records are checked via requests
        server.send({"jsonrpc": "2.0", "method": method, "params": p})
    assert server.proc.poll() is None, "the server died"


def test_after_fuzzing_the_ledger_holds_only_valid_records(server):
    assert server.proc.poll() is None
    decades = [{"from": f"{y}-01-01", "to": f"{y + 9}-12-31"} for y in range(2000, 2100, 10)]
    stored = sum(server.request("usage/summary", d)["result"]["messages"] for d in decades)
    assert stored == getattr(server, "accepted", 0)
    defaults = Defaults(project="p", user="u", tz=dt.UTC)
    for d in decades:
        page = server.request("usage/interactions", {**d, "limit": 10000})["result"]
        for row in page["rows"]:
            original = {
                k: row[k]
                for k in (
                    "id",
                    "timestamp",
                    "model",
                    "billing",
                    "project",
                    "user",
                    "inputTokens",
                    "outputTokens",
                    "cacheReadTokens",
                    "cacheWriteTokens",
                    "cacheWrite1hTokens",
                )
            }
            validate_record(original, defaults)  # raises if anything half-valid got in
            assert "prompt" not in row
    rss = server.rss_mb()
    print(f"fuzz: {EXAMPLES} examples, server alive, {stored} valid records stored, RSS {rss:.0f} MB")
    assert rss < 400, f"server memory grew to {rss:.0f} MB"
