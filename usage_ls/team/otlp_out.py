"""`[export] otlp`: the ledger's new records as OpenTelemetry metrics, over OTLP/HTTP, to the
collector a team already runs (Prometheus, Grafana, Datadog ... behind it). docs/team.md.

Made with the OpenTelemetry SDK (`opentelemetry-sdk`, `opentelemetry-exporter-otlp-proto-http`:
the `otel` extra), never a hand-written encoder. Each push records the records past this
data directory's export cursor into the SDK's instruments, collects them once (DELTA
temporality: each export carries what is new) and exports them; the cursor moves only when the
collector accepted the export, so a collector that is down loses nothing (at least once: an
export accepted but whose answer was lost is sent again).

Metrics, with `gen_ai.operation.name` = `chat`, `gen_ai.request.model`, `gen_ai.provider.name`
(when known), and `usage_ls.project`, `usage_ls.user`, `usage_ls.billing`:

- `gen_ai.client.token.usage` (histogram, `{token}`; the GenAI conventions' buckets): per
  record, `gen_ai.token.type` = `input` (input with cache reads and writes, as the conventions
  count input) and `output`;
- `usage_ls.token.usage` (counter, `{token}`): the exact split, `usage_ls.token.type` = `input`
  (without cache), `output`, `cache_read`, `cache_write`;
- `usage_ls.cost` (counter, `USD`) of priced records and `usage_ls.credits` (counter,
  `{credit}`). The conventions have no cost metric yet (checked 2026-12): these are ours.

Resource: `service.name` = `usage-ls`, `service.version`, `usage_ls.device.id`.

History is not replayed: the first push towards an endpoint marks every stored record as
exported (a metric has no past; the team database is where history meets). Records become
exportable when a checkpoint folds them into day files (a server does within 30 s of a pause).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from usage_ls import __version__, fileio
from usage_ls.store.files import StoreFiles
from usage_ls.store.journal import FileLock
from usage_ls.team import push, state
from usage_ls.team.db import TeamError
from usage_ls.team.secrets import mask

CURSOR = "otlp-cursor.json"
LOCK = "otlp.lock"
BATCH = 5_000
TIMEOUT_S = 10.0
# the GenAI semantic conventions' advice for gen_ai.client.token.usage
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]


@dataclass
class Exported:
    records: int = 0  # records exported by this push
    first: bool = False  # the first push towards this endpoint: history marked, not sent
    busy: bool = False  # another process of this data directory was exporting


def metrics_url(endpoint: str) -> str:
    """`[export] otlp` as OTEL_EXPORTER_OTLP_ENDPOINT means it: a base, `/v1/metrics` added
    (kept when it is already there)."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/metrics") else base + "/v1/metrics"


class Cursor:
    """How far each day file was exported towards one endpoint (`sync/otlp-cursor.json`)."""

    def __init__(self, root: Path, endpoint: str):
        self.path = root / state.SYNC_DIR / CURSOR
        self.root, self.endpoint = root, endpoint
        data = fileio.read_json(self.path) if self.path.parent.exists() else None
        self.known = isinstance(data, dict) and data.get("endpoint") == endpoint
        days = data.get("days") if isinstance(data, dict) and self.known else None
        self.days: dict[str, state.DayMark] = dict(days) if isinstance(days, dict) else {}

    def save(self) -> None:
        state.folder(self.root)
        fileio.atomic_write(self.path, orjson.dumps({"endpoint": self.endpoint, "days": self.days}))


