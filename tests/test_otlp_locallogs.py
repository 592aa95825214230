"""One API call seen by OpenTelemetry and by the tool's own log on this machine: counted once,
in either order (Claude Code: per call, by request id; Codex and Gemini CLI: per session)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from otlp_helpers import ReceiverProcess, claude_event, cli, codex_event, gemini_event, logs_request, post, report

SESSION = "0808dfe1-4672-4431-a92a-13bc70a05e1c"


def _assistant_line(mid: str, rid: str, cwd: str = "/home/me/widget", model: str = "claude-sonnet-4-5") -> str:
    """An assistant line as Claude Code 2.1.332 writes it (trimmed of content)."""
    return json.dumps(
        {
            "parentUuid": "8803acfd-0867-48f5-9426-6fafad752e50",
            "isSidechain": False,
            "message": {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": "Hello."}],
                "stop_reason": "end_turn",
                "usage": {
                    "input_tokens": 100,
                    "cache_creation_input_tokens": 200,
                    "cache_read_input_tokens": 1000,
                    "output_tokens": 50,
                    "cache_creation": {"ephemeral_1h_input_tokens": 50, "ephemeral_5m_input_tokens": 150},
                    "service_tier": "standard",
                    "speed": "standard",
                },
            },
            "requestId": rid,
            "type": "assistant",
            "uuid": f"uuid-{mid}",
            "timestamp": "2026-12-06T14:31:58.219Z".replace("2026-12-06", time.strftime("%Y-%m-%d", time.gmtime())),
            "cwd": cwd,
            "sessionId": SESSION,
            "version": "2.1.332",
        }
    )


def _transcript(root: Path, *lines: str) -> Path:
    path = root / "projects" / "-home-me-widget" / f"{SESSION}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    user = json.dumps({"type": "user", "sessionId": SESSION, "message": {"role": "user", "content": "hi"}})
    path.write_text("\n".join([user, *lines]) + "\n")
    return path


def _send(rx: ReceiverProcess, *events) -> None:
    status, _, body = post(rx.url + "/v1/logs", logs_request("claude-code", list(events)).SerializeToString())
    assert (status, body) == (200, b"")


def _rows(data_dir: Path) -> dict[str, dict]:
    return {r["id"]: r for r in report(data_dir, "interactions")["rows"]}


def test_claude_code_event_after_its_transcript_line_is_imported_counts_once_and_adds_its_attribution(
    data_dir, tmp_path
):
    root = tmp_path / "claude"
    env = {"CLAUDE_CONFIG_DIR": str(root)}
    _transcript(root, _assistant_line("msg_1", "req_1"))
    out = cli(data_dir, "import", "claude-code", "--json", env=env)
    assert out.returncode == 0, out.stderr
    before = report(data_dir, "interactions")["rows"][0]
    assert before["feature"] == "claude-code"
    event = claude_event("req_1", session=SESSION, query_source="subagent", **{"agent.name": "planner"})
    with ReceiverProcess(data_dir, env=env) as rx:
        _send(rx, event)
        _send(rx, event)  # the exporter retries the batch: nothing more is written
    rows = _rows(data_dir)
    assert list(rows) == ["claude-code:msg_1:req_1"]  # the importer's record; the event was a duplicate
    row = rows["claude-code:msg_1:req_1"]
    assert row["feature"] == "claude-code agent=planner query=subagent"  # enriched by the event
    assert {k: v for k, v in row.items() if k != "feature"} == {k: v for k, v in before.items() if k != "feature"}
    assert report(data_dir, "today")["totalTokens"] == 1350
    notes = list((data_dir / "annotations").glob("*.jsonl"))
    assert len(notes) == 1 and len(notes[0].read_text().splitlines()) == 1  # the retry added no line
    # a checkpoint (the CLI folds journals on exit) and a fresh process: still there
    out = cli(data_dir, "import", "claude-code", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert _rows(data_dir)["claude-code:msg_1:req_1"]["feature"] == "claude-code agent=planner query=subagent"


def test_claude_code_event_first_then_the_import_counts_once_with_the_events_attribution(data_dir, tmp_path):
    root = tmp_path / "claude"
    env = {"CLAUDE_CONFIG_DIR": str(root)}
    # the API answered with a dated model name; the event names the model asked for
    _transcript(root, _assistant_line("msg_2", "req_2", model="claude-sonnet-4-5-20250929"))
    with ReceiverProcess(data_dir, env=env) as rx:
        _send(rx, claude_event("req_2", session=SESSION, query_source="subagent", **{"agent.name": "planner"}))
    out = cli(data_dir, "import", "claude-code", "--json", env=env)
    assert out.returncode == 0, out.stderr
    rows = _rows(data_dir)
    assert list(rows) == ["claude-code:msg_2:req_2"]  # the importer's id, so the import added nothing
    row = rows["claude-code:msg_2:req_2"]
    assert (row["project"], row["model"]) == ("widget", "claude-sonnet-4-5-20250929")  # as the import has it
    assert row["feature"] == "claude-code agent=planner query=subagent"  # the event's attribution
    assert report(data_dir, "today")["totalTokens"] == 1350


def _subagent_line(mid: str, rid: str) -> str:
    """A custom sub-agent's line as Claude Code 2.1.332 writes it in <session>/subagents/agent-<id>.jsonl."""
    line = json.loads(_assistant_line(mid, rid))
    return json.dumps(
        {**line, "isSidechain": True, "agentId": "a8ef5410e8de02532", "attributionAgent": "code-reviewer"}
    )


