"""Talking to the server as an editor does: a pygls client that keeps custom results as JSON.

pygls turns results of methods it doesn't know into namedtuples, which mangles keys that are
not Python identifiers (model names in `byModel`). The demo, the tests and the benchmarks use
this converter so they see exactly the JSON an editor sees.
"""

from __future__ import annotations

from pygls.protocol import default_converter
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCResponseMessage


def raw_converter():
    converter = default_converter()
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, cls: cls(**obj))
    converter.register_structure_hook(JsonRPCNotification, lambda obj, cls: cls(**obj))
    return converter
