"""`[export] otlp`: new records as OpenTelemetry metrics, received by a loopback collector that
decodes them with opentelemetry-proto (docs/team.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

USAGE_LS = str(Path(sys.executable).with_name("usage-ls"))


class Collector:
    def __init__(self, port: int = 0):
        self.requests: list[ExportMetricsServiceRequest] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                req = ExportMetricsServiceRequest()
                req.ParseFromString(body)
                outer.requests.append((self.path, dict(self.headers), req))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def points(self) -> dict:
        """(metric, model, type) -> [sum, count] over every data point received."""
        out: dict = defaultdict(lambda: [0.0, 0])
        for _path, _headers, req in self.requests:
            for rm in req.resource_metrics:
                res = {a.key: a.value.string_value for a in rm.resource.attributes}
                assert res["service.name"] == "usage-ls" and len(res["usage_ls.device.id"]) == 32
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        kind = m.WhichOneof("data")
                        data = getattr(m, kind)
                        assert data.aggregation_temporality == 1  # DELTA
                        for p in data.data_points:
                            a = {x.key: x.value.string_value for x in p.attributes}
                            assert a["usage_ls.user"] == "ana" and a["gen_ai.operation.name"] == "chat"
                            key = (
                                m.name,
                                a["gen_ai.request.model"],
                                a.get("gen_ai.token.type") or a.get("usage_ls.token.type"),
                            )
                            value = p.sum if kind == "histogram" else p.as_double or p.as_int
                            out[key][0] += value
                            out[key][1] += p.count if kind == "histogram" else 1
        return out


def run(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(data)}
    return subprocess.run([USAGE_LS, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def record(data: Path, *recs: dict) -> None:
    out = run(data, "record", stdin="".join(json.dumps({"user": "ana", "project": "web", **r}) + "\n" for r in recs))
    assert out.returncode == 0, out.stderr


def test_new_records_reach_a_collector_as_genai_metrics_once(tmp_path):
    collector = Collector()
    data = tmp_path / "data"
    data.mkdir()
    (data / "config.toml").write_text(
        f'[export]\notlp = "http://127.0.0.1:{collector.port}"\nheaders = {{ "x-team-key" = "s3cret" }}\n'
    )
    try:
        record(data, {"id": "old", "model": "gpt-4o", "inputTokens": 5, "outputTokens": 5})
        first = run(data, "sync")
        assert first.returncode == 0 and "records stored before now are not sent" in first.stdout
        assert collector.requests == []  # history is not replayed

        record(
            data,
            {
                "id": "a",
                "model": "claude-sonnet-4-5",
                "inputTokens": 1000,
                "outputTokens": 200,
                "cacheReadTokens": 5000,
            },
            {"id": "b", "model": "claude-sonnet-4-5", "inputTokens": 300, "outputTokens": 100, "cacheWriteTokens": 40},
            {"id": "c", "model": "gpt-4o", "inputTokens": 70, "outputTokens": 30, "costUsd": 0.25},
        )
        second = run(data, "sync")
        assert second.returncode == 0 and "3 record(s) sent" in second.stdout, second.stderr
        path, headers, _ = collector.requests[0]
        assert path == "/v1/metrics" and headers.get("x-team-key") == "s3cret"
        p = collector.points()
        # the conventions' input counts cache reads and writes; ours splits them
        assert p[("gen_ai.client.token.usage", "claude-sonnet-4-5", "input")] == [6340, 2]
        assert p[("gen_ai.client.token.usage", "claude-sonnet-4-5", "output")] == [300, 2]
        assert p[("gen_ai.client.token.usage", "gpt-4o", "input")] == [70, 1]
        assert p[("usage_ls.token.usage", "claude-sonnet-4-5", "cache_read")][0] == 5000
        assert p[("usage_ls.token.usage", "claude-sonnet-4-5", "cache_write")][0] == 40
        assert p[("usage_ls.token.usage", "claude-sonnet-4-5", "input")][0] == 1300
        assert abs(p[("usage_ls.cost", "gpt-4o", None)][0] - 0.25) < 1e-12
        assert p[("usage_ls.cost", "claude-sonnet-4-5", None)][0] > 0  # priced here
        assert p[("usage_ls.credits", "gpt-4o", None)][0] > 0

        sent = len(collector.requests)
        assert "0 record(s) sent" in run(data, "sync").stdout and len(collector.requests) == sent  # once

        port = collector.port
        collector.close()  # the collector goes away: nothing lost, said clearly
        record(data, {"id": "d", "model": "gpt-4o", "inputTokens": 1, "outputTokens": 1})
        down = run(data, "sync")
        assert down.returncode == 1 and f"127.0.0.1:{port}/v1/metrics failed" in down.stderr
        assert "s3cret" not in down.stderr + down.stdout
        status = run(data, "sync", "--status").stdout
        assert "last error" in status and "s3cret" not in status
        collector = Collector(port)
        back = run(data, "sync")
        assert back.returncode == 0 and "1 record(s) sent" in back.stdout
        assert collector.points()[("gen_ai.client.token.usage", "gpt-4o", "input")] == [1, 1]
        assert "x-team-key" in run(data, "config").stdout and "s3cret" not in run(data, "config").stdout
    finally:
        collector.close()
