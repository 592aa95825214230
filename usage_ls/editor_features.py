"""What every LSP editor gets without a usage-ls client of its own (Emacs, Helix, Zed, Sublime,
Kate, vim-lsp ...): commands, code actions on model names, and today's credits as progress.

- `workspace/executeCommand` (advertised in the server's capabilities):
    usage-ls.openDashboard [{filter}]  starts (or reuses) the local dashboard on 127.0.0.1 and
                                       asks the editor to open it (`window/showDocument`,
                                       external); an editor without showDocument gets the URL
                                       in a `window/showMessage`. Returns {url, shown}.
    usage-ls.showToday                 today's credits, cost, tokens, top models, budgets and
                                       plan windows as one `window/showMessage`. Returns it.
    usage-ls.showModel "<model>"       the model's usage today (what its hover says), as a message.
    usage-ls.record {records: [...]}   records usage, as `usage/record` (returns its answer).
- `textDocument/codeAction` on a model name (and nowhere else): "Show usage of <model>" and
  "Open Usage Dashboard filtered to <model>".
- `initializationOptions.progressStatus: true`: one never-ending `$/progress` whose message is
  the status-bar text (`12.4 cr ▁▂▅▇ · 5h 42%`), for editors that show progress in their status
  line. Off by default; at most one update per `PROGRESS_INTERVAL` seconds, the last one always
  sent.

The dashboard runs as a child process (`usage-ls dashboard --no-open --port 0`) on the same
data directory: the service is not shared between threads, and the child ends with the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from typing import Any
from urllib.parse import quote

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from usage_ls import child, views
from usage_ls.render.status import budget_lines
from usage_ls.render.text import credits, plain, plural, spark, tokens, usd

log = logging.getLogger(__name__)

OPEN_DASHBOARD = "usage-ls.openDashboard"
SHOW_TODAY = "usage-ls.showToday"
SHOW_MODEL = "usage-ls.showModel"
RECORD = "usage-ls.record"
COMMANDS = (OPEN_DASHBOARD, SHOW_TODAY, SHOW_MODEL, RECORD)
PROGRESS_INTERVAL = 2.0  # seconds between two progress-status updates, at most one each
DASHBOARD_START = 30.0  # seconds the dashboard child may take to print its address
FILTER_KEYS = ("from", "to", "project", "user", "model", "billing")


class EditorFeatures:
    """The state behind the commands and the progress status of one language server."""

    def __init__(self, server: Any) -> None:
        self.server = server  # UsageServer
        self.child: asyncio.subprocess.Process | None = None
        self.url: str | None = None
        self.starting: asyncio.Lock | None = None
        self.drain: asyncio.Future[None] | None = None
        self.progress_token: str | None = None
        self.progress_text: str | None = None
        self.progress_sent = 0.0
        self.progress_handle: asyncio.TimerHandle | None = None

    # -- the dashboard ----------------------------------------------------------------------------

    async def dashboard(self) -> str:
        """The running dashboard's address (with its token), started when none runs."""
        if self.starting is None:
            self.starting = asyncio.Lock()
        async with self.starting:
            if self.child is not None and self.child.returncode is None and self.url:
                return self.url
            data_dir = str(self.server.svc().cfg.data_dir)
            self.child = await child.start(
                data_dir,
                "dashboard",
                "--no-open",
                "--port",
                "0",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env={**os.environ, "USAGE_LS_WATCH": "off", "USAGE_LS_EXIT_WITH": str(os.getpid())},
            )
            assert self.child.stdout is not None
            try:
                line = await asyncio.wait_for(self.child.stdout.readline(), DASHBOARD_START)
            except TimeoutError:
                self._kill()
                raise RuntimeError("the dashboard did not start within 30 s") from None
            text = line.decode("utf-8", "replace")
            start = text.find("http://")
            if start < 0:
                rest = await asyncio.wait_for(self.child.stdout.read(2000), 5)
                self._kill()
                raise RuntimeError(f"the dashboard did not start: {(line + rest).decode('utf-8', 'replace').strip()}")
            self.url = text[start:].split()[0]
            self.drain = asyncio.ensure_future(self._drain(self.child.stdout))
            return self.url

    async def _drain(self, out: asyncio.StreamReader) -> None:
        """The dashboard's later output (warnings, errors) into the log, never a full pipe."""
        while line := await out.readline():
            log.warning("dashboard: %s", line.decode("utf-8", "replace").rstrip())

    def _kill(self) -> None:
        if self.child is not None and self.child.returncode is None:
            try:
                self.child.kill()
            except ProcessLookupError:
                pass
        self.child, self.url = None, None

    async def open_dashboard(self, flt: dict[str, Any]) -> dict[str, Any]:
        url = await self.dashboard()
        extra = "".join(f"&{key}={quote(str(flt[key]), safe='')}" for key in FILTER_KEYS if flt.get(key))
        url += extra
        window = self.server.client_capabilities.window
        if window is not None and window.show_document is not None and window.show_document.support:
            from usage_ls.dashboard.serve import launch_file

            # the browser opens a file that forwards to the URL: its command line (seen by every
            # local user) then holds no token
            opener = launch_file(self.server.svc().cfg.data_dir, url)
            result = await self.server.window_show_document_async(
                types.ShowDocumentParams(uri=opener.as_uri(), external=True)
            )
            if result is not None and result.success:
                return {"url": url, "shown": True}
        self.server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Info, message=f"usage-ls: Usage Dashboard: {url}")
        )
        return {"url": url, "shown": False}

    # -- progress status --------------------------------------------------------------------------

    async def start_progress(self) -> None:
        """Begin the status progress (when asked for with `progressStatus`, and the editor
        takes progress)."""
        window = self.server.client_capabilities.window
        if not (window and window.work_done_progress):
            log.info("progressStatus: the editor does not take work-done progress")
            return
        token = f"usage-ls-status-{uuid.uuid4().hex[:8]}"
        try:
            await asyncio.wait_for(self.server.work_done_progress.create_async(token), 5)
        except Exception:
            log.info("progressStatus: the editor refused a progress token")
            return
        self.progress_token = token
        text = views.status_bar(self.server.svc())["text"]
        self.server.work_done_progress.begin(token, types.WorkDoneProgressBegin(title="usage-ls", message=text))
        self.progress_text, self.progress_sent = text, time.monotonic()

    def status_changed(self, text: str) -> None:
        """A new status-bar text: reported now, or at the end of the current interval."""
        if self.progress_token is None or text == self.progress_text:
            return
        wait = self.progress_sent + PROGRESS_INTERVAL - time.monotonic()
        if wait <= 0:
            self._report(text)
        elif self.progress_handle is None:
            self.progress_handle = asyncio.get_running_loop().call_later(wait, self._report_latest)

    def _report_latest(self) -> None:
        self.progress_handle = None
        try:
            self._report(views.status_bar(self.server.svc())["text"])
        except Exception:
            log.exception("progress status")

    def _report(self, text: str) -> None:
        if self.progress_token is None or text == self.progress_text:
            return
        self.server.work_done_progress.report(self.progress_token, types.WorkDoneProgressReport(message=text))
        self.progress_text, self.progress_sent = text, time.monotonic()

    def stop(self) -> None:
        if self.progress_handle is not None:
            self.progress_handle.cancel()
            self.progress_handle = None
        self._kill()


