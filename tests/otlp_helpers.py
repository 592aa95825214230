"""Shared by the OTLP receiver tests: a `usage-ls receive` process, the real OpenTelemetry SDK
exporters pointed at it, plain HTTP posts, and the totals `usage-ls report` prints."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now_iso(offset_s: float = 0.0) -> str:
    return (
        (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s))
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class ReceiverProcess:
    """`usage-ls receive` on a loopback port, for one data directory."""

    def __init__(self, data_dir: Path, port: int | None = None, env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir), **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.output = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReceiverProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "usage_ls", "receive", "--listen", f"127.0.0.1:{self.port}", "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )
        line = self.proc.stdout.readline()
        self.output += line
        assert "listening on" in line, f"the receiver did not start: {line!r}"
        return self

    def stop(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            out, _ = self.proc.communicate(timeout=30)
            self.output += out
            assert self.proc.returncode == 0, self.output
        self.proc = None
        return self.output

    def __enter__(self) -> ReceiverProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def post(url: str, body: bytes, content_type: str = "application/x-protobuf", headers: dict | None = None):
    """(status, response headers, response body) of a POST, errors included."""
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def kv(key: str, value) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def logs_request(service: str, events: list[tuple[str, dict]]) -> ExportLogsServiceRequest:
    """An ExportLogsServiceRequest of (body, attributes) events from `service`, built by hand
    (for bodies sent twice and for values the SDK would not send)."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.append(kv("service.name", service))
    sl = rl.scope_logs.add()
    for body, attrs in events:
        lr = sl.log_records.add()
        lr.time_unix_nano = time.time_ns()
        lr.body.string_value = body
        lr.attributes.extend(kv(k, v) for k, v in attrs.items())
    return req


def sdk_logs(
    url: str, service: str, events: list[tuple[str, dict]], exporter: str = "protobuf", gzip: bool = False
) -> None:
    """Send events through the real SDK: a LoggerProvider with the OTLP/HTTP exporter
    (protobuf or JSON), batched, flushed, shut down."""
    if exporter == "json":
        from opentelemetry.exporter.otlp.common.http import Compression as JsonCompression
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter

        compression = JsonCompression.GZIP if gzip else JsonCompression.NONE
    else:
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        compression = Compression.Gzip if gzip else Compression.NoCompression
    provider = LoggerProvider(resource=Resource.create({"service.name": service}))
    provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=url + "/v1/logs", compression=compression, timeout=30))
    )
    logger = provider.get_logger("test.events")
    for body, attrs in events:
        logger.emit(body=body, attributes=attrs)
    assert provider.force_flush(30_000)
    provider.shutdown()


def claude_event(rid: str, session: str = "sess-1", **over) -> tuple[str, dict]:
    attrs = {
        "event.name": "api_request",
        "event.timestamp": now_iso(),
        "event.sequence": 5,
        "session.id": session,
        "prompt.id": "p-1",
        "model": "claude-sonnet-4-5",
        "input_tokens": 100,
        "output_tokens": 50,
        "cache_read_tokens": 1000,
        "cache_creation_tokens": 200,
        "cache_creation_5m_tokens": 150,
        "cache_creation_1h_tokens": 50,
        "cost_usd": 0.0021,
        "cost_usd_micros": 2100,
        "duration_ms": 18,
        "request_id": rid,
        "speed": "normal",
        "query_source": "main",
        **over,
    }
    return "claude_code.api_request", attrs


def codex_event(conversation: str = "0199-conv", **over) -> tuple[str, dict]:
    attrs = {  # as Codex 0.171 sends them: every value a string, the name in event.name
        "event.name": "codex.sse_event",
        "event.kind": "response.completed",
        "input_token_count": "1000",
        "output_token_count": "70",
        "cached_token_count": "400",
        "cache_write_token_count": "0",
        "reasoning_token_count": "20",
        "tool_token_count": "1070",
        "event.timestamp": now_iso(),
        "conversation.id": conversation,
        "model": "gpt-5",
        "slug": "gpt-5",
        **over,
    }
    attrs = {k: v for k, v in attrs.items() if v is not None}  # None: leave the attribute out
    return "event otel/src/events/session_telemetry.rs:1187", attrs


def gemini_event(session: str = "72662b1d-c689-4482-89f5-8c235050bbc9", **over) -> tuple[str, dict]:
    attrs = {
        "event.name": "gemini_cli.api_response",
        "event.timestamp": now_iso(),
        "session.id": session,
        "model": "gemini-2.5-pro",
        "duration_ms": 134,
        "input_token_count": 900,
        "output_token_count": 60,
        "cached_content_token_count": 300,
        "thoughts_token_count": 15,
        "tool_token_count": 0,
        "total_token_count": 975,
        "prompt_id": "prompt-1",
        "status_code": 200,
        "role": "main",
        **over,
    }
    return "API response from gemini-2.5-pro. Status: 200.", attrs


def cli(data_dir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "usage_ls", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "USAGE_LS_DATA_DIR": str(data_dir), **(env or {})},
        timeout=120,
    )


def report(data_dir: Path, what: str = "models", *extra: str) -> dict:
    out = cli(data_dir, "report", what, "--json", *extra)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def models(data_dir: Path) -> dict[str, dict]:
    return {m["model"]: m for m in report(data_dir)["models"]}


def tokens(row: dict) -> tuple[int, int, int, int, int]:
    return (row["messages"], row["inputTokens"], row["outputTokens"], row["cacheReadTokens"], row["cacheWriteTokens"])
