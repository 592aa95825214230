"""Metrics through the receiver: delta and cumulative temporality with the real SDK's metric
exporter, across an exporter restart and a receiver restart; retries; which metrics count."""

from __future__ import annotations

import time

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from otlp_helpers import ReceiverProcess, kv, models, post, report, tokens

from usage_ls.receive.mapping import Point
from usage_ls.receive.series import Series

GENAI = {"gen_ai.request.model": "gpt-4.1", "gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat"}


def meter(url: str, service: str = "copilot-chat", delta: bool = False):
    prefer = {Histogram: AggregationTemporality.DELTA, Counter: AggregationTemporality.DELTA} if delta else None
    exporter = OTLPMetricExporter(endpoint=url + "/v1/metrics", preferred_temporality=prefer, timeout=30)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": service}))
    return provider, provider.get_meter("test.genai")


def usage(hist, inp: int = 0, out: int = 0) -> None:
    if inp:
        hist.record(inp, {**GENAI, "gen_ai.token.type": "input"})
    if out:
        hist.record(out, {**GENAI, "gen_ai.token.type": "output"})


def test_cumulative_series_count_once_across_exporter_and_receiver_restarts(data_dir):
    rx = ReceiverProcess(data_dir).start()
    provider, m = meter(rx.url)  # the SDK's default temporality: cumulative
    hist = m.create_histogram("gen_ai.client.token.usage", unit="{token}")
    usage(hist, 1000, 100)
    assert provider.force_flush(30_000)  # 1000 / 100 since start
    usage(hist, 500)
    assert provider.force_flush(30_000)  # 1500 / 100: only the 500 is new
    assert provider.force_flush(30_000)  # the same totals again: nothing new
    rx.stop()
    rx.start()  # a receiver restart: the last point of each series was kept on disk
    usage(hist, 250)
    assert provider.force_flush(30_000)  # 1750 / 100
    provider.shutdown()  # exports once more, unchanged
    provider, m = meter(rx.url)  # the exporter restarts: new start time, counting from 0
    hist = m.create_histogram("gen_ai.client.token.usage", unit="{token}")
    usage(hist, 300, 30)
    assert provider.force_flush(30_000)
    provider.shutdown()
    rx.stop()
    row = models(data_dir)["gpt-4.1"]
    assert tokens(row) == (4, 2050, 130, 0, 0)  # one record per export that added tokens


def test_delta_series_and_a_retried_batch_count_once(data_dir):
    with ReceiverProcess(data_dir) as rx:
        provider, m = meter(rx.url, delta=True)
        hist = m.create_histogram("gen_ai.client.token.usage", unit="{token}")
        usage(hist, 40, 4)
        usage(hist, 60, 6)
        assert provider.force_flush(30_000)
        usage(hist, 5, 1)
        assert provider.force_flush(30_000)
        provider.shutdown()
        body = _delta_request(start=time.time_ns() - 10**9, value=77).SerializeToString()
        for _ in range(3):  # an exporter retrying one batch
            assert post(rx.url + "/v1/metrics", body)[0] == 200
    assert tokens(models(data_dir)["gpt-4.1"]) == (3, 182, 11, 0, 0)


def _delta_request(start: int, value: float, temporality: int = 1) -> ExportMetricsServiceRequest:
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(kv("service.name", "copilot-chat"))
    metric = rm.scope_metrics.add().metrics.add()
    metric.name = "gen_ai.client.token.usage"
    metric.histogram.aggregation_temporality = temporality
    p = metric.histogram.data_points.add()
    p.start_time_unix_nano, p.time_unix_nano, p.sum, p.count = start, start + 10**9, value, 1
    p.attributes.extend(kv(k, v) for k, v in {**GENAI, "gen_ai.token.type": "input"}.items())
    return req


def test_the_cli_tools_metrics_are_not_counted_their_events_are(data_dir):
    with ReceiverProcess(data_dir) as rx:
        for service, name in (
            ("claude-code", "claude_code.token.usage"),
            ("codex_exec", "codex.turn.token_usage"),
            ("gemini-cli", "gemini_cli.token.usage"),
            ("gemini-cli", "gen_ai.client.token.usage"),  # Gemini CLI sends the GenAI metric too
        ):
            provider, m = meter(rx.url, service=service, delta=True)
            counter = m.create_counter(name, unit="tokens")
            counter.add(1234, {"type": "input", "model": "claude-sonnet-4-5", **GENAI, "gen_ai.token.type": "input"})
            assert provider.force_flush(30_000)
            provider.shutdown()
    assert report(data_dir, "today")["messages"] == 0


