"""Codex CLI end to end: `codex exec` (npm `@openai/codex`, installed by tests/clients/node.py)
with the service as a custom model provider (`model_providers` in its config.toml, wire_api
`responses`: the "Connect a client" panel's configuration, data/connect-clients.json) runs one
task: the platform asks for a shell command,
Codex runs it and sends back its output, and the platform answers — on a platform translated
onto chat (Qwen) and on an OpenAI account, which gets Codex's requests on its own Responses API.
The answer, what the platform was sent and the books are checked."""

from __future__ import annotations

import json
import os

import anyio
import pytest

from tests.clients.node import MODULES, install
from tests.fakes.upstream import Reply, ToolCall
from tests.helpers.api import account, accounts_by_id, create_api_key
from tests.helpers.connect_snippets import render

TASK_TIMEOUT_S = 180


@pytest.mark.parametrize("model", ["qwen/qwen-plus", "openai/gpt-4.1-mini"])
async def test_codex_runs_a_task_with_a_tool_through_the_service(
    client,
    auth,
    platform_fakes,
    service_url,
    tmp_path,
    model,
):
    install()
    platform = model.split("/")[0]
    bound = await account(client, auth, platform)
    key = (await create_api_key(client, auth))["key"]
    fake = platform_fakes.openai
    command = "echo tool-output-$((6*7))"
    fake.script(
        ToolCall("exec_command", {"cmd": command}, id="call_codex_1"),
        Reply("The command printed tool-output-42."),
        credential=bound["key"],
    )
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(render("codex", service_url, key, model))
    work = tmp_path / "work"
    work.mkdir()
    last = tmp_path / "last-message.txt"
    arguments = [
        str(MODULES / ".bin" / "codex"),
        "exec",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",  # the test's machine has no sandbox
        "--json",
        "--output-last-message",
        str(last),
        "Run the command that prints the magic word, then tell me what it printed.",
    ]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CODEX_HOME": str(home),
        "OAUTH_PROXY_API_KEY": key,
    }
    with anyio.fail_after(TASK_TIMEOUT_S):
        done = await anyio.run_process(arguments, cwd=work, env=env, check=False)
    output = done.stdout.decode()
    assert done.returncode == 0, output[-3000:] + done.stderr.decode()[-3000:]
    assert last.read_text().strip() == "The command printed tool-output-42."
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    ran = [e["item"] for e in events if (e.get("item") or {}).get("type") == "command_execution"]
    assert ran and "tool-output-42" in ran[-1]["aggregated_output"]

    asked = [r.json for r in fake.model_requests if r.credential == bound["key"]]
    assert len(asked) == 2 and asked[0]["stream"] is True
    assert asked[0]["model"] == model.split("/")[1]
    if platform == "openai":  # Codex's own Responses request, as it wrote it
        assert any(t.get("name") == "exec_command" for t in asked[0]["tools"])
        assert asked[0]["include"] == ["reasoning.encrypted_content"]
        items = [i for i in asked[1]["input"] if i.get("type") == "function_call_output"]
        said = items[-1]["output"]
        said = said if isinstance(said, str) else json.dumps(said)
        assert items[-1]["call_id"] == "call_codex_1"
    else:
        assert any(t["function"]["name"] == "exec_command" for t in asked[0]["tools"])
        results = [m for m in asked[1]["messages"] if m["role"] == "tool"]
        assert results[-1]["tool_call_id"] == "call_codex_1"
        said = results[-1]["content"]
    assert "tool-output-42" in said  # Codex ran the command, sent its output

    turns = [e for e in events if e.get("type") == "turn.completed"]
    used = turns[-1]["usage"]
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == used["input_tokens"] + used["output_tokens"]
    rows = (await client.get("/api/v1/oauth/usage?days=2", headers=auth)).json()["data"]
    assert [row["requests"] for row in rows if row["account_id"] == bound["id"]] == [2]