# -- what the messages say -------------------------------------------------------------------------


def today_message(svc: Any) -> str:
    """Today in one message: credits and cost, tokens, the top models, budgets, plan windows."""
    data = svc.status_data(svc.status_mode(None))
    premium, byok = data["premium"], data["byok"]
    messages = premium["messages"] + byok["messages"]
    if not messages:
        head = f"usage-ls: no AI usage recorded today ({data['today']})."
    else:
        head = (
            f"usage-ls today ({data['today']}): {credits(premium['credits'])} credits, {usd(byok['costUsd'])} BYOK, "
            f"{tokens(premium['totalTokens'] + byok['totalTokens'])} tokens in {plural(messages, 'message')}."
        )
    parts = [head]
    if data["models"]:
        top = [
            f"{plain(m['model'])} {tokens(m['totalTokens'])} tok"
            + (f", {credits(m['premiumCredits'])} cr" if m["premiumCredits"] else "")
            + (f", {usd(m['byokUsd'])}" if m["byokUsd"] else "")
            for m in data["models"][:3]
        ]
        parts.append("Top models: " + "; ".join(top) + ".")
    lines = budget_lines(data["budgets"])
    if lines:
        parts.append("Budgets: " + "; ".join(lines) + ".")
    windows = data["limits"]
    if windows:
        shown = [
            f"{plain(w['label'])} {w['usedPercent']:.0f}%" + (" (estimated)" if w.get("estimated") else "")
            for w in windows[:3]
        ]
        parts.append("Plan windows: " + ", ".join(shown) + ".")
    return " ".join(parts)


