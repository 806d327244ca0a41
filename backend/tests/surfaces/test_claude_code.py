"""Claude Code end to end: `claude -p` (npm `@anthropic-ai/claude-code`, installed by
tests/clients/node.py) pointed at the service with ANTHROPIC_BASE_URL and an API key, with its
models on another platform (ANTHROPIC_MODEL=qwen/qwen-plus, the small fast model on OpenAI),
runs one task: the platform asks for a Bash command, Claude Code runs it and sends back its
output, and the platform answers. The answer, what the platform was sent and the books are
checked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest

from tests.clients.node import MODULES, install
from tests.fakes.upstream import Reply, ToolCall
from tests.helpers.api import account, accounts_by_id, create_api_key
from tests.helpers.connect_snippets import exports, render

SMALL_FAST_MODEL = "openai/gpt-4.1-mini"
TASK_TIMEOUT_S = 180


def claude_env(home: Path, base_url: str, key: str, model: str | None) -> dict[str, str]:
    """The "Connect a client" panel's variables (data/connect-clients.json) with another small fast
    model, in a home of its own (no config, no updates); without a model Claude Code asks for its
    own `claude-…` names."""
    told = exports(render("claude_code", base_url, key, model or "none"))
    told["ANTHROPIC_SMALL_FAST_MODEL"] = SMALL_FAST_MODEL
    if model is None:
        del told["ANTHROPIC_MODEL"], told["ANTHROPIC_SMALL_FAST_MODEL"]
    assert told["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"  # no telemetry to Anthropic
    return {
        **told,
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "DISABLE_AUTOUPDATER": "1",
    }


@pytest.mark.parametrize("model", ["qwen/qwen-plus", "claude/claude-sonnet-4-5", None])
async def test_claude_code_runs_a_task_with_a_tool_through_the_service(
    client,
    auth,
    platform_fakes,
    service_url,
    tmp_path,
    model,
):
    install()
    platform = model.split("/")[0] if model else "claude"
    bound = await account(client, auth, platform)
    await account(client, auth, "openai")  # the small fast model's platform
    key = (await create_api_key(client, auth))["key"]
    fake = platform_fakes.anthropic if platform == "claude" else platform_fakes.openai
    command = "echo tool-output-$((6*7))"
    fake.script(
        ToolCall("Bash", {"command": command, "description": "Print a word"}, id="toolu_cc_1"),
        Reply("The command printed tool-output-42."),
        credential=bound["key"],
    )
    work = tmp_path / "work"
    work.mkdir()
    arguments = [
        str(MODULES / ".bin" / "claude"),
        "-p",
        "Run the command that prints the magic word, then tell me what it printed.",
        "--output-format",
        "json",
        "--allowedTools",
        "Bash(echo:*)",
    ]
    with anyio.fail_after(TASK_TIMEOUT_S):
        done = await anyio.run_process(
            arguments, cwd=work, env=claude_env(tmp_path, service_url, key, model), check=False
        )
    output = done.stdout.decode()
    assert done.returncode == 0, output[-3000:] + done.stderr.decode()[-3000:]
    result = json.loads(output)
    assert result["is_error"] is False and result["num_turns"] == 2
    assert result["result"] == "The command printed tool-output-42."

    asked = [r.json for r in fake.model_requests if r.credential == bound["key"]]
    assert len(asked) == 2 and asked[0]["stream"] is True
    if platform == "claude":  # as Claude Code wrote it: its system blocks, its cache marks
        expected = model.split("/")[1] if model else "claude-"  # Claude Code's own name
        assert asked[0]["model"].startswith(expected)
        assert any("cache_control" in block for block in asked[0]["system"])
        results = [
            block
            for message in asked[1]["messages"]
            if isinstance(message["content"], list)
            for block in message["content"]
            if block.get("type") == "tool_result"
        ]
        said = json.dumps(results[-1]["content"])
    else:
        assert asked[0]["model"] == "qwen-plus"
        assert any(t["function"]["name"] == "Bash" for t in asked[0]["tools"])
        results = [m for m in asked[1]["messages"] if m["role"] == "tool"]
        said = results[-1]["content"]
    assert results[-1]["tool_call_id" if platform != "claude" else "tool_use_id"] == "toolu_cc_1"
    assert "tool-output-42" in said  # Claude Code ran the command and sent its output

    used = result["modelUsage"][model or asked[0]["model"]]
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == used["inputTokens"] + used["outputTokens"]
