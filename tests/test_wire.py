"""The stdio framing, with messages no well-behaved client sends: each is answered with an
error (to its id when it has one) and the messages after it are read as sent."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from raw_server import RawServer

from usage_ls.framing import Bad, Frames

RECORD = {"model": "gpt-4o", "inputTokens": 10, "outputTokens": 1}


def frame(body: bytes) -> bytes:
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def request(msg_id, method: str = "usage/summary", params=None) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params or {}}).encode()


def test_a_bad_content_length_is_answered_and_the_next_messages_are_read(data_dir):
    srv = RawServer(data_dir)
    try:
        srv.initialize()
        record = {"jsonrpc": "2.0", "method": "usage/record", "params": {"records": [{**RECORD, "id": "r1"}]}}
        srv.send_bytes(
            b"Content-Length: abc\r\n\r\n"
            + request(1)
            + frame(json.dumps(record).encode())
            + b"Content-Length: 12345678901234567890\r\n\r\n"
            + request("two")
            + frame(request(3))
        )
        three = srv.wait_for(3)
        assert three["result"]["messages"] == 1  # the notification after the bad header was stored
        errors = {m["id"]: m["error"] for m in srv.others}
        assert errors[1]["code"] == -32700 and "Content-Length" in errors[1]["message"]
        assert errors["two"]["code"] == -32700 and "Content-Length" in errors["two"]["message"]
        # the editor's log says what happened, once per message
        logged = [n["params"]["message"] for n in srv.notifications if n["method"] == "window/logMessage"]
        assert sum("Content-Length" in m for m in logged) == 2
        # a bad header as the last thing sent is answered without waiting for another message
        srv.send_bytes(b"Content-Length: -5\r\n\r\n" + request(4))
        assert srv.wait_for(4)["error"]["code"] == -32700
        assert srv.request("usage/summary")["result"]["messages"] == 1
    finally:
        srv.close()


def test_json_nested_200000_deep_gets_a_parse_error_and_the_server_goes_on(data_dir):
    srv = RawServer(data_dir)
    try:
        srv.initialize()
        deep = b"[" * 200_000 + b"]" * 200_000
        srv.send_body(b'{"jsonrpc":"2.0","id":7,"method":"usage/summary","params":{"from":' + deep + b"}}")
        answer = srv.wait_for(7)
        assert answer["error"]["code"] == -32700 and "nested too deeply" in answer["error"]["message"]
        # the id after the nesting is found too; a notification gets an error to id null
        srv.send_body(b'{"jsonrpc":"2.0","method":"usage/record","params":{"records":' + deep + b'},"id":"late"}')
        assert srv.wait_for("late")["error"]["code"] == -32700
        srv.send_body(b'{"jsonrpc":"2.0","method":"usage/record","params":{"records":' + deep + b"}}")
        assert srv.request("usage/record", {"records": [RECORD]})["result"]["accepted"] == 1
        assert any(m.get("id") is None and m["error"]["code"] == -32700 for m in srv.others)
        # not JSON, and JSON that is not a JSON-RPC message: answered too
        srv.send_body(b'{"jsonrpc":"2.0","id":8,"method":"usage/summary",')
        assert srv.wait_for(8)["error"]["code"] == -32700
        srv.send_body(b'{"id":9,"method":"usage/summary"}')
        assert srv.wait_for(9)["error"]["code"] == -32600
        assert srv.request("usage/summary")["result"]["messages"] == 1
        assert srv.proc.poll() is None
    finally:
        srv.close()


# -- the framing alone, with the stream cut anywhere ----------------------------------------

strings = st.text(alphabet=st.sampled_from('ab{}[]"\\:, \r\n\tü€😀'), max_size=12)
ids = st.one_of(st.integers(-(2**40), 2**40), st.text(alphabet="abc-0", min_size=1, max_size=6))
items = st.lists(
    st.tuples(st.sampled_from(["ok", "bad length", "no header", "junk then ok", "broken then ok"]), ids, strings),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(items=items, cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_frames_hand_out_every_message_once_however_the_stream_is_cut(items, cuts):
    stream, want = b"", []
    for kind, msg_id, text in items:
        body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "m", "params": {"s": [text, {"t": text}]}})
        data = body.encode()
        if kind == "ok":
            stream += frame(data)
            want.append(("body", msg_id))
        elif kind == "bad length":
            stream += b"Content-Length: " + text.encode()[:3].strip(b"0123456789") + b"x\r\n\r\n" + data
            want.append(("bad", msg_id))
        elif kind == "no header":
            stream += data
            want.append(("bad", msg_id))
        elif kind == "junk then ok":
            stream += b"stray bytes" + frame(data)
            want += [("bad", None), ("body", msg_id)]
        else:  # JSON broken off (in a string) where the next message starts
            stream += b'{"jsonrpc":"2.0","s":"' + text.replace('"', "").replace("\\", "").encode() + frame(data)
            want += [("bad", None), ("body", msg_id)]
    frames, got = Frames(), []
    edges = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    for a, b in itertools.pairwise(edges):
        got += frames.feed(stream[a:b])
    got += frames.close()
    seen = [("bad", x.id) if isinstance(x, Bad) else ("body", json.loads(x)["id"]) for x in got]
    assert seen == want
