"""Fast paths must give exactly what the plain code gives.

- `marked_lines` finds a log's usage lines without splitting the file: it must agree with the
  plain reading (split into lines, keep those with the mark, flag the others).
- `idsets` sorts 64-bit id sets itself (numpy 2.4's np.unique is slow on them): same result.
  Its numpy-free twins (a small import never loads numpy) read and write `np.save`'s bytes and
  look up and merge ids as numpy does; `rollup_columns` writes the rollup columns file that
  numpy's `rollup_to_bytes` writes, byte for byte.
- The price cache (`price_cache.PriceCache`) keeps what genai-prices said between runs: prices read
  back from it must equal genai-prices' own, and a cache from another genai-prices data file,
  or a damaged one, is not used.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usage_ls.importers.lines import FileResult, marked_lines

# -- marked lines -------------------------------------------------------------------------------

MARK = b'"usage"'
MARKS = (b"StatusUpdate", b'"usage"')  # several, without a common first byte (as Qwen's)
_LINES = [
    b'{"message":{"usage":{"input_tokens":1}}}',
    b'{"type":"user"}',
    b"",
    b"   ",
    b"\t",
    b"garbage",
    b'{"note":"usage"}\r',
    b'{"usage":1,"usage":2}',
    b'{"a":1}\r',
    b'{"type":"StatusUpdate","usage":1}',
    b'{"type":"StatusUpdate"}',
    b' {"a":1} ',
    b'"usage"',
    b'{"cut":"usage',
    b"}",
    b"{",
    '{"é":"✓"}'.encode(),
]


def _plain_reading(data: bytes, final: bool, marks: tuple[bytes, ...] = (MARK,)):
    """What `marked_lines` promises, the slow obvious way."""
    lo = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # a byte order mark is no line's part
    body = max(lo, data.rfind(b"\n") + 1)
    tail = data[body:]
    bad: list[int] = []
    left = 0
    if tail.strip():
        try:
            orjson.loads(tail)
            body = len(data)  # a finished last line without a newline
        except orjson.JSONDecodeError:
            left = int(final)  # still being written: left for next time, said when final
    out, gap, at = [], False, lo
    for line in data[lo:body].split(b"\n"):
        if any(m in line for m in marks):
            out.append((at, line, gap))
            gap = False
        else:
            if line.strip():
                gap = True
            if line and not (line.strip().startswith(b"{") and line.strip().endswith(b"}")):
                bad.append(at)
        at += len(line) + 1
    return out, gap, min(bad) if bad else None, len(bad), min(body, len(data)), left


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=14), st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_marked_lines_is_the_plain_reading(tmp_path_factory, lines, newline_at_end, final, bom, several):
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    path = Path(tmp_path_factory.mktemp("ml")) / "log.jsonl"
    path.write_bytes(data)
    result = FileResult(end=0)
    out, gap_after = marked_lines(path, 0, result, MARKS if several else MARK, final=final)
    want, want_gap, first_bad, n_bad, end, left = _plain_reading(data, final, MARKS if several else (MARK,))
    assert [(o, bytes(line), g) for o, line, g in out] == want
    assert gap_after == want_gap
    assert result.end == end
    assert result.unreadable == n_bad
    assert result.left == left
    assert (result.first_offset if result.first_problem else None) == first_bad


# -- price cache --------------------------------------------------------------------------------


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("USAGE_LS_CACHE_DIR", str(tmp_path))
    return tmp_path


def _priced(pricer, model: str, ts: int, inp: int) -> float | None:
    rates = pricer.rates(model, None, ts, inp)
    return None if rates is None else rates.cost(inp, 100, 0, 0, 0)


def test_prices_read_back_from_the_cache_are_genai_prices_own(cache_dir):
    from usage_ls.config import load_config
    from usage_ls.pricing import Pricer

    cfg = load_config(cache_dir / "data")
    ts = 1_763_600_000_000
    cases = [
        ("claude-sonnet-4-5", 1_000),
        ("claude-sonnet-4-5", 250_000),
        ("gpt-4.1-mini", 5_000),
        ("no-such-model-x", 10),
    ]
    fresh = Pricer(cfg)
    want = [_priced(fresh, m, ts, n) for m, n in cases]
    assert want[0] is not None and want[1] is not None and want[0] != want[1] / 250  # a tiered model
    assert want[3] is None  # unknown: unpriced, never $0
    fresh.save_cache()
    doc = orjson.loads((cache_dir / "prices.json").read_bytes())
    assert len(doc["days"]) == 3  # (model, provider, day) entries

    again = Pricer(cfg)
    assert [_priced(again, m, ts, n) for m, n in cases] == want
    assert again._snap is None, "prices came from the cache: genai-prices was never loaded"


def test_a_cache_from_other_price_data_or_damaged_is_not_used(cache_dir):
    from usage_ls.config import load_config
    from usage_ls.pricing import Pricer

    cfg = load_config(cache_dir / "data")
    ts = 1_763_600_000_000
    p = Pricer(cfg)
    want = _priced(p, "claude-sonnet-4-5", ts, 1_000)
    p.save_cache()
    path = cache_dir / "prices.json"
    doc = orjson.loads(path.read_bytes())
    key = next(iter(doc["days"]))
    doc["days"][key][1][0] = [9.0] * 6  # absurd rates
    path.write_bytes(orjson.dumps({**doc, "sig": "another genai-prices"}))
    assert _priced(Pricer(cfg), "claude-sonnet-4-5", ts, 1_000) == want
    path.write_bytes(b"{not json")
    assert _priced(Pricer(cfg), "claude-sonnet-4-5", ts, 1_000) == want
    blocker = cache_dir / "a-file"
    blocker.write_text("")
    os.environ["USAGE_LS_CACHE_DIR"] = str(blocker / "cache")  # a cache folder that cannot be made
    q = Pricer(cfg)
    assert _priced(q, "claude-sonnet-4-5", ts + 86_400_000, 1_000) is not None
    q.save_cache()  # quietly not kept: pricing still works


# -- id sets ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=200), st.lists(st.integers(0, 50), max_size=200))
def test_id_sets_are_numpys_own(big, small):
    import numpy as np

    from usage_ls.store.idsets import union_ids, unique_ids

    a = np.array(big + big[: len(big) // 2], dtype=np.uint64)  # with repeats
    b = np.array(small, dtype=np.uint64)
    assert np.array_equal(unique_ids(a), np.unique(a)) and unique_ids(a).dtype == np.uint64
    assert np.array_equal(union_ids(a, b), np.union1d(a, b))
    assert np.array_equal(union_ids(a[:0], b[:0]), np.union1d(a[:0], b[:0]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300), st.lists(st.integers(0, 2**64 - 1), max_size=100))
def test_id_sets_without_numpy_are_numpys_own(held, new):
    import io

    import numpy as np

    from usage_ls.store import idsets

    ids = idsets.unique_ids(np.array(held, dtype=np.uint64))
    saved = io.BytesIO()
    np.save(saved, ids, allow_pickle=False)
    assert idsets.npy_bytes(ids) == saved.getvalue()  # the id index file, written either way
    plain = idsets.from_npy(saved.getvalue())
    assert plain.tolist() == ids.tolist() and idsets.npy_bytes(plain) == saved.getvalue()
    asked = new + held[: len(held) // 3]
    want = idsets.member(ids, np.array(asked, dtype=np.uint64)).tolist()
    assert idsets.bisected(plain, asked) == want and idsets.contains(plain, asked) == want
    union = idsets.union_ids(ids, np.array(asked, dtype=np.uint64)).tolist()
    assert idsets.spliced(plain, sorted(set(asked))).tolist() == union and idsets.merged(plain, asked).tolist() == union


def test_an_id_index_not_as_written_is_refused_by_the_plain_reader():
    from usage_ls.store import idsets

    good = idsets.npy_bytes(idsets.id_array([1, 5, 9]))
    for bad in (b"", good[:20], good[:-1], good.replace(b"<u8", b">u8"), b"\x93NUMPY\x02\x00" + good[8:]):
        with pytest.raises(ValueError):
            idsets.from_npy(bad)


_ROW = st.tuples(
    st.sampled_from(["m1", "m2", "claude-sonnet-4-5"]),
    st.sampled_from(["p", "(no project)", "é"]),
    st.sampled_from(["u", "v"]),
    st.sampled_from(["byok", "premium"]),
    st.lists(st.one_of(st.integers(0, 10**9), st.floats(0, 1e6)), min_size=8, max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.dates().map(lambda d: d.isoformat()),
        st.tuples(st.lists(_ROW, max_size=4), st.booleans(), st.lists(st.floats(0, 100), min_size=50, max_size=50)),
        max_size=5,
    )
)
def test_rollup_columns_without_numpy_are_numpys_own(table):
    from usage_ls.store.rollup import Names, rollup_chunk, rollup_columns, rollup_to_bytes

    days = {}
    for day, (rows, with_hours, hours) in table.items():
        days[day] = {"rows": [[m, p, u, b, *metrics] for m, p, u, b, metrics in rows]}
        if with_hours:
            days[day]["hours"] = [hours[:25], hours[25:]]
    names = Names.fresh()
    chunk, hourly = rollup_chunk(days, names)
    assert rollup_columns(days, [7, 8]) == rollup_to_bytes(chunk, hourly, [7, 8], names)


# -- Claude Code lines --------------------------------------------------------------------------

_LINE = {
    "parentUuid": "p1",
    "isSidechain": False,
    "userType": "external",
    "cwd": "/home/ann/widget",
    "sessionId": "s-1",
    "version": "2.0.14",
    "gitBranch": "main",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": 'ok {"usage": 1}'}],
        "stop_reason": None,
        "usage": {
            "input_tokens": 3,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 2000,
            "cache_creation": {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40},
            "output_tokens": 50,
            "service_tier": "standard",
        },
    },
    "requestId": "req_1",
    "type": "assistant",
    "uuid": "u1",
    "timestamp": "2026-11-20T10:00:00.000Z",
}
_PATHS = [
    ("isSidechain",),
    ("cwd",),
    ("sessionId",),
    ("version",),
    ("requestId",),
    ("timestamp",),
    ("costUSD",),
    ("isApiErrorMessage",),
    ("message",),
    ("message", "id"),
    ("message", "model"),
    ("message", "usage"),
    ("message", "usage", "input_tokens"),
    ("message", "usage", "output_tokens"),
    ("message", "usage", "cache_read_input_tokens"),
    ("message", "usage", "cache_creation_input_tokens"),
    ("message", "usage", "cache_creation"),
    ("message", "usage", "cache_creation", "ephemeral_1h_input_tokens"),
    ("message", "usage", "cache_creation", "ephemeral_5m_input_tokens"),
    ("message", "usage", "speed"),
    ("message", "stop_reason"),
]
_ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.just(2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", " ", "x", "1.0.3", "v2", "2026-11-20T10:00:00Z", "2026-11-20T10:00:00", "fast", "/tmp/x"]),
    st.builds(dict),
    st.builds(list),
    st.builds(lambda: {"input_tokens": 1, "output_tokens": 2}),
    st.just("DELETE"),
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _ODD), max_size=3))
def test_claude_fast_path_takes_a_line_only_as_the_slow_path_does(changes):
    import copy

    from usage_ls.importers import claude_lines as cc

    obj = copy.deepcopy(_LINE)
    for path, value in changes:
        node = obj
        for k in path[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, dict):
            if value == "DELETE":
                node.pop(path[-1], None)
            else:
                node[path[-1]] = value
    line = orjson.dumps(obj)
    fast = cc.fast_entry(line, None, "fallback", {})
    slow, problem = cc.slow_entry(orjson.loads(line), None, "fallback", {})
    if fast is None:
        return  # the slow path decides, with its reason
    assert problem is None, f"fast path took a line the slow path refuses: {problem}"
    assert fast[:4] == slow[:4] and fast.cost == slow.cost and fast.done == slow.done
    assert cc.build_record(*fast.record) == slow.record


def test_claude_fast_path_takes_the_plain_line():
    from usage_ls.importers import claude_lines as cc

    fast = cc.fast_entry(orjson.dumps(_LINE), None, "fallback", {})
    assert fast is not None and fast.total == 3 + 50 + 2000 + 100
