"""The language server: a switchboard from LSP methods to the `Usage` service.

Each handler is short and delegates. Custom `usage/*` params reach us as plain JSON (see
`UsageProtocol`), are validated by the queries/model layer, and errors come back as JSON-RPC
errors naming the field. Background work (seeing other processes' writes, group commit,
checkpoints, budget alerts) runs as asyncio tasks started on `initialized`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gc
import logging
import os
import stat
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from usage_ls import __version__, editor_features, heap, protocol, statusline, transport, upkeep, views
from usage_ls.config import load_config
from usage_ls.errors import InvalidParams, StoreRefused
from usage_ls.model import Defaults
from usage_ls.service import Usage, default_name
from usage_ls.sources import Sources
from usage_ls.team.background import TeamSync
from usage_ls.team.db import TeamError

log = logging.getLogger("usage_ls")

SYNC_DELAY = 0.05  # group commit for notifications: fsync at most every 50 ms ...
SYNC_COUNT = 100  # ... or every 100 records
PUSH_DELAY = 0.1  # didChange at most every 100 ms: a lone change at once, a burst's rest in one update


class UsageServer(LanguageServer):
    def __init__(self):
        super().__init__("usage-ls", __version__, protocol_cls=transport.UsageProtocol)
        self.usage: Usage | None = None
        self.project: str | None = None
        self.user: str | None = None
        self.pushed_version = -1
        self.unsynced = 0
        self.sync_handle: asyncio.TimerHandle | None = None
        self.push_handle: asyncio.Handle | None = None
        self.last_push = float("-inf")  # loop time of the last didChange
        self.tasks: list[asyncio.Task] = []
        self.checkpointing = False
        self.last_write = 0.0
        self.disk_warned = False
        self.team_sync: TeamSync | None = None  # pushes to the team database ([sync] postgres)
        self.sources = Sources(self)  # logs watched, their history, the OTLP receiver: started on `initialized`
        self.editor = editor_features.EditorFeatures(self)  # commands, dashboard child, progress status
        self.progress_status = False

    def start_io(self, stdin=None, stdout=None):
        """pygls reads stdin through a thread pool, one hop per header line and body: ~0.5 ms a
        message, which caps a stream of single-record notifications well below 2,000/s. An
        asyncio pipe reader reads on the loop itself, in chunks (`transport.read_messages` cuts
        them into messages); a file or a terminal is read in a thread."""
        stdin = stdin or sys.stdin.buffer
        mode = os.fstat(stdin.fileno()).st_mode
        pipe = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)

        async def main():
            loop = asyncio.get_running_loop()
            if pipe:
                reader = asyncio.StreamReader(limit=1 << 30)
                await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
                read = functools.partial(reader.read, 1 << 20)
            else:
                read1 = getattr(stdin, "read1", stdin.read)
                read = functools.partial(loop.run_in_executor, self.thread_pool, read1, 1 << 16)
            self._stop_event = threading.Event()
            self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
            await transport.read_messages(read, self.protocol, self._stop_event)

        try:
            asyncio.run(main())
        except (BrokenPipeError, ConnectionResetError):
            log.info("the editor closed the connection")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def report_server_error(self, error: Exception, source) -> None:
        # a malformed message must not pop "Error in server" in the user's editor: log it
        log.error("%s", error)
        try:
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=f"usage-ls: {error}"))
        except Exception:
            pass

    # -- helpers ---------------------------------------------------------------------------

    def svc(self) -> Usage:
        if self.usage is None:
            self.open_usage(None)
        return self.usage

    def open_usage(self, data_dir: str | None) -> None:
        cfg = load_config(data_dir)
        self.usage = Usage(cfg).open()
        self.usage.defer_insights = True
        team = self.usage.budgets.team
        if team is not None:  # the team's budgets are read in a thread: the editor never waits for the database
            team.wait = False
            team.on_change = functools.partial(asyncio.get_running_loop().call_soon_threadsafe, self.budgets_read)
        for problem in cfg.errors:
            self.tell(f"usage-ls config: {problem}", types.MessageType.Warning)
        self.tell_problems()

    def budgets_read(self) -> None:
        """The team database answered something new for the budgets: redraw, check the alerts."""
        self.pushed_version = -1
        self.request_push()

    def tell_problems(self) -> None:
        for problem in self.usage.take_problems():
            self.tell(f"usage-ls: {problem}", types.MessageType.Warning)

    def tell(self, message: str, kind=types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def defaults(self) -> Defaults:
        return self.svc().defaults(self.project, self.user)

    def push(self, force: bool = False) -> None:
        svc = self.svc()
        if not force and svc.version == self.pushed_version:
            return
        self.pushed_version = svc.version
        self.last_push = asyncio.get_running_loop().time()
        status = views.status_bar(svc)
        self.protocol.notify(protocol.DID_CHANGE, {"today": svc.summary(), "statusBar": status, "limits": svc.limits()})
        self.editor.status_changed(status["text"])
        # after the editor's update (its file write can take milliseconds): status line commands
        # (Claude Code's, tmux) read it, no ledger to open
        statusline.cache_status(svc)
        for message in views.alerts(svc):
            self.tell(message, types.MessageType.Warning)
        heap.trim_if_grown()

    def warm_insights(self) -> None:
        """Compute the status bar's insights (burn rate, spikes) after the first answers, then
        push the complete tooltip: a cold start answers within a second either way."""
        svc = self.svc()
        if not svc.defer_insights:
            return
        svc.defer_insights = False
        svc.forget_results()
        try:
            self.push(force=True)
        except Exception:
            log.exception("warming insights")

    def warm_prices(self) -> None:
        """Load genai-prices' table (~0.2 s) a second after start, while the editor is most
        likely idle, rather than on the first hover of a model name."""
        try:
            self.svc().pricer.warm()
            # its pydantic models are many new objects: collect now, in this idle moment, rather
            # than in a full collection that a later request would wait for
            gc.collect()
            # then leave what start-up made (modules, price tables: ~100,000 objects) out of
            # every later collection: a year's team `usage/daily` answer is ~3,000 new dicts
            # living until it is sent, and every few such answers the garbage collector's full
            # pass over the whole heap took 120-180 ms (under load), the answers' spikes
            gc.freeze()
        except Exception:
            log.exception("warming prices")

    def request_push(self, now: bool = False) -> None:
        """Push what changed: at once (after the message being handled is answered, and the
        others read with it; `now`: before returning) when no push went out in the last
        PUSH_DELAY; else once that interval is over, with everything that came meanwhile. A
        burst of records is then one push at its start and one per 100 ms after, never one per
        record."""
        if self.push_handle is None:
            loop = asyncio.get_running_loop()
            wait = self.last_push + PUSH_DELAY - loop.time()
            if wait <= 0 and now:
                self._delayed_push()
            elif wait <= 0:
                self.push_handle = loop.call_soon(self._delayed_push)
            else:
                self.push_handle = loop.call_later(wait, self._delayed_push)

    def _delayed_push(self) -> None:
        self.push_handle = None
        try:
            self.push()
        except Exception:
            log.exception("push")

    def schedule_sync(self, count: int) -> None:
        self.unsynced += count
        if self.unsynced >= SYNC_COUNT:
            self.flush()
        elif self.sync_handle is None:
            self.sync_handle = asyncio.get_running_loop().call_later(SYNC_DELAY, self.flush)

    def flush(self) -> None:
        if self.sync_handle is not None:
            self.sync_handle.cancel()
            self.sync_handle = None
        if self.unsynced:
            self.unsynced = 0
            self.svc().sync()

    async def watch(self) -> None:
        await upkeep.watch(self)

    async def checkpoint_in_child(self, svc: Usage) -> None:
        await upkeep.checkpoint_in_child(self, svc)

    def stop_usage(self) -> None:
        self.sources.stop()
        self.editor.stop()
        if self.team_sync is not None:
            self.team_sync.stop()  # the push worker exits (after the push under way, if any)
            self.team_sync = None
        for task in self.tasks:
            task.cancel()
        if self.usage is not None:
            self.flush()
            self.usage.close()
            self.usage = None


def _folder_name(params: types.InitializeParams) -> str | None:
    uri = None
    if params.workspace_folders:
        uri = params.workspace_folders[0].uri
    elif params.root_uri:
        uri = params.root_uri
    if uri:
        path = unquote(urlparse(uri).path).rstrip("/")
        return Path(path).name or None
    if params.root_path:
        return Path(params.root_path).name or None
    return None


def _params(params: Any) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise JsonRpcInvalidParams("params: expected an object")
    return params


server = UsageServer()


@server.feature(types.INITIALIZE)
def initialize(ls: UsageServer, params: types.InitializeParams) -> None:
    opts, problems = protocol.InitOptions.read(params.initialization_options)
    ls.process_id = params.process_id
    ls.project = opts.project
    if ls.project is None:  # the folder's name, made safe if it must be
        ls.project, problem = default_name(_folder_name(params), "project", "the workspace folder's name")
        if problem:
            problems.append(f"{problem} (initializationOptions.project sets one)")
    ls.user = opts.user
    ls.progress_status = opts.progressStatus
    try:
        ls.open_usage(opts.dataDir)
    except StoreRefused as exc:  # told, and the editor's start fails with the same words
        ls.tell(f"usage-ls: {exc}", types.MessageType.Error)
        raise
    for problem in problems:
        ls.tell(f"usage-ls: {problem}", types.MessageType.Warning)


@server.feature(types.INITIALIZED)
async def initialized(ls: UsageServer, params: types.InitializedParams) -> None:
    ls.tasks.append(asyncio.ensure_future(ls.watch()))
    ls.push(force=True)
    if ls.progress_status:
        ls.tasks.append(asyncio.ensure_future(ls.editor.start_progress()))
    ls.sources.start_receiver()
    asyncio.get_running_loop().call_later(0.3, ls.sources.watch_logs)  # after the first status bar
    asyncio.get_running_loop().call_later(0.2, ls.warm_insights)
    asyncio.get_running_loop().call_later(1.0, ls.warm_prices)


@server.feature(types.SHUTDOWN)
def shutdown(ls: UsageServer, params: Any) -> None:
    ls.stop_usage()


@server.feature(protocol.RECORD)
def record(ls: UsageServer, params: Any):
    """Request: returns {accepted, duplicates, rejected}. Notification: rejections are told."""
    is_request = _is_request(ls)
    try:
        records = _params(params).get("records")
        result = ls.svc().record(records, ls.defaults(), sync=is_request)
    except (InvalidParams, JsonRpcInvalidParams) as exc:
        if is_request:
            raise JsonRpcInvalidParams(str(exc)) from None
        ls.tell(f"usage-ls: a usage/record notification was refused: {exc}", types.MessageType.Warning)
        return None
    if "warning" in result and not ls.disk_warned:
        ls.disk_warned = True
        ls.tell(f"usage-ls: {result['warning']}", types.MessageType.Error)
    if not is_request and result["rejected"]:
        for r in result["rejected"]:
            ls.window_log_message(
                types.LogMessageParams(
                    type=types.MessageType.Warning,
                    message=f"usage-ls: record {r['index']} rejected: {r['field']}: {r['message']}",
                )
            )
        first = result["rejected"][0]
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"usage-ls: {len(result['rejected'])} record(s) rejected, e.g. record {first['index']}: "
                f"{first['field']} {first['message']} (details in the log)",
            )
        )
    if result["accepted"]:
        ls.last_write = asyncio.get_running_loop().time()
        if not is_request:
            ls.schedule_sync(result["accepted"])
        ls.request_push()
    return result if is_request else None


def _is_request(ls: UsageServer) -> bool:
    """pygls runs request handlers (not notifications) with the request id in context."""
    return ls.protocol.msg_id is not None


# methods whose `scope: "team"` answer comes from the team database alone (service.team): asked
# in a thread of their own, so that the editor's hovers, status bar and records never wait for
# PostgreSQL (team insights over a month of a big team take a second or more)
TEAM_OFF_LOOP = frozenset(m.short for m in protocol.METHODS if m.team)
_team_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _team_thread() -> concurrent.futures.ThreadPoolExecutor:
    """One thread for team answers: one at a time, as the team connection serves them anyway."""
    global _team_pool
    if _team_pool is None:
        _team_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="usage-ls-team")
    return _team_pool


def _register(method: protocol.Method) -> None:
    """An LSP handler for one method of the protocol table: params checked, errors named."""

    def call(svc: Usage, params: Any) -> Any:
        try:
            return method.call(svc, params)
        except InvalidParams as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        except TeamError as exc:  # the team database down or refusing: said, without secrets
            raise JsonRpcInternalError(str(exc)) from None

    def handler(ls: UsageServer, params: Any) -> Any:
        return call(ls.svc(), _params(params))

    async def team_or_local(ls: UsageServer, params: Any) -> Any:
        p = _params(params)
        if isinstance(p, dict) and p.get("scope") == "team":
            return await asyncio.get_running_loop().run_in_executor(_team_thread(), call, ls.svc(), p)
        return call(ls.svc(), p)

    async def team_page(ls: UsageServer, params: Any) -> Any:
        """The Team page: its team answers asked in the team thread, the page built on the
        loop from them with this machine's (dashboard/offloop.py)."""
        p = _params(params)
        if not (isinstance(p, dict) and p.get("scope") == "team"):
            return call(ls.svc(), p)
        from usage_ls.dashboard.offloop import Recording, Replay

        recording = Recording(ls.svc())
        await asyncio.get_running_loop().run_in_executor(_team_thread(), call, recording, p)
        return call(Replay(ls.svc(), recording.answers), p)

    chosen = team_or_local if method.short in TEAM_OFF_LOOP else team_page if method.short == "dashboard" else handler
    chosen.__name__ = method.short
    server.feature(method.name)(chosen)


for _method in protocol.METHODS:
    _register(_method)
editor_features.register(server, record)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: UsageServer, params: types.HoverParams) -> types.Hover | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    lines = doc.lines
    if params.position.line >= len(lines):
        return None
    line = lines[params.position.line]
    model = ls.svc().model_at(line, editor_features.utf16_to_index(line, params.position.character))
    if model is None:
        return None
    # Markdown unless the client names the formats it takes and Markdown is not one of them
    hover_caps = ls.client_capabilities.text_document and ls.client_capabilities.text_document.hover
    formats = hover_caps.content_format if hover_caps else None
    markdown = not formats or types.MarkupKind.Markdown in formats
    kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
    return types.Hover(contents=types.MarkupContent(kind=kind, value=views.hover(ls.svc(), model, markdown)))


def serve() -> int:
    logging.basicConfig(level=logging.WARNING, format="usage-ls %(levelname)s %(message)s")  # stderr
    # pygls warns on stderr about ordinary client behaviour (cancelling a finished request);
    # editors show stderr as errors
    logging.getLogger("pygls").setLevel(logging.ERROR)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(transport.QuietParams())
    try:
        server.start_io()
    finally:
        server.stop_usage()
    return 0
