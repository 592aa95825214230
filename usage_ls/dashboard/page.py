"""The dashboard page: one self-contained HTML document.

No user string is ever put into markup here: the page's data travels as JSON inside a
`<script type="application/json">` element (escaped so nothing in it can close the element)
and the page's own script inserts it with DOM APIs (`textContent`). Scripts and styles run
only under the page's nonce; the Content-Security-Policy allows nothing else, and lets the
page talk to the server it came from only in browser mode.
"""

from __future__ import annotations

import re
import secrets
from functools import cache
from importlib import resources

import orjson

from usage_ls.errors import InvalidParams

MODES = ("webview", "browser", "static")
NONCE = re.compile(r"^[A-Za-z0-9+/_=-]{16,128}$")


@cache
def asset(name: str) -> str:
    text = resources.files("usage_ls").joinpath("static", name).read_text(encoding="utf-8")
    if re.search(r"</(script|style)", text, re.I):  # would end the inline element early
        raise RuntimeError(f"static/{name} contains a closing tag and cannot be inlined")
    return text


def json_for_script(value) -> str:
    """JSON that is inert inside a <script> element: no '<', '>', '&' or line separators."""
    text = orjson.dumps(value).decode()
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def check_nonce(nonce) -> str:
    if nonce is None or nonce == "":
        return new_nonce()
    if not isinstance(nonce, str) or not NONCE.match(nonce):
        raise InvalidParams("nonce", "expected 16-128 characters of [A-Za-z0-9+/_=-]")
    return nonce


