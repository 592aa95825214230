"""The OTLP receiver, end to end: the real OpenTelemetry SDK exporters (protobuf and JSON) and
plain HTTP posts to `usage-ls receive`, totals read back with `usage-ls report`."""

from __future__ import annotations

import gzip
import json

import pytest
from otlp_helpers import (
    ReceiverProcess,
    claude_event,
    cli,
    codex_event,
    gemini_event,
    logs_request,
    models,
    post,
    report,
    sdk_logs,
    tokens,
)

from usage_ls.receive import wire


def test_tool_events_through_the_sdk_exporter_give_exact_totals(data_dir):
    with ReceiverProcess(data_dir) as rx:
        sdk_logs(
            rx.url,
            "claude-code",
            [
                claude_event("req_A"),
                claude_event(
                    "req_B",
                    input_tokens=7,
                    output_tokens=3,
                    cache_read_tokens=0,
                    cache_creation_tokens=0,
                    cache_creation_5m_tokens=0,
                    cache_creation_1h_tokens=0,
                    cost_usd_micros=66,
                    query_source="subagent",
                    **{"agent.name": "code-reviewer", "mcp_server.name": "github"},
                ),
                ("claude_code.user_prompt", {"event.name": "user_prompt", "prompt_length": 2}),
            ],
        )
        sdk_logs(
            rx.url,
            "codex_exec",
            [
                codex_event(),
                # the same kind is also sent without counts (not usage), and other kinds
                codex_event(**{k: None for k in ("input_token_count", "output_token_count", "cached_token_count")}),
                codex_event(**{"event.kind": "response.created"}),
            ],
        )
        sdk_logs(rx.url, "gemini-cli", [gemini_event()])
    by_model = models(data_dir)
    # Claude: input excludes cache; cache writes 200 of which 50 are 1-hour
    assert tokens(by_model["claude-sonnet-4-5"]) == (2, 107, 53, 1000, 200)
    # Codex: cached (400) is part of input (1000); reasoning is part of output
    assert tokens(by_model["gpt-5"]) == (1, 600, 70, 400, 0)
    # Gemini: cached (300) part of input; thoughts (15) are output
    assert tokens(by_model["gemini-2.5-pro"]) == (1, 600, 75, 300, 0)
    rows = {r["id"]: r for r in report(data_dir, "interactions")["rows"]}
    a, b = rows["claude-code:otel:req_A"], rows["claude-code:otel:req_B"]
    assert (a["costUsd"], a["costSource"], a["session"], a["feature"]) == (0.0021, "reported", "sess-1", "claude-code")
    assert b["feature"] == "claude-code agent=code-reviewer mcp=github query=subagent"
    assert b["costUsd"] == pytest.approx(0.000066)


def test_json_exporter_with_gzip_and_a_chunked_body(data_dir):
    with ReceiverProcess(data_dir) as rx:
        sdk_logs(rx.url, "claude-code", [claude_event("req_J1")], exporter="json", gzip=True)
        sdk_logs(rx.url, "gemini-cli", [gemini_event()], exporter="json")
        # the JavaScript exporters (Gemini CLI) send chunked bodies with no Content-Length
        body = json.dumps(
            {
                "resourceLogs": [
                    {
                        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
                        "scopeLogs": [
                            {
                                "logRecords": [
                                    {
                                        "timeUnixNano": "1796567518224000000",
                                        "traceId": "5b8efff798038103d269b633813fc60c",
                                        "spanId": "eee19b7ec3c1b174",
                                        "body": {"stringValue": "claude_code.api_request"},
                                        "attributes": [
                                            {"key": k, "value": v}
                                            for k, v in (
                                                ("request_id", {"stringValue": "req_J2"}),
                                                ("model", {"stringValue": "claude-sonnet-4-5"}),
                                                ("input_tokens", {"intValue": "11"}),  # int64 as a string
                                                ("output_tokens", {"intValue": 4}),  # or a number
                                                (
                                                    "event.timestamp",
                                                    {"stringValue": claude_event("x")[1]["event.timestamp"]},
                                                ),
                                            )
                                        ],
                                    }
                                ]
                            }
                        ],
                    }
                ]
            }
        ).encode()
        status, headers, reply = _chunked_post(rx.port, "/v1/logs", body)
        assert (status, headers.get("content-type"), reply) == (200, "application/json", b"{}")
    by_model = models(data_dir)
    assert tokens(by_model["claude-sonnet-4-5"]) == (2, 111, 54, 1000, 200)
    assert tokens(by_model["gemini-2.5-pro"]) == (1, 600, 75, 300, 0)


def _chunked_post(port: int, path: str, body: bytes) -> tuple[int, dict, bytes]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for i in range(0, len(body), 100):
        part = body[i : i + 100]
        conn.send(b"%x\r\n%s\r\n" % (len(part), part))
    conn.send(b"0\r\n\r\n")
    resp = conn.getresponse()
    out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    conn.close()
    return out


def test_a_retried_batch_counts_once_and_replies_follow_the_spec(data_dir):
    body = logs_request("claude-code", [claude_event("req_R1"), claude_event("req_R2")]).SerializeToString()
    with ReceiverProcess(data_dir) as rx:
        for _ in range(3):  # the exporter retries (e.g. our reply was lost)
            status, headers, reply = post(rx.url + "/v1/logs", body)
            # success: an empty ExportLogsServiceResponse, protobuf like the request
            assert (status, headers["Content-Type"], reply) == (200, "application/x-protobuf", b"")
        # an empty request is a success too, in either encoding
        assert post(rx.url + "/v1/logs", b"")[0::2] == (200, b"")
        assert post(rx.url + "/v1/metrics", b"{}", "application/json")[0::2] == (200, b"{}")
    assert tokens(models(data_dir)["claude-sonnet-4-5"]) == (2, 200, 100, 2000, 400)


