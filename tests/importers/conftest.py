import os
import sys
from pathlib import Path

import pytest

# the helpers beside these tests (log generator, ccusage runner, the real tools' stand-in)
sys.path.insert(0, str(Path(__file__).parent))

import real_tools
from standin import Reply

# -- the real tools' logs (real_tools.py): run once per test session, on first use ----------

CLAUDE_SESSION = "5e551013-0000-4000-8000-00000000c1a0"
GEMINI_PROJECT = "gemini-demo-workspace"  # longer than the 12 characters of an older layout's hash


def _real(tmp_path_factory, name: str, steps: list[dict], replies: dict) -> tuple[Path, list[dict]]:
    reason = real_tools.unavailable()
    if reason:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the real-tool tests must run in CI: {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp(f"real-{name}")
    answered = real_tools.run_session(work, steps, replies)
    return work / "home", answered


@pytest.fixture(scope="session")
def claude_run(tmp_path_factory):
    """Claude Code 2.1.332 over four prompts of one session (tool use, a sub-agent, a remapped
    model, a gateway's cache writes without their breakdown, a partial breakdown) and a fork of
    it: (HOME it wrote under, what the stand-in answered). Which reply goes to the sub-agent
    and which to the main thread may vary: the truth is what the stand-in noted."""
    sonnet, opus, haiku = "claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"
    steps = [
        {"tool": "claude", "args": ["-p", "list the files", "--model", sonnet, "--session-id", CLAUDE_SESSION]},
        {"tool": "claude", "args": ["-p", "summarise them", "--continue", "--model", opus]},
        {"tool": "claude", "args": ["-p", "ask a helper", "--continue", "--model", haiku]},
        {"tool": "claude", "args": ["-p", "one more thing", "--continue", "--model", sonnet]},
        {
            "tool": "claude",
            "args": ["-p", "try again", "--resume", CLAUDE_SESSION, "--fork-session", "--model", sonnet],
        },
    ]
    anthropic = [
        # thinking, text and a tool call: one line per block; 5-minute and 1-hour cache writes
        Reply(
            {
                "input_tokens": 120,
                "cache_read_input_tokens": 20_000,
                "cache_creation_input_tokens": 3_000,
                "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 2_000},
                "output_tokens": 240,
            },
            blocks=[
                ("thinking", "Let me look."),
                ("text", "I will list them."),
                ("tool_use", "Glob", {"pattern": "*"}),
            ],
            stop_reason="tool_use",
        ),
        # behind a gateway: cache writes with no breakdown (Claude Code writes one of zeros)
        Reply(
            {
                "input_tokens": 30,
                "cache_read_input_tokens": 23_000,
                "cache_creation_input_tokens": 1_500,
                "output_tokens": 60,
            }
        ),
        # claude-opus-4-1 is asked for as claude-opus-5-5; a gateway again
        Reply(
            {
                "input_tokens": 8,
                "cache_read_input_tokens": 40_000,
                "cache_creation_input_tokens": 12_000,
                "output_tokens": 900,
            }
        ),
        # a sub-agent (its own file, sidechain lines), then the answers in either order
        Reply(
            {
                "input_tokens": 50,
                "cache_read_input_tokens": 9_000,
                "cache_creation_input_tokens": 400,
                "cache_creation": {"ephemeral_5m_input_tokens": 400, "ephemeral_1h_input_tokens": 0},
                "output_tokens": 70,
            },
            blocks=[
                ("text", "Asking a helper."),
                (
                    "tool_use",
                    "Agent",
                    {"description": "look", "prompt": "List the files.", "subagent_type": "general-purpose"},
                ),
            ],
            stop_reason="tool_use",
        ),
        Reply({"input_tokens": 60, "cache_creation_input_tokens": 2_500, "output_tokens": 33}),
        Reply({"input_tokens": 70, "cache_read_input_tokens": 3_000, "output_tokens": 44}),
        Reply({"input_tokens": 80, "cache_read_input_tokens": 3_500, "output_tokens": 55}),
        # a breakdown that names only the 1-hour part of the total
        Reply(
            {
                "input_tokens": 5,
                "cache_read_input_tokens": 30_000,
                "cache_creation_input_tokens": 2_000,
                "cache_creation": {"ephemeral_1h_input_tokens": 700},
                "output_tokens": 120,
            }
        ),
        Reply({"input_tokens": 11, "cache_read_input_tokens": 31_000, "output_tokens": 22}),
    ]
    return _real(tmp_path_factory, "claude", steps, {"anthropic": anthropic})


@pytest.fixture(scope="session")
def codex_run(tmp_path_factory):
    """Codex 0.171.0, two turns of one session (cached input, cache writes, reasoning)."""
    steps = [
        {"tool": "codex", "args": ["exec", "--skip-git-repo-check", "say hi"]},
        {"tool": "codex", "args": ["exec", "--skip-git-repo-check", "resume", "--last", "and again"]},
    ]
    openai = [
        Reply(
            {
                "input_tokens": 12_000,
                "input_tokens_details": {"cached_tokens": 8_000, "cache_write_tokens": 1_500},
                "output_tokens": 300,
                "output_tokens_details": {"reasoning_tokens": 100},
            }
        ),
        Reply(
            {
                "input_tokens": 14_500,
                "input_tokens_details": {"cached_tokens": 12_000},
                "output_tokens": 45,
                "output_tokens_details": {"reasoning_tokens": 0},
            }
        ),
    ]
    return _real(tmp_path_factory, "codex", steps, {"openai": openai})


@pytest.fixture(scope="session")
def gemini_run(tmp_path_factory):
    """Gemini CLI 0.61.0, two sessions (cached input, thoughts, tool-use prompt tokens)."""
    steps = [
        {"tool": "gemini", "args": ["-p", "say hi", "-m", "gemini-2.5-pro"], "cwd": GEMINI_PROJECT},
        {"tool": "gemini", "args": ["-p", "and again", "-m", "gemini-2.5-flash"], "cwd": GEMINI_PROJECT},
    ]
    gemini = [
        Reply(
            {
                "promptTokenCount": 5_000,
                "cachedContentTokenCount": 3_000,
                "candidatesTokenCount": 40,
                "thoughtsTokenCount": 25,
                "toolUsePromptTokenCount": 7,
            }
        ),
        Reply({"promptTokenCount": 800, "candidatesTokenCount": 12}),
    ]
    return _real(tmp_path_factory, "gemini", steps, {"gemini": gemini})
