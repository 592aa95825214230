"""Metric data points that count as usage (`gen_ai.client.token.usage` of GenAI emitters other
than the three CLIs whose per-call events count: see mapping.py), and the records their
increments make (series.py computes the increments from the temporality)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from usage_ls.errors import describe
from usage_ls.receive.mapping import (
    GENAI_TOKENS,
    Bad,
    Point,
    Seen,
    attrs_of,
    digest,
    feature_of,
    make_record,
    provider_of,
    text_of,
    tool_of,
)


def usage_points(request: Any, genai: str = "metrics") -> Seen:
    """Data points of an ExportMetricsServiceRequest that count (see the module's rules)."""
    seen = Seen()
    for resource_metrics in request.resource_metrics:
        resource = attrs_of(resource_metrics.resource.attributes)
        service = str(resource.get("service.name") or "unknown_service")
        tool = tool_of(service)
        resource_key = digest(repr(sorted(resource.items(), key=lambda kv: kv[0])))
        for scope_metrics in resource_metrics.scope_metrics:
            scope = (scope_metrics.scope.name, scope_metrics.scope.version)
            for metric in scope_metrics.metrics:
                for point in _points(metric):
                    if metric.name != GENAI_TOKENS:
                        seen.ignore("not a usage metric")
                    elif tool is not None or genai != "metrics":
                        seen.ignore(f"{GENAI_TOKENS} of {tool or service}: its events count instead")
                    else:
                        try:
                            seen.points.append(_point(resource_key, scope, metric, point, service))
                        except Bad as exc:
                            seen.rejected.append(f"{metric.name}: {exc}")
    return seen


def _points(metric: Any) -> Iterator[tuple[int, Any, float]]:
    """(temporality, point, value) of a metric's monotonic Sum or (exponential) Histogram."""
    kind = metric.WhichOneof("data")
    if kind == "sum":
        if not metric.sum.is_monotonic:
            return
        for p in metric.sum.data_points:
            value = p.as_int if p.WhichOneof("value") == "as_int" else p.as_double
            yield metric.sum.aggregation_temporality, p, value
    elif kind in ("histogram", "exponential_histogram"):
        body = getattr(metric, kind)
        for p in body.data_points:
            yield body.aggregation_temporality, p, p.sum


def _point(resource_key: str, scope: tuple[str, str], metric: Any, item: tuple[int, Any, float], service: str) -> Point:
    temporality, p, value = item
    if temporality not in (1, 2):
        raise Bad(f"aggregationTemporality must be 1 (delta) or 2 (cumulative), got {temporality}")
    if not value >= 0 or value > 1e15:
        raise Bad(f"a token count must be a number >= 0, got {describe(value)}")
    if not p.time_unix_nano:
        raise Bad("timeUnixNano is missing")
    attrs = attrs_of(p.attributes)
    token_type = str(attrs.get("gen_ai.token.type") or "")
    rest = sorted(((k, v) for k, v in attrs.items() if k != "gen_ai.token.type"), key=lambda kv: kv[0])
    group = digest(resource_key, scope, metric.name, repr(rest))
    return Point(
        series=digest(group, token_type),
        group=group,
        temporality=temporality,
        start=p.start_time_unix_nano,
        time=p.time_unix_nano,
        value=float(value),
        token_type=token_type,
        model=text_of(attrs, "gen_ai.response.model", "gen_ai.request.model"),
        provider=provider_of(text_of(attrs, "gen_ai.provider.name", "gen_ai.system")),
        service=service,
        feature=feature_of(service[:60], attrs),
    )


def records(points: list[tuple[Point, int]]) -> list[tuple[str, dict[str, Any]]]:
    """(point, its increment in tokens) -> (service, record), one record per (group, time): the
    input and output tokens of one export of one model (the two series may have started at
    different times). The id is made of the same, so a retried export makes the same records.
    Zero increments make none."""
    records: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {}
    for point, tokens in points:
        if tokens <= 0 or point.token_type not in ("input", "output"):
            continue
        key = (point.group, point.time)
        item = records.get(key)
        if item is None:
            item = records[key] = (
                point.service,
                make_record(
                    "otel:m:" + digest(*key),
                    point.time // 1_000_000,
                    point.model,
                    point.provider,
                    inputTokens=0,
                    outputTokens=0,
                    feature=point.feature,
                ),
            )
        item[1]["inputTokens" if point.token_type == "input" else "outputTokens"] += tokens
    return list(records.values())