def test_partial_success_names_the_rejected_event_and_keeps_the_rest(data_dir):
    bad = claude_event("req_bad", input_tokens="lots")
    body = logs_request("claude-code", [claude_event("req_ok"), bad]).SerializeToString()
    with ReceiverProcess(data_dir) as rx:
        status, _, reply = post(rx.url + "/v1/logs", body)
        assert status == 200
        response = wire.SIGNALS["/v1/logs"].response.FromString(reply)
        assert response.partial_success.rejected_log_records == 1
        assert "input_tokens" in response.partial_success.error_message
        # JSON in, JSON out
        status, _, reply = post(rx.url + "/v1/logs", _json_of(body), "application/json")
        partial = json.loads(reply)["partialSuccess"]
        assert (status, partial["rejectedLogRecords"]) == (200, "1")
    assert tokens(models(data_dir)["claude-sonnet-4-5"]) == (1, 100, 50, 1000, 200)


def _json_of(proto_body: bytes) -> bytes:
    from google.protobuf import json_format

    msg = wire.SIGNALS["/v1/logs"].request.FromString(proto_body)
    return json.dumps(json_format.MessageToDict(msg)).encode()


def test_bad_requests_are_refused_and_store_nothing(data_dir, monkeypatch):
    good = logs_request("claude-code", [claude_event("req_should_not_count")]).SerializeToString()
    with ReceiverProcess(data_dir) as rx:
        logs = rx.url + "/v1/logs"
        cases = [
            # malformed bodies: 400 with a google.rpc.Status naming the problem
            (post(logs, b"\xff\xff\xff\xff"), 400, "protobuf"),
            (post(logs, good[:-3]), 400, "protobuf"),
            (post(logs, b'{"resourceLogs": [', "application/json"), 400, "not JSON"),
            (post(logs, b'{"resourceLogs": 7}', "application/json"), 400, "ExportLogsServiceRequest"),
            (
                post(
                    logs,
                    b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "zz"}]}]}]}',
                    "application/json",
                ),
                400,
                "traceId",
            ),
            (post(logs, b"not gzip", headers={"Content-Encoding": "gzip"}), 400, "gzip"),
            (post(logs, good, headers={"Content-Encoding": "br"}), 400, "Content-Encoding"),
            # over the cap: 413, before reading it (Content-Length) or while inflating it
            (post(logs, b"\0" * (wire.MAX_BODY + 1)), 413, "larger than"),
            (
                post(logs, gzip.compress(b"\0" * (wire.MAX_BODY + 10)), headers={"Content-Encoding": "gzip"}),
                413,
                "decompressed",
            ),
            # not OTLP: 415, 404, 405
            (post(logs, good, "text/plain"), 415, "Content-Type"),
            (post(rx.url + "/v1/other", good), 404, "no such"),
            (post(rx.url + "/", good), 404, "no such"),
            # DNS rebinding: a foreign Host (or Origin) is refused
            (post(logs, good, headers={"Host": "evil.example:4318"}), 403, "Host"),
            (post(logs, good, headers={"Host": "127.0.0.1.evil.example"}), 403, "Host"),
            (post(logs, good, headers={"Origin": "http://evil.example"}), 403, "Origin"),
        ]
        for (status, headers, body), expected, words in cases:
            assert status == expected, (expected, words, body[:200])
            if headers.get("Content-Type") == "application/x-protobuf":
                assert words.encode() in body, body[:200]
            else:
                assert words in json.loads(body)["message"], body[:200]
        import urllib.request

        req = urllib.request.Request(logs, method="GET")
        try:
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10)
            raise AssertionError("GET /v1/logs answered")
        except urllib.error.HTTPError as exc:
            assert (exc.code, exc.headers["Allow"]) == (405, "POST")
    assert report(data_dir, "today")["messages"] == 0


def test_setup_prints_each_tools_lines_with_the_configured_endpoint(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "config.toml").write_text('[receive]\notlp = "127.0.0.1:4999"\n')
    for tool, must in (
        ("claude-code", ["CLAUDE_CODE_ENABLE_TELEMETRY=1", "OTEL_LOGS_EXPORTER=otlp", "http://127.0.0.1:4999"]),
        ("codex", ['endpoint = "http://127.0.0.1:4999/v1/logs"', 'protocol = "binary"']),
        ("gemini", ['"otlpEndpoint": "http://127.0.0.1:4999"', '"otlpProtocol": "http"']),
        ("copilot", ["OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4999"]),
    ):
        out = cli(data_dir, "setup", tool)
        assert out.returncode == 0, out.stderr
        for text in must:
            assert text in out.stdout, (tool, text, out.stdout)


def test_receive_config_is_checked_by_name(data_dir):
    data_dir.mkdir(parents=True)
    (data_dir / "config.toml").write_text('[receive]\notlp = "0.0.0.0:4318"\ngenai = "both"\n')
    out = cli(data_dir, "config")
    assert "receive.otlp: must be a loopback address" in out.stdout
    assert 'receive.genai: expected "metrics" or "events"' in out.stdout
    out = cli(data_dir, "receive", "--listen", "192.168.1.5:4318")
    assert out.returncode == 2 and "--listen: must be a loopback address" in out.stderr
