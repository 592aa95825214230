"""A rejected value may be a secret (a client that sends its whole config where a record field
belongs, a key pasted into the wrong setting): errors name the field and the type, and show a
value only when it is a number or a short plain word. Config values are never shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from editor import write_config
from raw_server import RawServer

SECRET = "sk-proj-" + "A1b2C3d4" * 6
SHORT_KEY = "sk-abc123"  # short, but shaped like a key
RECORD = {"model": "gpt-4o", "inputTokens": 10, "outputTokens": 1}


def everything_said(srv: RawServer, answers: list[dict], stderr_path) -> str:
    srv.close()
    return json.dumps(answers + srv.notifications + srv.others) + stderr_path.read_text(errors="replace")


def test_rejected_record_fields_and_params_never_echo_a_secret(data_dir, tmp_path):
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        srv = RawServer(data_dir, stderr=err)
    srv.initialize()
    bad_records = [
        {**RECORD, "billing": {"apiKey": SECRET}},
        {**RECORD, "model": {"apiKey": SECRET}},
        {**RECORD, "inputTokens": SECRET},
        {**RECORD, "timestamp": SECRET},
        {**RECORD, "id": {"token": SECRET}},
        {**RECORD, "user": SECRET + "\x1b"},
        {**RECORD, "project": SECRET * 10},
        {**RECORD, "billing": SHORT_KEY},
        {**RECORD, "costUsd": [SECRET]},
        [SECRET],
    ]
    answers = [srv.request("usage/record", {"records": bad_records})]
    rejected = answers[0]["result"]["rejected"]
    assert [r["field"] for r in rejected] == [
        "billing",
        "model",
        "inputTokens",
        "timestamp",
        "id",
        "user",
        "project",
        "billing",
        "costUsd",
        "record",
    ]
    messages = [r["message"] for r in rejected]
    assert messages[0] == 'expected "premium" or "byok", got an object'
    assert messages[1] == "expected a string, got an object"
    assert messages[2] == f"expected an integer >= 0, got a string of {len(SECRET)} characters"
    assert messages[5] == f"contains a control character (at character {len(SECRET) + 1})"
    assert messages[7] == f'expected "premium" or "byok", got a string of {len(SHORT_KEY)} characters'
    assert messages[8] == "expected a number >= 0, got an array of 1 item"
    # the same records as a notification: told in the editor's log and a message
    srv.send({"jsonrpc": "2.0", "method": "usage/record", "params": {"records": bad_records}})
    srv.send({"jsonrpc": "2.0", "method": "usage/record", "params": {"records": {"apiKey": SECRET}}})
    for method, params in [
        ("usage/record", {"records": {"apiKey": SECRET}}),
        ("usage/record", [SECRET]),
        ("usage/summary", {"from": SECRET}),
        ("usage/summary", {"to": {"apiKey": SECRET}}),
        ("usage/projects", {"project": {"apiKey": SECRET}}),
        ("usage/daily", {"billing": SECRET}),
        ("usage/summary", {"scope": SHORT_KEY}),
        ("usage/interactions", {"sort": SECRET}),
        ("usage/interactions", {"sort": {"k": SECRET}}),
        ("usage/interactions", {"limit": SECRET}),
        ("usage/statusBar", {"billing": SECRET}),
        ("usage/dashboard", {"nonce": "a" * 22, "mode": SECRET}),
        ("usage/dashboard", {"nonce": "a" * 22, "preset": SECRET}),
        ("textDocument/hover", {"textDocument": {"uri": SECRET}, "position": {"line": SECRET, "character": 0}}),
    ]:
        answer = srv.request(method, params)
        assert answer["error"]["code"] == -32602, (method, answer)
        answers.append(answer)
    assert (
        answers[3]["error"]["message"]
        == f"from: expected a date as YYYY-MM-DD, got a string of {len(SECRET)} characters"
    )
    assert answers[4]["error"]["message"] == "to: expected a date as YYYY-MM-DD, got an object"
    said = everything_said(srv, answers, stderr)
    assert "window/showMessage" in said and "record 0 rejected: billing" in said  # the notification was told
    assert SECRET not in said and "sk-" not in said and "apiKey" not in said


def test_short_plain_values_are_still_shown(data_dir):
    srv = RawServer(data_dir)
    try:
        srv.initialize()
        rejected = srv.request(
            "usage/record", {"records": [{**RECORD, "billing": "team"}, {**RECORD, "inputTokens": -5}]}
        )
        assert [r["message"] for r in rejected["result"]["rejected"]] == [
            'expected "premium" or "byok", got "team"',
            "must be >= 0, got -5",
        ]
        answer = srv.request("usage/summary", {"from": "21/11/2026"})
        assert answer["error"]["message"] == 'from: expected a date as YYYY-MM-DD, got "21/11/2026"'
    finally:
        srv.close()


def test_config_and_init_option_values_are_never_shown(data_dir, tmp_path):
    write_config(
        data_dir,
        f'user = ["{SECRET}"]\n'
        f'timezone = "{SECRET}"\n'
        f'prices = "{SECRET}"\n'
        f'[credits]\nusd_per_credit = "{SECRET}"\n'
        f'[budgets]\ndaily_credits = "{SECRET}"\nmonthly_credits = -3\nthresholds = ["{SECRET}"]\n'
        f'[import]\nwatch = "{SECRET}"\n',
    )
    stderr = tmp_path / "stderr.txt"
    with stderr.open("wb") as err:
        srv = RawServer(data_dir, stderr=err)
    srv.initialize(initializationOptions={"project": {"apiKey": SECRET}, "user": 12, "dataDir": str(data_dir)})
    answers = [srv.request("usage/summary")]
    told = [n["params"]["message"] for n in srv.notifications if n["method"] == "window/showMessage"]
    said = everything_said(srv, answers, stderr)
    for key in (
        "user: expected a non-empty string, got an array",
        "timezone: unknown timezone",
        "prices: expected a table, got a string",
        "credits.usd_per_credit: expected a number, got a string",
        "budgets.daily_credits: expected a number, got a string",
        "budgets.monthly_credits: must be > 0",
        "budgets.thresholds: expected a list of percentages",
        'import.watch: expected "auto", "all" or a list of tool names, got a string',
        "initializationOptions.project: expected a string, got an object; using the default",
        "initializationOptions.user: expected a string, got a number; using the default",
    ):
        assert any(key in m for m in told), (key, told)
    assert "sk-" not in said and "apiKey" not in said
    # and from the command line
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(data_dir)}
    for cmd in (["config"], ["doctor"], ["report", "today"]):
        out = subprocess.run(
            [sys.executable, "-m", "usage_ls", *cmd], capture_output=True, text=True, env=env, timeout=60
        )
        text = out.stdout + out.stderr
        assert "credits.usd_per_credit: expected a number, got a string" in text, (cmd, text)
        assert "sk-" not in text, (cmd, text)
