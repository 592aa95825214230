"""The errors every face reports the same way: a request parameter that is not acceptable, a
data directory that is not safe to use.

`InvalidParams` is raised by queries (filters, paging), the service (records batches, status-bar modes) and the
dashboard (nonce, mode, preset); the language server answers it as JSON-RPC InvalidParams,
the dashboard's HTTP API as 400, the CLI as a message. It names the field and says what was
expected; it never repeats a value that may be a secret. `StoreRefused` is raised by the
store when it opens (store/safety.py).
"""

from __future__ import annotations


class InvalidParams(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class StoreRefused(RuntimeError):
    """The data directory is not safe to use (another owner, writable by others, a store folder
    that is a symbolic link): what is wrong, where, and the command that fixes it. Every face
    reports it as is and stops; `usage-ls doctor` lists the same."""
