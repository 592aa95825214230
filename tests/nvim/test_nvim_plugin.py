"""The Neovim plugin in real Neovim (0.7.2 and 0.11.4): what a user sees, with the numbers
worked out by hand from the seeded records (see conftest.seed_records)."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from nvim_harness import SERVER, cli, nvim_version

ERROR = 4  # vim.log.levels.ERROR
WARN = 3


def body(lines: list[str], title: str) -> list[str]:
    """Float lines without padding; the title is in the border (0.9+) or the first line (older)."""
    lines = [line.strip() for line in lines]
    if lines and lines[0] == title:
        lines = lines[1:]
    return lines


def yesterday() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")


MODELS_TODAY = [
    "Model              Msgs  Input  Output  Cache read  Cache write  Total  Credits   Cost",
    "─────────────────  ────  ─────  ──────  ──────────  ───────────  ─────  ───────  ─────",
    "claude-sonnet-4-5     1  1,000     200       5,000            0  6,200     25.0  $0.25",
    "gemini-2.5-pro        1  2,000     100           0            0  2,100      0.0  $0.10",
    "gpt-4.1-mini          1    300      50           0            0    350      2.0  $0.02",
]


def test_statusline_shows_todays_credits_and_follows_another_process(run, seeded):
    out = run("statusline.lua", seeded)
    # 25 + 2 premium credits today (BYOK spends none); sparkline of 0,0,0,0,0,54,27 credits
    assert out["before_setup"] == ""
    assert out["first"] == "27.0 cr ▁▁▁▁▁█▄"
    assert out["status"]["level"] == "normal"
    assert "**AI usage today**" in out["status"]["tooltip"]
    assert out["expr"] == out["first"]  # a plain 'statusline' expression
    assert out["component"] == out["first"]  # lualine passes arguments; they are ignored
    assert out["ms_per_10000"] < 200  # a cached string, never a request
    # the CLI (another process) recorded $0.05 = 5 credits of gpt-4.1-mini: 32 credits now
    assert out["after"].startswith("32.0 cr ")
    assert out["after"] == cli(seeded, "statusline").strip()
    assert out["expr_after"] == out["after"]
    assert out["messages"] == []


def test_hover_on_a_model_name_shows_its_counts(run, seeded):
    out = run("hover.lua", seeded)
    md = out["markdown"]
    for row in (
        "Input        1,000",
        "Output         200",
        "Cache read   5,000",
        "Cache write      0",
        "Total tokens 6,200",
        "**Credits:** 25.0",
        "**Cost:** $0.25",
    ):
        assert row in md
    shown = "\n".join(out["float"])  # what K / vim.lsp.buf.hover() put on screen
    for text in ("Input", "1,000", "Output", "200", "Cache read", "5,000", "6,200", "25.0", "$0.25"):
        assert text in shown
    assert out["not_a_model"] is None
    # one client for the whole Neovim: the buffer in the second tab shares it
    assert out["usage_clients"] == 1
    assert out["servers"] == 1  # one server process
    assert out["first_clients"] == out["other_clients"] and len(out["first_clients"]) == 1


def test_floats_show_the_tables(run, seeded):
    out = run("floats.lua", seeded, env={"YESTERDAY": yesterday()})
    assert body(out["models"], "AI usage by model · today") == MODELS_TODAY
    assert body(out["projects"], "AI usage by project · today") == [
        "Project  Msgs  Tokens  Credits   Cost",
        "───────  ────  ──────  ───────  ─────",
        "widget      2   8,300     25.0  $0.35",
        "api         1     350      2.0  $0.02",
    ]
    assert body(out["today"], "AI usage · today") == [
        "Totals",
        "──────────────────  ─────",
        "Credits (premium)    27.0",
        "Cost (USD)          $0.37",
        "Messages                3",
        "Input tokens        3,300",
        "Output tokens         350",
        "Cache read tokens   5,000",
        "Cache write tokens      0",
        "Total tokens        8,650",
        "",
        *MODELS_TODAY,
    ]
    assert body(out["yesterday"], f"AI usage by model · {yesterday()}") == [
        "Model              Msgs  Input  Output  Cache read  Cache write  Total  Credits   Cost",
        "─────────────────  ────  ─────  ──────  ──────────  ───────────  ─────  ───────  ─────",
        "claude-sonnet-4-5     1  9,000     900           0            0  9,900     54.0  $0.54",
    ]
    # a right-to-left override and a zero-width space in a project name are shown as '?'
    assert out["hostile_record"]["accepted"] == 1
    hostile = [line for line in body(out["hostile_projects"], "AI usage by project · today") if "evil" in line]
    assert hostile == ["evil?gnp.exe?     1       2      0.0  $0.00"]
    # a bad date: the server's message, no float
    assert out["floats_after_error"] == 0
    assert [m["level"] for m in out["messages"]] == [ERROR]
    assert out["messages"][0]["msg"].startswith("usage-ls: usage/tokenSplit: from: expected a date")


def test_record_stores_what_the_server_then_reports(run, seeded, tmp_path):
    out = run("record.lua", seeded, cwd=tmp_path / "myproj")
    assert out["single"]["result"]["accepted"] == 1
    batch = out["batch"]
    assert (batch["accepted"], batch["duplicates"]) == (1, 1)
    assert [(r["index"], r["field"]) for r in batch["rejected"]] == [(1, "model")]
    # 27 seeded + 3 (gpt-4.1-mini, $0.03) + 1 (claude, $0.01) credits
    assert out["statusline"].startswith("31.0 cr ")
    projects = {p["project"]: p for p in out["projects"]}
    assert (projects["myproj"]["messages"], projects["myproj"]["credits"]) == (1, 3.0)
    assert (projects["explicit"]["messages"], projects["explicit"]["credits"]) == (1, 1.0)
    rows = json.loads(cli(seeded, "report", "interactions", "--json"))["rows"]
    by_id = {r["id"]: r for r in rows}
    assert (by_id["req-1"]["project"], by_id["req-1"]["user"]) == ("myproj", "tester")  # filled in
    explicit = next(r for r in rows if r["project"] == "explicit")
    assert explicit["user"] == "someone"  # kept
    assert out["not_a_table"] is False
    warnings = [m["msg"] for m in out["messages"] if m["level"] == WARN]
    assert warnings == [
        "usage-ls: 1 record(s) rejected; record 1: model: must not be empty",
        "usage-ls: record() expects a record or a list of records, got string",
    ]


def _assert_one_clear_message(out: dict, name: str) -> None:
    assert out["setup_ok"] is True, out["setup_err"]
    assert out["errmsg"] == ""
    assert out["statusline"] == ""
    assert out["floats"] == 0
    assert out["record"] is False
    assert len(out["messages"]) == 1, out["messages"]
    message = out["messages"][0]
    assert message["level"] == ERROR
    assert message["msg"].startswith(f'usage-ls: the server "{name}" was not found (not on PATH).')
    assert "setup({ cmd =" in message["msg"] and "traceback" not in message["msg"]
    assert ["error", message["msg"][len("usage-ls: ") :]] in out["info"]


def test_missing_server_gives_one_clear_message(run, tmp_path):
    env = {"PATH": "/usr/bin:/bin"}  # no usage-ls on it
    out = run("missing.lua", tmp_path / "data", env=env)
    _assert_one_clear_message(out, "usage-ls")


def test_missing_server_at_a_configured_path(run, tmp_path):
    missing = str(tmp_path / "nowhere" / "usage-ls")
    out = run("missing.lua", tmp_path / "data", env={"MISSING_CMD": missing})
    _assert_one_clear_message(out, missing)


def _stub_cli(tmp_path: Path, body_sh: str) -> Path:
    stub = tmp_path / "bin" / "usage-ls"
    stub.parent.mkdir(parents=True, exist_ok=True)
    stub.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = dashboard ]; then echo "$@" > {tmp_path}/dashboard-args; {body_sh}; fi\n'
        f'exec {SERVER} "$@"\n'
    )
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    return stub


def test_dashboard_reports_the_url_the_cli_prints(run, seeded, tmp_path):
    stub = _stub_cli(
        tmp_path, 'echo "Usage Dashboard at http://127.0.0.1:8765/?token=abc (Ctrl-C stops it)"; exec sleep 30'
    )
    out = run("dashboard.lua", seeded, env={"DASHBOARD_CLI": str(stub)})
    assert (tmp_path / "dashboard-args").read_text().split() == ["dashboard", "--no-open"]
    assert out["messages"] == [{"msg": "usage-ls: Usage Dashboard: http://127.0.0.1:8765/?token=abc", "level": 2}]


def test_dashboard_shows_the_cli_error(run, seeded, tmp_path):
    stub = _stub_cli(tmp_path, 'echo "usage-ls: the dashboard is not part of this version yet" >&2; exit 2')
    out = run("dashboard.lua", seeded, env={"DASHBOARD_CLI": str(stub)})
    assert len(out["messages"]) == 1
    assert out["messages"][0]["level"] == ERROR
    assert out["messages"][0]["msg"].endswith(
        "failed (exit 2): usage-ls: the dashboard is not part of this version yet"
    )


def test_dashboard_with_the_real_cli(run, seeded):
    """Whatever `usage-ls dashboard` does in this version: a URL, or its own error, shown once."""
    python = SERVER.parent / "python"
    out = run("dashboard.lua", seeded, env={"DASHBOARD_CLI": str(SERVER), "FETCH_WITH": str(python)})
    assert len(out["messages"]) == 1, out["messages"]
    msg = out["messages"][0]
    if msg["level"] == ERROR:
        assert "dashboard" in msg["msg"] and "failed (exit" in msg["msg"]
    else:
        assert msg["msg"].startswith("usage-ls: Usage Dashboard: http://127.0.0.1:")
        assert out["fetched"] == msg["msg"].split()[-1]  # served while Neovim runs


def test_checkhealth_and_usage_info(run, seeded):
    out = run("health.lua", seeded)
    version = cli(seeded, "--version").strip()
    expected = [f"version: {version}", f"data dir: {seeded}", "last error: none", f"server found: {SERVER}"]
    for shown in ("\n".join(out["checkhealth"]), "\n".join(out["info"])):
        for text in expected:
            assert text in shown
    report = "\n".join(out["checkhealth"])
    assert "ERROR" not in report and "WARNING" not in report
    assert [h.split()[0] for h in out["help"]] == ["usage_ls.txt"] * 5
    assert "*usage_ls.record()*" in out["help"][1] and "*:UsageModels*" in out["help"][2]


def test_a_crashed_server_is_reported_once_and_restarted(run, seeded):
    out = run("crash.lua", seeded)
    assert out["after_crash"] == ""
    assert out["restarted"] == "27.0 cr ▁▁▁▁▁█▄"
    ours = [(m["level"], m["msg"]) for m in out["messages"] if m["msg"].startswith("usage-ls")]
    assert ours == [(ERROR, "usage-ls: the server exited (code 0, signal 9); see :UsageInfo and :LspLog")]
    # besides Neovim's own notice ("Client 1 quit with exit code 0 and signal 9"), nothing;
    # in particular nothing when Neovim quits and stops the new server
    others = [m["msg"] for m in out["messages"] if not m["msg"].startswith("usage-ls")]
    assert all("quit with exit code 0 and signal 9" in m for m in others), others


def test_quitting_while_the_server_starts_says_nothing(run, seeded):
    assert run("quit_early.lua", seeded)["messages"] == []


def test_byok_statusline_counts_dollars(run, seeded):
    out = run("byok.lua", seeded)
    assert out["first"] == "$0.10 ▁▁▁▁▁▁█"  # the one BYOK record today: gemini-2.5-pro, $0.10
    assert out["after"] == "$0.35 ▁▁▁▁▁▁█"  # + $0.25 recorded by the CLI
    assert out["children"] == 1  # setup() twice: still one server
    assert out["messages"] == []


def test_a_bad_setup_option_is_named_and_its_default_used(run, seeded):
    out = run("options.lua", seeded, env={"OPTIONS": "{ billing = 3, hover_key = {} }"})
    assert out["setup_ok"] is True, out["setup_err"]
    assert [(m["level"], m["msg"]) for m in out["messages"]] == [
        (WARN, 'usage-ls: setup(): billing: expected "auto", "premium" or "byok", got 3; using the default "auto"'),
        (WARN, 'usage-ls: setup(): hover_key: expected a key such as "K", or false, got {}; using the default "K"'),
    ]
    # the defaults at work: premium credits on the statusline, K shows the hover
    assert (out["billing"], out["hover_key"]) == ("auto", "K")
    assert out["statusline"] == "27.0 cr ▁▁▁▁▁█▄"
    assert "25.0" in "\n".join(out["hover"])
    assert out["errmsg"] == ""


def test_an_unknown_setup_option_is_named_and_ignored(run, seeded):
    out = run("options.lua", seeded, env={"OPTIONS": '{ biling = "byok", billing = "byok" }'})
    assert out["setup_ok"] is True, out["setup_err"]
    assert [(m["level"], m["msg"]) for m in out["messages"]] == [
        (
            WARN,
            'usage-ls: setup(): unknown option "biling" (ignored); the options are: billing, cmd, '
            "dashboard_args, data_dir, hover_key, project, user",
        ),
    ]
    assert out["statusline"] == "$0.10 ▁▁▁▁▁▁█"  # the good option still counts: BYOK dollars
    assert "25.0" in "\n".join(out["hover"])


def test_highlight_groups_link_to_standard_ones_and_keep_a_users_own(run, seeded):
    out = run("highlights.lua", seeded)
    ok = "DiagnosticOk" if out["standard"]["DiagnosticOk"] else "String"  # DiagnosticOk: 0.9+
    links = {
        "UsageLsTitle": "Title",
        "UsageLsHeader": "Title",
        "UsageLsMuted": "Comment",
        "UsageLsOk": ok,
        "UsageLsInfo": "Normal",
        "UsageLsWarning": "DiagnosticWarn",
        "UsageLsError": "DiagnosticError",
    }
    shows_as = {group: out["standard"][link] for group, link in links.items()}  # 0.7: String -> Constant

    def check(state: dict, own_shows_as: dict, own_links: dict) -> None:
        assert {g: state[g] for g in links} == {**shows_as, **own_shows_as}
        if state["links"] is not None:  # 0.9+ tells the direct link too
            assert state["links"] == {**links, **own_links}

    # the user's own definitions stay (colours of its own; a link to Todo); the rest are linked
    for state in (out["after_setup"], out["after_floats"]):
        check(
            state,
            {"UsageLsMuted": "UsageLsMuted", "UsageLsWarning": "Todo"},
            {"UsageLsMuted": None, "UsageLsWarning": "Todo"},
        )
    assert out["muted_fg"] == "#ff0000"
    # the floats use the plugin's groups: the title (in the border on 0.9+, else the first line),
    # the table's header and rule, and one group per kind of :UsageInfo line
    if out["models_winhighlight"] is not None:  # the title is in the border
        assert "FloatTitle:UsageLsTitle" in out["models_winhighlight"].split(",")
        assert out["models_marks"] == [[0, "UsageLsHeader"], [1, "UsageLsMuted"]]
    else:
        assert out["models_marks"] == [[0, "UsageLsTitle"], [1, "UsageLsHeader"], [2, "UsageLsMuted"]]
    info_groups = {group for _, group in out["info_marks"]} - {"UsageLsTitle"}  # the title line before 0.9
    assert "UsageLsOk" in info_groups and info_groups <= {"UsageLsOk", "UsageLsInfo", "UsageLsWarning", "UsageLsError"}
    # :colorscheme clears every group, the user's colours too: the plugin's links come back
    check(out["after_colorscheme"], {}, {})
    assert out["messages"] == []


def test_statusline_shows_the_plan_windows_coloured_by_level(run, seeded):
    # Claude Code reports 80% of its 5-hour window (2% of it passed: too early for a pace) and
    # 18% of the week: warning (75% used), the 5-hour window first
    now = int(datetime.now(UTC).timestamp())
    claude = {
        "session_id": "s",
        "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet"},
        "rate_limits": {
            "five_hour": {"used_percentage": 80.0, "resets_at": now + 4 * 3600 + 54 * 60},
            "seven_day": {"used_percentage": 18.0, "resets_at": now + 3 * 86400},
        },
    }
    cli(seeded, "statusline", "--claude-code", stdin=json.dumps(claude))
    out = run("limits.lua", seeded)
    assert out["text"] == "27.0 cr ▁▁▁▁▁█▄ · 5h 80% · wk 18%"
    assert out["level"] == "warning" and out["highlight"] == "UsageLsWarning"
    assert "**Plan limits**" in out["tooltip"] and "claude-code 5h: 80% used" in out["tooltip"]
    # drawn: the same text (its % kept), in UsageLsWarning from the first column
    assert out["drawn"] == out["text"]
    assert out["groups"][0] == {"start": 0, "group": "UsageLsWarning"}


def test_a_new_user_gets_history_with_progress_and_live_lines(nvim, run, tmp_path):
    # no config, a fresh data directory; Claude Code and Codex have logs in the home
    if nvim_version(nvim) != "0.11.4":
        pytest.skip("one Neovim is enough here: the current one")
    from new_user import answer_line, make_home

    transcript = make_home(tmp_path / "home")  # the home Run gives Neovim (and so the server)
    data = tmp_path / "data"
    line = answer_line(transcript).decode()
    # the test run's USAGE_LS_WATCH=off (tests/conftest.py) unset: what a user has
    env = {"APPEND_TO": str(transcript), "APPEND_LINE": line, "USAGE_LS_WATCH": None}
    out = run("new_user.lua", data, env=env)
    kinds = [p["kind"] for p in out["progress"]]
    assert kinds[0] == "begin" and kinds[-1] == "end", kinds
    messages = [p.get("message") for p in out["progress"]]
    assert "Importing Claude Code logs" in messages and "Importing Codex logs" in messages
    assert out["progress"][-1]["message"].startswith("Imported ") and "records from AI tool logs" in messages[-1]
    assert "No AI usage recorded today." in out["before_tooltip"]  # the history is older than today
    # the answer counted: Claude Code's usage is BYOK (dollars; the statusline counts Premium
    # credits unless `billing = "byok"`), so its line shows in the status's today table
    assert "claude-3-5-haiku-20241022 | 40.4k |" in out["tooltip"]
    assert "1 message · 40.4k tokens" in out["tooltip"]
    assert "**Live sources**" in out["tooltip"]
    assert "Claude Code (file events): last record" in out["tooltip"]
    assert "Codex (file events)" in out["tooltip"]