class Instruments:
    """A meter provider whose metrics are collected on demand, and its four instruments."""

    def __init__(self, device: str):
        from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
        from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
        from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
        from opentelemetry.sdk.resources import Resource

        delta = AggregationTemporality.DELTA
        self.reader = InMemoryMetricReader(preferred_temporality={Counter: delta, Histogram: delta})
        view = View(
            instrument_name="gen_ai.client.token.usage",
            aggregation=ExplicitBucketHistogramAggregation(TOKEN_BUCKETS),
        )
        resource = Resource.create(
            {"service.name": "usage-ls", "service.version": __version__, "usage_ls.device.id": device}
        )
        self.provider = MeterProvider(resource=resource, metric_readers=[self.reader], views=[view])
        meter = self.provider.get_meter("usage_ls", __version__)
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Tokens used per AI request"
        )
        self.split = meter.create_counter(
            "usage_ls.token.usage", unit="{token}", description="Tokens by type, cache reads and writes apart"
        )
        self.cost = meter.create_counter("usage_ls.cost", unit="USD", description="Cost of AI usage")
        self.credits = meter.create_counter("usage_ls.credits", unit="{credit}", description="Premium credits used")

    def add(self, rec: dict[str, Any]) -> None:
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": rec["model"],
            "usage_ls.project": rec["project"],
            "usage_ls.user": rec["user"],
            "usage_ls.billing": rec["billing"],
        }
        if rec.get("provider"):
            attrs["gen_ai.provider.name"] = rec["provider"]
        cache_read, cache_write = rec["cacheReadTokens"], rec["cacheWriteTokens"]
        self.tokens.record(rec["inputTokens"] + cache_read + cache_write, {**attrs, "gen_ai.token.type": "input"})
        self.tokens.record(rec["outputTokens"], {**attrs, "gen_ai.token.type": "output"})
        for kind, n in (
            ("input", rec["inputTokens"]),
            ("output", rec["outputTokens"]),
            ("cache_read", cache_read),
            ("cache_write", cache_write),
        ):
            if n:
                self.split.add(n, {**attrs, "usage_ls.token.type": kind})
        if rec.get("costUsd") is not None:
            self.cost.add(float(rec["costUsd"]), attrs)
        if rec.get("credits"):
            self.credits.add(float(rec["credits"]), attrs)


def export_new(root: Path, tz: dt.tzinfo, endpoint: str, headers: dict[str, str] | None = None) -> Exported:
    """Export the records past the cursor; TeamError (the endpoint masked) when the collector
    cannot be reached or refuses. Returns at once when another process is exporting."""
    out = Exported()
    lock = FileLock(state.folder(root) / LOCK)
    if not lock.acquire(blocking=False):
        out.busy = True
        return out
    try:
        files = StoreFiles(root, tz, writable=False)
        cursor = Cursor(root, endpoint)
        if not cursor.known:  # the first push: mark the history, send none of it
            out.first = True
            for _recs, parts in push.batches(files, cursor.days, BATCH):
                push.advance(cursor.days, parts)
            cursor.save()
            return out
        _export(files, cursor, endpoint, headers or {}, out)
        return out
    finally:
        lock.release()


def _export(files: StoreFiles, cursor: Cursor, endpoint: str, headers: dict[str, str], out: Exported) -> None:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import MetricExportResult
    except ImportError:
        raise TeamError(
            "[export] otlp needs the OpenTelemetry SDK: pip install 'usage-ls[otel]'; records stay queued"
        ) from None

    url = metrics_url(endpoint)
    exporter = OTLPMetricExporter(endpoint=url, headers=headers, timeout=TIMEOUT_S)
    instruments = Instruments(state.device_id(files.root))
    try:
        for recs, parts in push.batches(files, cursor.days, BATCH):
            for rec in recs:
                instruments.add(rec)
            data = instruments.reader.get_metrics_data()
            if (
                data is not None
                and exporter.export(data, timeout_millis=TIMEOUT_S * 1000) != MetricExportResult.SUCCESS
            ):
                raise TeamError(
                    f"the OTLP export to {mask(url, endpoint)} failed (the collector is down or refused it); "
                    f"{len(recs)} record(s) stay queued"
                )
            out.records += len(recs)
            push.advance(cursor.days, parts)  # accepted: the cursor may move
            cursor.save()
        cursor.save()
    finally:
        exporter.shutdown()
        instruments.provider.shutdown()
