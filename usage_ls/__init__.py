"""usage-ls: an honest ledger of what AI features cost, served to the editor over LSP."""

__version__ = "0.1.0"