def _point(series: str, temporality: int, start: int, t: int, value: float) -> Point:
    return Point(series, series, temporality, start, t, value, "input", "m", None, "svc", "svc")


def test_temporality_rules(tmp_path):
    s = Series(tmp_path / "series.json")
    rules = [
        # (start, time, cumulative value) -> tokens added
        (_point("a", 2, 100, 200, 50), 50),  # a new stream with a known start: all of it
        (_point("a", 2, 100, 300, 80), 30),
        (_point("a", 2, 100, 300, 80), 0),  # a retry (same time)
        (_point("a", 2, 100, 250, 60), 0),  # an older point arriving late
        (_point("a", 2, 100, 400, 20), 20),  # went down under the same start: a reset
        (_point("a", 2, 500, 600, 7), 7),  # a new start: the exporter restarted
        (_point("a", 2, 100, 700, 999), 0),  # a late point of the stream before the restart
        (_point("b", 2, 0, 200, 40), 0),  # unknown start: only a baseline
        (_point("b", 2, 0, 300, 45), 5),
        (_point("c", 2, 900, 900, 12), 0),  # start == time: unknown too
        (_point("d", 1, 100, 200, 9), 9),  # delta: the value
    ]
    for point, expected in rules:
        (got,), updates = s.increments([point])
        assert got[1] == expected, (point, got[1])
        s.commit(updates)
    # what was committed survives a restart (and uncommitted increments do not move it)
    again = Series(tmp_path / "series.json")
    assert again.increments([_point("a", 2, 500, 800, 10)])[0][0][1] == 3
    assert again.increments([_point("a", 2, 500, 800, 10)])[0][0][1] == 3


def test_genai_emitters_count_one_signal_chosen_in_config(data_dir):
    from otlp_helpers import logs_request

    event = (
        "gen_ai.client.inference.operation.details",
        {
            "event.name": "gen_ai.client.inference.operation.details",
            "gen_ai.response.id": "chatcmpl-123",
            "gen_ai.response.model": "gpt-4.1",
            "gen_ai.provider.name": "openai",
            "gen_ai.usage.input_tokens": 1500,  # includes the cache reads and writes below
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.usage.cache_creation.input_tokens": 100,
            "gen_ai.usage.output_tokens": 80,
            "gen_ai.usage.cost.amount": 0.004,
            "gen_ai.usage.cost.currency": "USD",
            "gen_ai.agent.name": "triage",
        },
    )
    events = logs_request("my-agent", [event]).SerializeToString()
    metric = _delta_request(start=time.time_ns() - 10**9, value=333).SerializeToString()
    traces = b""  # an empty ExportTraceServiceRequest: accepted, nothing read from spans
    for mode, expected in (("metrics", (1, 333, 0, 0, 0)), ("events", (1, 400, 80, 1000, 100))):
        d = data_dir.parent / f"data-{mode}"
        d.mkdir()
        (d / "config.toml").write_text(f'[receive]\ngenai = "{mode}"\n')
        with ReceiverProcess(d) as rx:
            assert post(rx.url + "/v1/logs", events)[0] == 200
            assert post(rx.url + "/v1/metrics", metric)[0] == 200
            assert post(rx.url + "/v1/traces", traces)[0::2] == (200, b"")
        assert tokens(models(d)["gpt-4.1"]) == expected, mode
    rows = report(data_dir.parent / "data-events", "interactions")["rows"]
    assert (rows[0]["id"], rows[0]["feature"], rows[0]["costUsd"]) == (
        "otel:my-agent:chatcmpl-123",
        "my-agent agent=triage",
        0.004,
    )


def test_deflate_bodies_are_accepted(data_dir):
    import zlib

    body = _delta_request(start=time.time_ns() - 10**9, value=21).SerializeToString()
    with ReceiverProcess(data_dir) as rx:
        assert post(rx.url + "/v1/metrics", zlib.compress(body), headers={"Content-Encoding": "deflate"})[0] == 200
    assert tokens(models(data_dir)["gpt-4.1"]) == (1, 21, 0, 0, 0)
