"""End-to-end tests of editor-clients/vscode in the real VS Code workbench (code-server in
headless Chromium); see vscode_workbench.py and docs/vscode.md."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # lets a fixture see whether its test failed (to print the extension's log then)
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)
