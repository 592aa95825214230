"""An editor stand-in for tests: starts the real `usage-ls serve` over stdio with pytest-lsp's
client, keeps custom results as the JSON an editor sees, and records what the server pushes."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import register_lsp_features

from usage_ls.lspclient import raw_converter

SERVER = [sys.executable, "-m", "usage_ls", "serve", "--stdio"]


class Editor:
    def __init__(
        self,
        data_dir: Path,
        workspace: str = "widget",
        init_options: dict | None = None,
        capabilities: types.ClientCapabilities | None = None,
    ):
        self.capabilities = capabilities or types.ClientCapabilities()
        self.data_dir = Path(data_dir)
        self.workspace = workspace
        self.init_options = {"dataDir": str(data_dir), **(init_options or {})}
        self.client = LanguageClient(converter_factory=raw_converter)
        register_lsp_features(self.client)
        self.changes: list[dict] = []
        self.changed = asyncio.Event()

        @self.client.feature("usage/didChange")
        def _did_change(params):
            self.changes.append(params)
            self.changed.set()

    @property
    def messages(self) -> list[str]:
        return [m.message for m in self.client.messages]

    @property
    def log_messages(self) -> list[str]:
        return [m.message for m in self.client.log_messages]

    async def start(self) -> Editor:
        env = {**os.environ, "USAGE_LS_DATA_DIR": str(self.data_dir)}
        await self.client.start_io(*SERVER, env=env)
        root = self.data_dir.parent / self.workspace
        root.mkdir(parents=True, exist_ok=True)
        self.init_result = await self.client.initialize_session(
            types.InitializeParams(
                capabilities=self.capabilities,
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=self.workspace)],
                initialization_options=self.init_options,
            )
        )
        # a starting server pushes its status at once and again with the full tooltip
        # (insights) a moment later: start tests from what a user sees after a second
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(self.changes) < 2 and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return self

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_session(), 15)
        finally:
            await self.client.stop()

    async def __aenter__(self) -> Editor:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def request(self, method: str, params: dict | None = None):
        return await asyncio.wait_for(self.client.protocol.send_request_async(method, params or {}), 30)

    def notify(self, method: str, params: dict) -> None:
        self.client.protocol.notify(method, params)

    async def record(self, *records: dict) -> dict:
        return await self.request("usage/record", {"records": list(records)})

    async def wait_change(self, predicate, timeout: float = 5.0) -> dict:
        """The first pushed usage/didChange (from now on, or already seen) that satisfies predicate."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for change in reversed(self.changes):
                if predicate(change):
                    return change
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no matching usage/didChange within {timeout}s; last: {self.changes[-1:]}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_message(self, predicate, timeout: float = 5.0) -> str:
        """The first window/showMessage text satisfying predicate, waiting for it if needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for message in self.messages:
                if predicate(message):
                    return message
            await asyncio.sleep(0.05)
        raise AssertionError(f"no matching window/showMessage within {timeout}s; got {self.messages}")

    def open_doc(self, name: str, text: str) -> str:
        uri = (self.data_dir.parent / self.workspace / name).as_uri()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=text)
            )
        )
        return uri

    async def hover(self, uri: str, line: int, character: int):
        return await self.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line=line, character=character))
        )


def write_config(data_dir: Path, text: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.toml").write_text(text, encoding="utf-8")


def rec(model: str = "claude-sonnet-4-5", inp: int = 1000, out: int = 100, **kw) -> dict:
    return {"model": model, "inputTokens": inp, "outputTokens": out, **kw}