def test_a_sub_agents_call_says_which_agent_in_either_order(data_dir, tmp_path):
    """Claude Code 2.1.332's event for a custom sub-agent's call says `agent.name: custom`,
    `query_source: agent:custom` (seen here with the real tool); its transcript line names the
    agent. The record says `agent=code-reviewer query=subagent` whichever arrives first."""
    root = tmp_path / "claude"
    env = {"CLAUDE_CONFIG_DIR": str(root)}
    path = _transcript(root)
    sub = path.parent / SESSION / "subagents" / "agent-a8ef5410e8de02532.jsonl"
    sub.parent.mkdir(parents=True)
    sub.write_text(_subagent_line("msg_5", "req_5") + "\n")
    out = cli(data_dir, "import", "claude-code", "--json", env=env)  # the log first
    assert out.returncode == 0, out.stderr
    real = {"agent.name": "custom", "query_source": "agent:custom"}
    with ReceiverProcess(data_dir, env=env) as rx:
        _send(rx, claude_event("req_5", session=SESSION, **real))
        with sub.open("a") as f:  # the event first: the line is read for its id, and its agent
            f.write(_subagent_line("msg_6", "req_6") + "\n")
        _send(rx, claude_event("req_6", session=SESSION, **real))
        # sessions without a transcript here: `-p`'s main loop is the main thread, a built-in agent a sub-agent
        _send(rx, claude_event("req_7", session="elsewhere", query_source="sdk"))
        _send(rx, claude_event("req_8", session="elsewhere", query_source="agent:builtin", **{"agent.name": "Explore"}))
    rows = _rows(data_dir)
    assert rows["claude-code:msg_5:req_5"]["feature"] == "claude-code agent=code-reviewer query=subagent"
    assert rows["claude-code:msg_6:req_6"]["feature"] == "claude-code agent=code-reviewer query=subagent"
    assert rows["claude-code:otel:req_7"]["feature"] == "claude-code"  # main: not attributed
    assert rows["claude-code:otel:req_8"]["feature"] == "claude-code agent=Explore query=subagent"
    assert not (data_dir / "annotations").exists()  # the event added nothing the line had not


