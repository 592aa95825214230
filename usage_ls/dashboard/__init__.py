"""The Usage Dashboard: one page, produced from the store, for the VS Code webview and browsers.

- `build_page(svc, params)` answers `usage/dashboard`: `{html}`, a complete page for a filter.
- `serve.main(args, svc, flt)` is `usage-ls dashboard`: serve the live page on 127.0.0.1,
  or write a static snapshot with `--out`.

The page gets its data the same way everywhere: the first view is embedded in the page,
later views come from the protocol's query methods, through the VS Code extension
(`postMessage`) or through this package's local HTTP server (`POST /api/<method>`). See
docs/dashboard.md.
"""

from __future__ import annotations

from usage_ls.dashboard import data
from usage_ls.dashboard.page import MODES, check_nonce, render
from usage_ls.errors import InvalidParams, describe


def build_page(svc, params: dict) -> dict:
    """`usage/dashboard`: filter + optional `nonce`, `preset` and `mode` -> `{html}`.

    `mode` is `"webview"` (default: data through the editor), `"browser"` (data from the
    page's own origin) or `"static"` (a snapshot: only the embedded data).
    """
    params = params or {}
    if not isinstance(params, dict):
        raise InvalidParams("params", "expected an object")
    mode = params.get("mode") or "webview"
    if mode not in MODES:
        raise InvalidParams("mode", f"expected one of {', '.join(MODES)}, got {describe(mode)}")
    nonce = check_nonce(params.get("nonce"))
    boot = data.bootstrap(svc, params, mode)
    return {"html": render(boot, nonce)}
