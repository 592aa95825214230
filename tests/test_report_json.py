"""`usage-ls report ... --json`: the numbers a script or a chart reads, exactly as stored."""

from __future__ import annotations

import json
import subprocess
import sys

import orjson
import pytest


def _cli(data_dir, *args: str, stdin: str | None = None) -> str:
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), *args]
    return subprocess.run(cmd, input=stdin, check=True, capture_output=True, text=True).stdout


def _record(data_dir, *records: dict) -> None:
    _cli(data_dir, "record", stdin="\n".join(orjson.dumps(r).decode() for r in records) + "\n")


TS = "2026-11-03T10:00:00Z"


def test_fractions_of_a_cent_keep_every_digit_in_json(data_dir):
    # a gpt-5.2 call costing $0.00005635: rounded to 6 decimals it read $0.000056 (1.5% off)
    _record(
        data_dir,
        {"id": "a", "timestamp": TS, "model": "gpt-5.2", "inputTokens": 100, "outputTokens": 2, "costUsd": 0.00005635},
        {"id": "b", "timestamp": TS, "model": "gpt-5.2", "inputTokens": 10, "outputTokens": 1, "costUsd": 0.0000001234},
    )
    daily = json.loads(_cli(data_dir, "report", "daily", "--from", "2026-11-03", "--to", "2026-11-03", "--json"))
    (day,) = daily["days"]
    assert day["costUsd"] == pytest.approx(0.0000564734, abs=1e-13)
    assert day["byModel"]["gpt-5.2"]["costUsd"] == pytest.approx(0.0000564734, abs=1e-13)
    models = json.loads(_cli(data_dir, "report", "models", "--from", "2026-11-03", "--to", "2026-11-03", "--json"))
    assert models["models"][0]["costUsd"] == pytest.approx(0.0000564734, abs=1e-13)
    # the tables round for display only
    table = _cli(data_dir, "report", "models", "--from", "2026-11-03", "--to", "2026-11-03")
    assert "gpt-5.2" in table


def test_record_says_which_fields_it_ignored(data_dir):
    # "ts" is not a record field ("timestamp" is): the record is kept, stamped now, and the
    # user is told rather than left wondering why the day is wrong
    line = orjson.dumps({"id": "t", "ts": TS, "model": "gpt-5.2", "inputTokens": 1, "outputTokens": 1}).decode()
    cmd = [sys.executable, "-m", "usage_ls", "--data-dir", str(data_dir), "record"]
    done = subprocess.run(cmd, input=line + "\n", capture_output=True, text=True)
    assert done.returncode == 0
    assert "recorded 1" in done.stdout
    assert "ignored: ts (1)" in done.stderr


def test_a_row_with_nothing_priced_says_null_not_zero(data_dir):
    _record(
        data_dir,
        {"id": "u", "timestamp": TS, "model": "acme-brand-new-9", "inputTokens": 500, "outputTokens": 50},
        {"id": "p", "timestamp": TS, "model": "gpt-4o", "inputTokens": 500, "outputTokens": 50, "costUsd": 0.01},
    )
    span = ("--from", "2026-11-03", "--to", "2026-11-03", "--json")
    models = {m["model"]: m for m in json.loads(_cli(data_dir, "report", "models", *span))["models"]}
    assert models["acme-brand-new-9"]["costUsd"] is None and models["acme-brand-new-9"]["unpricedMessages"] == 1
    assert models["gpt-4o"]["costUsd"] == pytest.approx(0.01)
    (day,) = json.loads(_cli(data_dir, "report", "daily", *span))["days"]
    assert day["costUsd"] == pytest.approx(0.01)  # partly priced: the priced part, with unpricedMessages: 1
    assert day["unpricedMessages"] == 1
    assert day["byModel"]["acme-brand-new-9"]["costUsd"] is None
    only = json.loads(_cli(data_dir, "report", "daily", *span, "--model", "acme-brand-new-9"))["days"][0]
    assert only["costUsd"] is None
    # a day without usage is still $0 (nothing to price), and the tables say "unpriced"
    assert (
        json.loads(_cli(data_dir, "report", "daily", "--from", "2026-11-02", "--to", "2026-11-02", "--json"))["days"][
            0
        ]["costUsd"]
        == 0.0
    )
    assert "unpriced" in _cli(data_dir, "report", "models", "--from", "2026-11-03", "--to", "2026-11-03")
