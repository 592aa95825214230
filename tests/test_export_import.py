"""`usage-ls export` and `usage-ls import usage-ls`: two machines merged by hand, through the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

USAGE_LS = str(Path(sys.executable).with_name("usage-ls"))
HOSTILE = ["x;=1+1", "x,=1+1", 'say "hi"', "=2+3", "-neg", "@at", "plain"]


def run(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "USAGE_LS_DATA_DIR": str(data)}
    return subprocess.run([USAGE_LS, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def seed(data: Path) -> None:
    lines = []
    for i, project in enumerate(HOSTILE):
        lines.append(
            {
                "id": f"r{i}",
                "timestamp": f"2026-11-{10 + i:02d}T12:00:00Z",
                "model": "claude-sonnet-4-5",
                "inputTokens": 1000 * (i + 1),
                "outputTokens": 100,
                "cacheReadTokens": 50 * i,
                "project": project,
                "user": "ana",
                "session": f"s{i % 2}",
                "feature": "chat",
            }
        )
    lines.append({"id": "rep", "timestamp": "2026-11-20T08:00:00Z", "model": "gpt-4o", "inputTokens": 10,
                  "outputTokens": 5, "costUsd": 1.25, "credits": 9.5, "project": "plain", "user": "ana"})  # fmt: skip
    lines.append({"id": "unk", "timestamp": "2026-11-21T08:00:00Z", "model": "acme-model-x", "inputTokens": 10,
                  "outputTokens": 5, "billing": "byok", "project": "plain", "user": "bo"})  # fmt: skip
    out = run(data, "record", stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    assert out.returncode == 0, out.stderr


def rows(data: Path) -> dict[str, dict]:
    out = run(data, "report", "interactions", "--from", "2026-11-01", "--to", "2026-11-30", "--json")
    assert out.returncode == 0, out.stderr
    return {r["id"]: r for r in json.loads(out.stdout)["rows"]}


def test_export_then_import_on_another_machine_gives_the_same_records(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    seed(a)
    csv_file, jsonl_file = tmp_path / "a.csv", tmp_path / "a.jsonl"
    assert run(a, "export", "--out", str(csv_file)).returncode == 0
    out = run(a, "export", "--format", "jsonl")
    jsonl_file.write_text(out.stdout)
    assert len(out.stdout.splitlines()) == len(HOSTILE) + 2

    # every text cell quoted: a separator inside a name never splits it; formulas get a '
    table = list(csv.reader(io.StringIO(csv_file.read_text())))
    header = table[0]
    projects = [r[header.index("project")] for r in table[1:]]
    assert "'=2+3" in projects and "'-neg" in projects and "'@at" in projects and "x;=1+1" in projects
    raw = csv_file.read_text()
    assert '"x;=1+1"' in raw and '"x,=1+1"' in raw and '"say ""hi"""' in raw

    imported = run(b, "import", "usage-ls", str(csv_file), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"] == len(HOSTILE) + 2
    again = json.loads(run(b, "import", "usage-ls", str(jsonl_file), "--json").stdout)
    assert again["imported"] == 0 and again["duplicates"] == len(HOSTILE) + 2  # the same ids: once

    mine, theirs = rows(a), rows(b)
    assert mine.keys() == theirs.keys()
    for rid, row in mine.items():
        for key in ("timestamp", "model", "project", "user", "billing", "session", "feature", "totalTokens",
                    "inputTokens", "cacheReadTokens", "costUsd", "credits", "costSource"):  # fmt: skip
            assert theirs[rid][key] == row[key], (rid, key, row[key], theirs[rid][key])
    assert theirs["rep"]["costSource"] == "reported" and theirs["rep"]["costUsd"] == 1.25
    assert theirs["r0"]["costSource"] == "computed"  # priced again here, to the same figure
    assert theirs["unk"]["costUsd"] is None and theirs["unk"]["user"] == "bo"


def test_filters_and_bad_rows(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    seed(a)
    only = run(a, "export", "--project", "=2+3", "--format", "jsonl")
    assert [json.loads(line)["id"] for line in only.stdout.splitlines()] == ["r3"]
    assert run(a, "export", "--from", "2026-11-20", "--format", "jsonl").stdout.count("\n") == 2
    assert run(a, "export", "--from", "20261120", "--format", "jsonl").stdout.count("\n") == 2  # ccusage's spelling
    bad = run(a, "export", "--from", "20/11/2026")
    assert bad.returncode == 2 and "from: expected a date as YYYY-MM-DD" in bad.stderr

    csv_file = tmp_path / "a.csv"
    run(a, "export", "--out", str(csv_file))
    text = csv_file.read_text().splitlines()
    text[2] = (
        text[2].replace(",1000,", ',"lots",', 1) if ",1000," in text[2] else text[2].replace(",2000,", ',"lots",', 1)
    )
    csv_file.write_text("\n".join(text) + "\n")
    out = run(b, "import", "usage-ls", str(csv_file), "--json")
    got = json.loads(out.stdout)
    assert got["imported"] == len(HOSTILE) + 1 and got["unreadable"] == 1  # the good rows are kept
    assert "inputTokens: expected a non-negative whole number" in out.stdout + out.stderr

    no_model = tmp_path / "other.csv"
    no_model.write_text("id,timestamp,tokens\nx,2026-11-01T00:00:00Z,5\n")
    out = run(b, "import", "usage-ls", str(no_model))
    assert "no model column" in out.stdout + out.stderr
