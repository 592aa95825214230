"""The wire: how the server reads and sends JSON-RPC, where pygls' defaults do not fit.

`UsageProtocol` hands `usage/*` params to the handlers as the JSON the client sent (pygls
would build namedtuples, renaming `from`), answers a notification sent as a request and a
request whose params do not fit instead of dropping them, and sends with orjson.
`read_messages` is the reading loop: `framing.Frames` cuts the stream into bodies, and a
message that cannot be read (a bad `Content-Length`, JSON nested too deeply or not JSON at
all) is answered with a JSON-RPC error, to its id when one can be seen (else `null`), rather
than dropped with the stream out of step. `keep` holds fire-and-forget futures until they are
done.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from lsprotocol import types
from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage

from usage_ls.framing import Bad, Frames, id_of

log = logging.getLogger("usage_ls")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


async def read_messages(
    read: Callable[[], Awaitable[bytes]], protocol: UsageProtocol, stop_event: threading.Event
) -> None:
    """Hand every message `read` brings to `protocol` until the stream ends or the server stops."""
    frames = Frames()
    while not stop_event.is_set():
        data = await read()
        for item in frames.feed(data) if data else frames.close():
            if isinstance(item, Bad):
                protocol.refuse(item, PARSE_ERROR)
            else:
                protocol.receive(item)
            if stop_event.is_set():
                return
        if not data:
            return


class UsageProtocol(LanguageServerProtocol):
    """Hands `usage/*` params to handlers as the JSON the client sent.

    pygls would turn unknown params into namedtuples, renaming keywords (`from` becomes
    `_0`) and costing time on large batches; our own validation names fields instead.
    """

    def receive(self, body: bytes) -> None:
        """One message's body: parsed as pygls does (each object through `structure_message`)
        and handled; answered with an error when it cannot be."""
        try:
            message = json.loads(body, object_hook=self.structure_message)
        except RecursionError:
            self.refuse(Bad("its JSON is nested too deeply to read", id_of(body)), PARSE_ERROR)
            return
        except UnicodeDecodeError as exc:
            self.refuse(Bad(f"it is not UTF-8 (byte {exc.start})", id_of(body)), PARSE_ERROR)
            return
        except json.JSONDecodeError as exc:
            self.refuse(
                Bad(f"it is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", id_of(body)), PARSE_ERROR
            )
            return
        except ValueError as exc:  # a number too long to convert
            why = str(exc).split(":")[0]
            self.refuse(Bad(f"it cannot be read ({why})", id_of(body)), PARSE_ERROR)
            return
        except Exception as exc:  # structure_message refused it (and answered it when it could)
            self._server.report_server_error(exc, JsonRpcException)
            return
        if not hasattr(message, "jsonrpc"):  # not an object, or one without "jsonrpc"
            msg_id = message.get("id") if isinstance(message, dict) and "method" in message else None
            if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str)):
                msg_id = None
            self.refuse(
                Bad('it is not a JSON-RPC 2.0 message (an object with "jsonrpc": "2.0")', msg_id), INVALID_REQUEST
            )
            return
        try:
            self.handle_message(message)
        except Exception as exc:
            log.exception("unable to handle a message")
            self._server.report_server_error(exc, JsonRpcException)

    def refuse(self, bad: Bad, code: int) -> None:
        """Answer a message that cannot be read, to its id if it has one, and log why."""
        text = f"cannot read this message: {bad.reason}"
        log.warning("%s (id %r)", text, bad.id)
        self._send_data({"jsonrpc": "2.0", "id": bad.id, "error": {"code": code, "message": text}})
        self.notify(
            types.WINDOW_LOG_MESSAGE,
            types.LogMessageParams(
                type=types.MessageType.Warning, message=f"usage-ls: {text} (answered with error {code})"
            ),
        )

    def structure_message(self, data: dict[str, Any]):
        method = data.get("method") if isinstance(data, dict) else None
        if isinstance(method, str) and method.startswith("usage/") and data.get("jsonrpc") == "2.0":
            params = data.get("params")
            if "id" in data:
                return JsonRPCRequestMessage(id=data["id"], method=method, jsonrpc="2.0", params=params)
            return JsonRPCNotification(method=method, jsonrpc="2.0", params=params)
        if isinstance(method, str) and "id" in data and is_notification_method(method):
            # a notification sent as a request would otherwise never be answered
            self._send_response(
                data["id"], error=ResponseError(code=-32600, message=f"{method} is a notification, not a request")
            )
            return JsonRPCNotification(method="$/usage-ls/answered", jsonrpc="2.0", params=None)
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            # pygls drops a request whose params don't fit the LSP type: answer it instead,
            # so the client is never left waiting
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(
                    data["id"], error=ResponseError(code=exc.code, message=f"{data['method']}: {exc.message}")
                )
                return JsonRPCNotification(method="$/usage-ls/answered", jsonrpc="2.0", params=None)
            raise

    def _send_data(self, data: Any):
        """As pygls sends, with orjson: the dashboard page and year-long series serialise ~10x faster."""
        if not data or self.writer is None:
            return
        try:
            # our own results are plain JSON already: skip cattrs' deep unstructuring
            if type(data) is JsonRPCResponseMessage and isinstance(data.result, (dict, list)):
                data = {"jsonrpc": data.jsonrpc, "id": data.id, "result": data.result}
            elif type(data) is JsonRPCNotification and isinstance(data.params, dict):
                data = {"jsonrpc": data.jsonrpc, "method": data.method, "params": data.params}
            body = orjson.dumps(data, default=self._serialize_message)
            header = f"Content-Length: {len(body)}\r\nContent-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
            try:
                res = self.writer.write(header.encode("ascii") + body)
            except ValueError:  # stdout closed (after `exit`): nothing can reach the editor any more;
                log.info("not sent: the output is closed")  # telling it (report_server_error) would send again
                return
            if inspect.isawaitable(res):
                keep(asyncio.ensure_future(res))
        except BrokenPipeError:
            raise
        except Exception as error:
            log.exception("Error sending data")
            self._server.report_server_error(error, JsonRpcInternalError)


class QuietParams(logging.Filter):
    """pygls logs the params of a message it could not handle, and the traceback of a param
    cattrs refused (which quotes the value): they may hold secrets, and editors show a server's
    stderr. On pygls' protocol logger, this keeps what happened and drops what was sent."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if text.startswith("Unable to deserialize message"):
            record.msg, record.args = "Unable to deserialize a message: its params do not fit their LSP type", ()
            record.exc_info = record.exc_text = None
        elif text.startswith(("Failed to handle request", "Failed to handle notification")) and record.args:
            args = tuple(record.args) if isinstance(record.args, tuple) else (record.args,)
            record.args = (*args[:-1], "(params not shown)")
        return True


_BACKGROUND: set[asyncio.Future] = set()


def keep(future: asyncio.Future) -> None:
    """Hold a fire-and-forget future until it is done (the loop keeps only weak references)."""
    _BACKGROUND.add(future)
    future.add_done_callback(_BACKGROUND.discard)


def is_notification_method(method: str) -> bool:
    message_type = types.METHOD_TO_TYPES.get(method, (None,))[0]
    return message_type is not None and message_type.__name__.endswith("Notification")