def csp(nonce: str, mode: str) -> str:
    parts = [
        "default-src 'none'",
        f"script-src 'nonce-{nonce}'",
        f"style-src 'nonce-{nonce}'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if mode == "browser":
        parts.append("connect-src 'self'")
    return "; ".join(parts)


SKELETON = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>AI Usage Dashboard</title>
<style nonce="{nonce}">{css}</style>
</head>
<body>
<div id="app" class="app" aria-busy="true">
<header class="top">
  <div class="title">
    <h1>AI Usage</h1>
    <span id="range-label" class="range-label"></span>
    <span id="live" class="live"></span>
  </div>
  <div id="static-note" class="note" hidden>Static snapshot: the numbers are as of <span id="generated"></span>.
    Filters need the live dashboard (<code>usage-ls dashboard</code>).</div>
  <div id="error" class="error" role="alert" hidden></div>
  <nav class="filters" aria-label="Filters">
    <div class="seg" id="date-presets" role="group" aria-label="Date range">
      <button type="button" data-preset="today">Today</button>
      <button type="button" data-preset="yesterday">Yesterday</button>
      <button type="button" data-preset="7d">Last 7 days</button>
      <button type="button" data-preset="30d">Last 30 days</button>
      <button type="button" data-preset="month">This month</button>
      <button type="button" data-preset="custom">Custom</button>
    </div>
    <div class="custom" id="custom-range" hidden>
      <label>From <input type="date" id="from"></label>
      <label>To <input type="date" id="to"></label>
    </div>
    <label class="pick">Project <select id="project"></select></label>
    <label class="pick">User <select id="user"></select></label>
    <label class="pick">Model <select id="model"></select></label>
    <label class="pick" id="tool-pick">Tool <select id="tool"></select></label>
    <div class="seg scope" id="scope" role="group" aria-label="Whose usage" hidden>
      <button type="button" data-scope="local" title="This machine's ledger">Local</button>
      <button type="button" data-scope="team" title="Every machine of the team, from the team database ([sync] postgres)">Team</button>
    </div>
    <div class="seg billing" id="billing" role="group" aria-label="Billing">
      <button type="button" data-billing="premium" title="Plan usage, in credits">Premium</button>
      <button type="button" data-billing="byok" title="Your own API keys, in dollars">BYOK</button>
    </div>
    <button type="button" id="clear" class="link" hidden>Clear filters</button>
  </nav>
</header>
<main>
  <section class="kpis" aria-label="Key metrics">
    <div class="kpi" id="kpi-money"><div class="k-label"></div><div class="k-value"></div><div class="k-sub"></div>
      <button type="button" id="kpi-budget" class="k-budget" hidden></button></div>
    <div class="kpi" id="kpi-messages"><div class="k-label">Messages</div><div class="k-value"></div><div class="k-sub"></div></div>
    <div class="kpi wide" id="kpi-tokens"><div class="k-label">Tokens</div><div class="k-value"></div>
      <div class="splitbar" aria-hidden="true"></div><div class="k-split"></div></div>
  </section>
  <section class="card insights" id="insights" aria-labelledby="insights-title" tabindex="-1">
    <div class="card-h"><h2 id="insights-title">Insights</h2><span class="hint" id="insights-hint"></span></div>
    <div class="ins-grid">
      <div class="ins-col ins-now">
        <div class="ins-head">Now</div>
        <div class="ins-stats">
          <div class="ins-stat" id="ins-burn"><div class="is-label">Burn rate</div><div class="is-value"></div><div class="is-sub"></div></div>
          <div class="ins-stat" id="ins-eod"><div class="is-label">End of day</div><div class="is-value"></div><div class="is-sub"></div></div>
          <div class="ins-stat" id="ins-eom"><div class="is-label">End of month</div><div class="is-value"></div><div class="is-sub"></div></div>
        </div>
        <div id="budgets" class="budgets" hidden></div>
      </div>
      <div class="ins-col"><div class="ins-head">Spikes <span class="hint" id="spikes-hint"></span></div><ul class="ins-list" id="ins-spikes"></ul></div>
      <div class="ins-col"><div class="ins-head">Tips <span class="hint" id="tips-hint"></span></div><ul class="ins-list" id="ins-tips"></ul></div>
    </div>
    <div id="insights-error" class="ins-error" role="status" hidden></div>
  </section>
  <section class="grid">
    <div class="card span2"><div class="card-h"><h2>Token usage</h2><span class="hint">per day; cache on the right axis</span></div>
      <div class="chart tall"><canvas id="chart-trend" role="img" aria-label="Token usage per day"></canvas></div></div>
    <div class="card"><div class="card-h"><h2>Model distribution</h2></div>
      <div class="donuts">
        <figure><div class="chart donut"><canvas id="chart-share-tokens" role="img" aria-label="Share of tokens by model"></canvas></div><figcaption>by tokens</figcaption></figure>
        <figure><div class="chart donut"><canvas id="chart-share-money" role="img" aria-label="Share of cost by model"></canvas></div><figcaption id="share-money-caption"></figcaption></figure>
      </div>
      <ul class="legend" id="model-legend"></ul></div>
    <div class="card span3"><div class="card-h"><h2 id="daily-title"></h2><span class="hint" id="daily-hint"></span>
      <span class="hint spikes-key" id="daily-spikes" hidden><span class="sp-dot" aria-hidden="true"></span>unusual spend: hover the mark, or see Insights</span></div>
      <div class="chart"><canvas id="chart-daily" role="img" aria-label="Daily credits or cost by model"></canvas></div></div>
    <div class="card span3"><div class="card-h"><h2>Token usage by model</h2></div>
      <div class="scroll"><table class="t" id="models-table"><thead><tr>
        <th>Model</th><th class="n">Messages</th><th class="n">Input</th><th class="n">Output</th><th class="n">Cache read</th>
        <th class="n">Cache write</th><th class="n">Total</th><th class="n">Credits</th><th class="n">Cost</th><th class="n">Share</th><th>Trend</th>
      </tr></thead><tbody></tbody></table></div></div>
    <div class="card span2"><div class="card-h"><h2>Projects</h2><span class="hint">click a project to filter by it</span></div>
      <div class="scroll"><table class="t" id="projects-table"><thead><tr>
        <th>Project</th><th class="n">Messages</th><th class="n">Tokens</th><th class="n">Credits</th><th class="n">Cost</th>
      </tr></thead><tbody></tbody></table></div></div>
    <div class="card"><div class="card-h"><h2>Users</h2></div>
      <div class="scroll"><table class="t" id="users-table"><thead><tr>
        <th>User</th><th class="n">Messages</th><th class="n">Tokens</th><th class="n" id="users-money"></th>
      </tr></thead><tbody></tbody></table></div></div>
    <div class="card span3" id="sessions-card"><div class="card-h"><h2>Sessions</h2><span class="hint">one row per conversation, newest first; click one to see its interactions</span>
      <div class="tools"><span id="sessions-label" class="hint"></span>
        <button type="button" id="sessions-prev" aria-label="Previous sessions">&#8249; Prev</button>
        <button type="button" id="sessions-next" aria-label="Next sessions">Next &#8250;</button></div></div>
      <div class="scroll"><table class="t" id="sessions-table"><thead><tr>
        <th>Started</th><th>Session</th><th>Project</th><th>Models</th><th class="n">Duration</th><th class="n">Messages</th>
        <th class="n">Tokens</th><th class="n" id="sessions-money"></th><th class="n" title="the part made by sub-agents">Sub-agents</th>
      </tr></thead><tbody></tbody></table></div></div>
    <div class="card span3"><div class="card-h"><h2>Interactions</h2><span id="rows-session"></span>
      <div class="tools"><span id="rows-label" class="hint"></span>
        <button type="button" id="prev" aria-label="Previous page">&#8249; Prev</button>
        <button type="button" id="next" aria-label="Next page">Next &#8250;</button>
        <label class="hint">Rows <select id="page-size"><option>25</option><option selected>50</option><option>100</option><option>250</option></select></label>
        <button type="button" id="export">Export CSV</button><span id="export-note" class="hint" role="status"></span></div></div>
      <div class="scroll"><table class="t sortable" id="rows-table"><thead><tr>
        <th data-sort="timestamp">Date &amp; time</th><th data-sort="project">Project</th><th data-sort="model">Model</th>
        <th data-sort="user">User</th><th class="n" data-sort="inputTokens">Sent</th><th class="n" data-sort="outputTokens">Received</th>
        <th class="n" data-sort="cacheReadTokens">Cache read</th><th class="n" data-sort="cacheWriteTokens">Cache write</th>
        <th class="n" data-sort="totalTokens">Total</th><th class="n" data-sort="credits" id="rows-money"></th>
      </tr></thead><tbody></tbody></table></div></div>
  </section>
</main>
<footer class="foot"><span>usage-ls</span> · <span id="foot-note"></span></footer>
<div id="model-card" class="model-card" role="tooltip" hidden></div>
</div>
<script type="application/json" id="usage-data">{data}</script>
<script nonce="{nonce}">{chartjs}</script>
<script nonce="{nonce}">{js}</script>
</body>
</html>
"""


def render(boot: dict, nonce: str) -> str:
    mode = boot["mode"]
    fields = {
        "csp": csp(nonce, mode),
        "nonce": nonce,
        "css": asset("dashboard.css") + asset("limits.css"),
        "data": json_for_script(boot),
        "chartjs": asset("chart.umd.min.js"),
        # cards in their own files register first (window.usageCards), then the page starts
        "js": asset("limits.js") + "\n" + asset("dashboard.js"),
    }
    # str.format would trip on the braces of CSS and JS: substitute each marker once
    return re.sub(r"\{(csp|nonce|css|data|chartjs|js)\}", lambda m: fields[m.group(1)], SKELETON)
