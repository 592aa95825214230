"""The error every face reports the same way: a request parameter that is not acceptable.

Raised by queries (filters, paging), the service (records batches, status-bar modes) and the
dashboard (nonce, mode, preset); the language server answers it as JSON-RPC InvalidParams,
the dashboard's HTTP API as 400, the CLI as a message. It names the field and says what was
expected; it never repeats a value that may be a secret.
"""

from __future__ import annotations


class InvalidParams(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
