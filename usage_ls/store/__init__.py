"""The durable ledger: per-process journals, TinyDB day files and rollups. Knows nothing of LSP.

Import the modules themselves (`usage_ls.store.ledger`, ...): this package imports nothing, so
that the light ones (`stamp`, `limits`) load without numpy for a status line command.
"""
