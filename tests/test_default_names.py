"""The default project and user follow the record rules: a name a record could not carry
(control characters, over 200 characters) is never stored as a default either. Names the
user set (initializationOptions, config.toml) are refused and their default used; names
usage-ls found (the workspace folder's, the login's) are repaired; either is told once,
naming the field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from editor import write_config
from raw_server import RawServer

RECORD = {"model": "gpt-4o", "inputTokens": 10, "outputTokens": 1}
HOSTILE = "shop\x00front\r\nend\x1b[31m\x07"


def start(data_dir, folder: str | None = None, env: dict | None = None, **init) -> RawServer:
    srv = RawServer(data_dir, env=env)
    params: dict = {"initializationOptions": init} if init else {}
    if folder is not None:
        uri = "file:///home/dev/" + quote(folder, safe="")
        params["workspaceFolders"] = [{"uri": uri, "name": "ws"}]
    srv.initialize(**params)
    return srv


def stored(srv: RawServer) -> dict:
    srv.request("usage/record", {"records": [RECORD]})
    return srv.request("usage/interactions")["result"]["rows"][0]


def told(srv: RawServer) -> list[str]:
    return [n["params"]["message"] for n in srv.notifications if n["method"] == "window/showMessage"]


@pytest.mark.parametrize(
    "folder, project, problem",
    [
        (HOSTILE, "shop?front??end?[31m?", "contains a control character (at character 5)"),
        ("p" * 329, "p" * 200, "is too long (329 characters; at most 200)"),
    ],
)
def test_a_workspace_folder_name_the_rules_refuse_is_repaired_and_told(data_dir, folder, project, problem):
    srv = start(data_dir, folder)
    try:
        row = stored(srv)
        assert row["project"] == project
        messages = [m for m in told(srv) if m.startswith("usage-ls: project: the workspace folder's name")]
        assert len(messages) == 1 and problem in messages[0], told(srv)
        assert "initializationOptions.project" in messages[0]  # how to choose one
        assert not any(c < " " for m in messages for c in m)  # the message carries no control characters
    finally:
        srv.close()


def test_init_options_the_rules_refuse_are_not_used(data_dir):
    write_config(data_dir, 'user = "alice"\n')
    srv = start(data_dir, "widget", project="evil\x1b]0;title\x07", user="u" * 329)
    try:
        row = stored(srv)
        assert row["project"] == "widget" and row["user"] == "alice"
        messages = told(srv)
        assert any(
            m.startswith("usage-ls: initializationOptions.project: contains a control character (at character 5)")
            and m.endswith("using the default")
            for m in messages
        ), messages
        assert any(
            "initializationOptions.user: is too long (329 characters; at most 200); using the default" in m
            for m in messages
        ), messages
    finally:
        srv.close()


def test_a_configured_user_the_rules_refuse_is_not_used(data_dir):
    write_config(data_dir, 'user = "al\\u0007ice"\n')
    srv = start(data_dir, "widget", env={"LOGNAME": "tester"})
    try:
        assert stored(srv)["user"] == "tester"
        assert any("user: contains a control character (at character 3); using the login name" in m for m in told(srv))
    finally:
        srv.close()


def test_a_login_name_the_rules_refuse_is_repaired(data_dir):
    srv = start(data_dir, "widget", env={"LOGNAME": "bob\x1b[2J"})
    try:
        assert stored(srv)["user"] == "bob?[2J"
        assert any(
            m.startswith("usage-ls config: user: the login name contains a control character") for m in told(srv)
        )
    finally:
        srv.close()


def test_usage_ls_record_in_a_folder_with_a_hostile_name(data_dir, tmp_path):
    cwd = tmp_path / "we\x1bird\nname"
    cwd.mkdir()
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "usage_ls", "record", "--model", "gpt-4o", "--input", "5", "--output", "1"]
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "project: the current folder's name contains a control character (at character 3)" in out.stderr
    report = [sys.executable, "-m", "usage_ls", "report", "projects", "--json"]
    projects = json.loads(subprocess.run(report, env=env, capture_output=True, text=True, timeout=60).stdout)
    assert [p["project"] for p in projects["projects"]] == ["we?ird?name"]