def test_an_event_ahead_of_its_transcript_line_waits_for_it(data_dir, tmp_path):
    root = tmp_path / "claude"
    env = {"CLAUDE_CONFIG_DIR": str(root)}
    path = _transcript(root)  # the session has started; the response is not written yet
    with ReceiverProcess(data_dir, env=env) as rx:
        _send(rx, claude_event("req_3", session=SESSION))
        # acknowledged, and kept on disk until the line comes
        assert json.loads((data_dir / "otlp-held.json").read_text())[0]["rid"] == "req_3"
        with path.open("a") as f:
            f.write(_assistant_line("msg_3", "req_3") + "\n")
        deadline = time.monotonic() + 30
        while json.loads((data_dir / "otlp-held.json").read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
    out = cli(data_dir, "import", "claude-code", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert list(_rows(data_dir)) == ["claude-code:msg_3:req_3"]
    assert report(data_dir, "today")["messages"] == 1


def test_a_claude_code_event_without_a_transcript_here_keeps_its_own_id(data_dir, tmp_path):
    env = {"CLAUDE_CONFIG_DIR": str(tmp_path / "claude")}  # no transcripts on this machine
    with ReceiverProcess(data_dir, env=env) as rx:
        _send(rx, claude_event("req_4", session=SESSION), claude_event("req_4", session=SESSION))
    assert list(_rows(data_dir)) == ["claude-code:otel:req_4"]


def test_codex_and_gemini_sessions_whose_logs_are_here_are_counted_from_the_logs(data_dir, tmp_path):
    codex_home, gemini_root = tmp_path / "codex", tmp_path / "gemini"
    env = {"CODEX_HOME": str(codex_home), "GEMINI_DATA_DIR": str(gemini_root)}
    conv = "01a24bc5-d329-71c1-bf23-01587eee8d5d"
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    rollout = codex_home / "sessions" / time.strftime("%Y/%m/%d") / f"rollout-2026-12-06T14-33-05-{conv}.jsonl"
    rollout.parent.mkdir(parents=True)
    last = {
        "input_tokens": 1000,
        "cached_input_tokens": 400,
        "output_tokens": 70,
        "reasoning_output_tokens": 20,
        "total_tokens": 1070,
    }
    rollout.write_text(
        "\n".join(
            json.dumps(o)
            for o in (
                {"timestamp": now, "type": "session_meta", "payload": {"id": conv, "cwd": "/home/me/widget"}},
                {"timestamp": now, "type": "turn_context", "payload": {"model": "gpt-5"}},
                {
                    "timestamp": now,
                    "type": "event_msg",
                    "payload": {"type": "token_count", "info": {"total_token_usage": last, "last_token_usage": last}},
                },
            )
        )
        + "\n"
    )
    gemini_session = "72662b1d-c689-4482-89f5-8c235050bbc9"
    chat = gemini_root / "proj" / "chats" / f"session-2026-12-06T14-34-{gemini_session[:8]}.jsonl"
    chat.parent.mkdir(parents=True)
    chat.write_text(json.dumps({"sessionId": gemini_session, "projectHash": "9732f73f"}) + "\n")
    with ReceiverProcess(data_dir, env=env) as rx:
        for service, events in (
            ("codex_exec", [codex_event(conversation=conv), codex_event(conversation="other-conversation")]),
            ("gemini-cli", [gemini_event(session=gemini_session), gemini_event(session="5f5f5f5f-other")]),
        ):
            assert post(rx.url + "/v1/logs", logs_request(service, events).SerializeToString())[0] == 200
    rows = _rows(data_dir)
    # the sessions with a log here left to the log; the others recorded from their events
    assert sorted(r["session"] for r in rows.values()) == ["5f5f5f5f-other", "other-conversation"]
    out = cli(data_dir, "import", "codex", "--json", env=env)
    assert out.returncode == 0, out.stderr
    sessions = sorted(r["session"] for r in _rows(data_dir).values())
    assert sessions == sorted(["5f5f5f5f-other", conv, "other-conversation"])
