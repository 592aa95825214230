"""The durable ledger: per-process journals, TinyDB day files and rollups. Knows nothing of LSP."""

from usage_ls.store.ledger import Ledger

__all__ = ["Ledger"]
