"""OTLP/HTTP bodies: content types, gzip, protobuf and the proto3 JSON mapping, and the replies.

Decoding uses the `opentelemetry-proto` messages. OTLP's JSON differs from protobuf's stock
JSON mapping in one way that matters: `traceId`/`spanId` are hex, not base64, so they are
turned into base64 before `json_format.ParseDict` (which would otherwise mis-decode them or
refuse odd lengths). Unknown fields are ignored, as the spec requires; 64-bit integers may be
strings or numbers, enums integers or names (ParseDict takes all of these).

Replies: success is the empty `Export*ServiceResponse` in the request's encoding (no bytes in
protobuf, `{}` in JSON); `partial_success` is set only when records were rejected; a bad body
gets a `google.rpc.Status` (code 3, INVALID_ARGUMENT) with the reason.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_BODY = 16 * 1024 * 1024  # bytes, after decompression: far above any AI tool's batch


@dataclass(frozen=True)
class Signal:
    """One OTLP path: its request and response messages and the partial-success count field."""

    path: str
    request: type[Message]
    response: type[Message]
    rejected_field: str


SIGNALS = {
    "/v1/logs": Signal(
        "/v1/logs",
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
        "rejected_log_records",
    ),
    "/v1/metrics": Signal(
        "/v1/metrics",
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        "rejected_data_points",
    ),
    # accepted so that tools exporting all three signals to one endpoint see no errors;
    # no usage is read from spans (see docs/live.md)
    "/v1/traces": Signal(
        "/v1/traces",
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        "rejected_spans",
    ),
}


class BadBody(ValueError):
    """A body that cannot be decoded: answered 400 with the reason."""


class TooLarge(ValueError):
    """A body over MAX_BODY (before or after decompression): answered 413."""


def media_type(content_type: str | None) -> str | None:
    """The encoding a Content-Type names (`PROTOBUF` or `JSON`), None for anything else."""
    if not content_type:
        return None
    base = content_type.split(";", 1)[0].strip().lower()
    if base in (PROTOBUF, "application/protobuf"):
        return PROTOBUF
    if base == JSON:
        return JSON
    return None


def inflate(body: bytes, encoding: str | None, limit: int = MAX_BODY) -> bytes:
    """The body without its Content-Encoding (identity, gzip or deflate), refusing more than `limit`
    bytes of output (a small gzip can expand to gigabytes)."""
    coding = (encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif coding == "deflate":  # zlib-wrapped, as HTTP means it (the SDKs offer it too)
        wbits = zlib.MAX_WBITS
    else:
        raise BadBody(f"Content-Encoding {coding!r} is not supported (gzip, deflate or identity)")
    inflater = zlib.decompressobj(wbits=wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadBody(f"the {coding} body does not decompress: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"the body is larger than {limit} bytes once decompressed")
    if not inflater.eof:
        raise BadBody(f"the {coding} body is truncated")
    return out


def decode(signal: Signal, body: bytes, media: str) -> Message:
    """The request message of `signal` from a body in `media` (`PROTOBUF` or `JSON`)."""
    message = signal.request()
    if media == PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, ValueError) as exc:  # ValueError: e.g. invalid UTF-8 in a string field
            raise BadBody(f"not a valid {type(message).__name__} in protobuf: {exc}") from None
        return message
    try:
        doc = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise BadBody(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadBody(f"expected a JSON object ({type(message).__name__}), got {type(doc).__name__}")
    try:
        json_format.ParseDict(_hex_ids_to_base64(doc), message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise BadBody(f"not a valid {type(message).__name__} in OTLP JSON: {str(exc)[:300]}") from None
    return message


ID_KEYS = frozenset(("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"))


def _hex_ids_to_base64(value: Any, depth: int = 0) -> Any:
    """OTLP JSON's hex trace and span ids as the base64 protobuf's JSON mapping expects."""
    if depth > 64:
        raise BadBody("the JSON body is nested too deeply")
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ID_KEYS and isinstance(item, str):
                try:
                    item = base64.b64encode(bytes.fromhex(item)).decode()
                except ValueError:
                    raise BadBody(f"{key}: expected a hex string, got {item[:40]!r}") from None
            else:
                item = _hex_ids_to_base64(item, depth + 1)
            out[key] = item
        return out
    if isinstance(value, list):
        return [_hex_ids_to_base64(item, depth + 1) for item in value]
    return value


def success(signal: Signal, media: str, rejected: int = 0, error: str = "") -> bytes:
    """The Export*ServiceResponse: empty on full success, `partial_success` when some records
    were rejected (or when there is a warning to pass on)."""
    response = signal.response()
    if rejected or error:
        partial = response.partial_success
        setattr(partial, signal.rejected_field, rejected)
        partial.error_message = error[:1000]
    if media == JSON:
        return orjson.dumps(json_format.MessageToDict(response)) if (rejected or error) else b"{}"
    data: bytes = response.SerializeToString()
    return data


# HTTP status -> google.rpc.Code: INVALID_ARGUMENT, PERMISSION_DENIED, NOT_FOUND, UNIMPLEMENTED,
# RESOURCE_EXHAUSTED, UNAVAILABLE
RPC_CODES = {400: 3, 403: 7, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 503: 14}


def status(media: str | None, message: str, http_status: int = 400) -> bytes:
    """A `google.rpc.Status` in the request's encoding (JSON when it named none): two fields,
    written by hand (field 1 varint `code`, field 2 string `message`)."""
    code = RPC_CODES.get(http_status, 2)  # 2: UNKNOWN
    if media != PROTOBUF:
        return orjson.dumps({"code": code, "message": message})
    text = message.encode("utf-8")
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