def model_message(svc: Any, model: str) -> str:
    """What the hover over `model` says, as one plain line."""
    svc.refresh()
    data = svc.model_data(model)
    stats = data["stats"]
    head = f"usage-ls: {plain(data['model'])} today ({data['today']}): "
    if not stats or not stats["messages"]:
        return head + "no usage."
    cost = usd(stats["costUsd"]) + (f" ({stats['unpricedMessages']:,} unpriced)" if stats["unpricedMessages"] else "")
    return head + (
        f"{tokens(stats['totalTokens'])} tokens (input {stats['inputTokens']:,}, output {stats['outputTokens']:,}, "
        f"cache read {stats['cacheReadTokens']:,}, cache write {stats['cacheWriteTokens']:,}); "
        f"{credits(stats['credits'])} credits, {cost}, {plural(stats['messages'], 'message')}. "
        f"Last 7 days: {spark(data['weekTokens'])}. {data['priceNote']}."
    )


# -- registration ----------------------------------------------------------------------------------


def _filter_arg(args: tuple[Any, ...]) -> dict[str, Any]:
    if not args or args[0] is None:
        return {}
    if not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(f"{OPEN_DASHBOARD}: arguments[0]: expected a filter object")
    flt = args[0]
    for key in FILTER_KEYS:
        if key in flt and flt[key] is not None and not isinstance(flt[key], str):
            raise JsonRpcInvalidParams(f"{OPEN_DASHBOARD}: arguments[0].{key}: expected a string")
    return flt


def register(server: Any, record: Any) -> None:
    """Add the commands and the code action to `server`; `record` is the usage/record handler."""

    @server.command(OPEN_DASHBOARD)
    async def open_dashboard(ls: Any, *args: Any) -> dict[str, Any]:
        flt = _filter_arg(args)
        try:
            return await ls.editor.open_dashboard(flt)
        except (OSError, RuntimeError) as exc:
            ls.tell(f"usage-ls: cannot open the dashboard: {exc}", types.MessageType.Error)
            raise

    @server.command(SHOW_TODAY)
    def show_today(ls: Any, *args: Any) -> str:
        message = today_message(ls.svc())
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=message))
        return message

    @server.command(SHOW_MODEL)
    def show_model(ls: Any, *args: Any) -> str:
        if not args or not isinstance(args[0], str) or not args[0]:
            raise JsonRpcInvalidParams(f"{SHOW_MODEL}: arguments[0]: expected a model name")
        message = model_message(ls.svc(), args[0])
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=message))
        return message

    @server.command(RECORD)
    def record_command(ls: Any, *args: Any) -> Any:
        if len(args) != 1 or not isinstance(args[0], dict):
            raise JsonRpcInvalidParams(f'{RECORD}: arguments: expected one object, {{"records": [...]}}')
        return record(ls, args[0])

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.Empty], resolve_provider=False),
    )
    def code_action(ls: Any, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        doc = ls.workspace.get_text_document(params.text_document.uri)
        pos = params.range.start
        if pos.line >= len(doc.lines):
            return None
        line = doc.lines[pos.line]
        model = ls.svc().model_at(line, utf16_to_index(line, pos.character))
        if model is None:
            return None
        return [
            types.CodeAction(
                title=f"Show usage of {model}",
                kind=types.CodeActionKind.Empty,
                command=types.Command(title=f"Show usage of {model}", command=SHOW_MODEL, arguments=[model]),
            ),
            types.CodeAction(
                title="Open Usage Dashboard filtered to this model",
                kind=types.CodeActionKind.Empty,
                command=types.Command(
                    title="Open Usage Dashboard filtered to this model",
                    command=OPEN_DASHBOARD,
                    arguments=[{"model": model}],
                ),
            ),
        ]


def utf16_to_index(line: str, units: int) -> int:
    """The index in `line` of the LSP position `units` (UTF-16 code units)."""
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(line)
