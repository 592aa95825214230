"""The wire: how the server reads and sends JSON-RPC, where pygls' defaults do not fit.

`UsageProtocol` hands `usage/*` params to the handlers as the JSON the client sent (pygls
would build namedtuples, renaming `from`), answers a notification sent as a request and a
request whose params do not fit instead of dropping them, and sends with orjson. `keep`
holds fire-and-forget futures until they are done.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import orjson
from lsprotocol import types
from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcException, JsonRpcInternalError
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage

log = logging.getLogger("usage_ls")


class UsageProtocol(LanguageServerProtocol):
    """Hands `usage/*` params to handlers as the JSON the client sent.

    pygls would turn unknown params into namedtuples, renaming keywords (`from` becomes
    `_0`) and costing time on large batches; our own validation names fields instead.
    """

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
            res = self.writer.write(header.encode("ascii") + body)
            if inspect.isawaitable(res):
                keep(asyncio.ensure_future(res))
        except BrokenPipeError:
            raise
        except Exception as error:
            log.exception("Error sending data")
            self._server.report_server_error(error, JsonRpcInternalError)


_BACKGROUND: set[asyncio.Future] = set()


def keep(future: asyncio.Future) -> None:
    """Hold a fire-and-forget future until it is done (the loop keeps only weak references)."""
    _BACKGROUND.add(future)
    future.add_done_callback(_BACKGROUND.discard)


def is_notification_method(method: str) -> bool:
    message_type = types.METHOD_TO_TYPES.get(method, (None,))[0]
    return message_type is not None and message_type.__name__.endswith("Notification")
