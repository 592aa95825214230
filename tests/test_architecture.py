"""The house rules, checked: no import circles in usage_ls, no module reaching into another's
private names, no module past ~450 lines, and the VS Code client's list of dashboard methods
is the protocol's."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from usage_ls import protocol

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "usage_ls"
PUBLIC_UNDERSCORE = {"_exit", "_make", "_replace", "_asdict", "_fields"}  # os._exit, NamedTuple API
# a dependency's private name we use on purpose, each with where and why:
# price_data.py validates fetched price data with genai-prices' own loader, the function its
# public UpdatePrices.fetch calls (genai-prices is pinned <0.3; tests/test_prices_update.py fails if it goes)
FOREIGN_PRIVATE = {"_providers_from_raw"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of ours that `name` imports, anywhere in it (inside functions too); importing
    a.b.c runs a and a.b first, so those count."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix in modules and prefix != name and not name.startswith(prefix + "."):
                    found.add(prefix)
    return found


def test_no_import_circles():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles = []

    def visit(node, stack, on_stack, done):
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt in on_stack:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in done:
                visit(nxt, stack, on_stack, done)
        on_stack.discard(stack.pop())
        done.add(node)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [], set(), done)
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_module_reaches_into_another_modules_private_names():
    found = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text())
        own = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                own.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                own.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                found += [
                    f"{name}: imports {a.name}"
                    for a in node.names
                    if re.match(r"_[^_]", a.name) and a.name not in FOREIGN_PRIVATE
                ]
            elif isinstance(node, ast.Attribute) and re.match(r"_[^_]", node.attr):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue
                if node.attr in own or node.attr in PUBLIC_UNDERSCORE:
                    continue
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_no_module_is_past_450_lines():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 460}
    assert not long, f"modules past ~450 lines: {long}"


def test_the_vscode_clients_dashboard_methods_are_the_protocols():
    ts = (ROOT / "editor-clients" / "vscode" / "src" / "protocol.ts").read_text()
    block = re.search(r"DASHBOARD_METHODS[^=]*=\s*new Set\(\[(.*?)\]\)", ts, re.S)
    assert block, "DASHBOARD_METHODS not found in protocol.ts"
    listed = set(re.findall(r'"(usage/[A-Za-z]+)"', block.group(1)))
    assert listed == {m.name for m in protocol.DASHBOARD_METHODS.values()}
