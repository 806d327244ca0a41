"""The "Connect a client" snippets run as shown (rendered from data/connect-clients.json as the
settings page renders them, with a live service's origin, a new key and a model of the user's)
with the real clients: curl, the openai SDKs for Python and Node, the Vercel AI SDK, google-genai,
and the environment variables read by the openai, anthropic and google-genai SDKs themselves.
Each prints the answer the platform gave, so the words printed prove the call went through."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import pytest

from tests.clients.node import install
from tests.fakes.upstream import Reply
from tests.helpers.api import account, create_api_key
from tests.helpers.connect_snippets import render

MODEL = "qwen/qwen-plus"
RUN_TIMEOUT_S = 120


async def run(arguments: list[str], cwd: Path) -> str:
    """Run a snippet in an environment of its own (nothing of the test's: no stray OPENAI_*)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    with anyio.fail_after(RUN_TIMEOUT_S):
        done = await anyio.run_process(arguments, cwd=cwd, env=env, check=False)
    output = done.stdout.decode()
    assert done.returncode == 0, f"{arguments[0]} failed:\n{output}\n{done.stderr.decode()[-3000:]}"
    return output


@pytest.fixture
async def connected(client, auth, platform_fakes, service_url):
    """(render, script): a snippet filled in as the panel fills it; queue the platform's answers."""
    bound = await account(client, auth, "qwen")
    key = (await create_api_key(client, auth))["key"]

    def script(*texts: str) -> None:
        platform_fakes.openai.script(*(Reply(t) for t in texts), credential=bound["key"])

    return (lambda snippet: render(snippet, service_url, key, MODEL)), script


async def test_the_curl_snippet_answers(connected, tmp_path):
    snippet, script = connected
    script("Connected by curl.")
    answer = json.loads(await run(["bash", "-c", snippet("curl")], tmp_path))
    assert answer["choices"][0]["message"]["content"] == "Connected by curl."


async def test_the_python_snippets_answer(connected, tmp_path):
    snippet, script = connected
    script("Connected from Python.", "Connected from google-genai.")
    printed = await run([sys.executable, "-c", snippet("python")], tmp_path)
    assert printed == "Connected from Python.\n"
    printed = await run([sys.executable, "-c", snippet("gemini")], tmp_path)
    assert printed == "Connected from google-genai.\n"


async def test_the_node_snippets_answer(connected, tmp_path):
    snippet, script = connected
    modules = install()
    (tmp_path / "node_modules").symlink_to(modules)  # the snippet's imports resolve from its folder
    said = {"node": "Connected from Node.", "vercel": "Connected through the AI SDK."}
    script(*said.values())
    for name, text in said.items():
        file = tmp_path / f"{name}.mjs"
        file.write_text(snippet(name))
        assert await run(["node", str(file)], tmp_path) == f"{text}\n"


async def test_the_environment_variables_are_what_the_sdks_read(connected, tmp_path):
    snippet, script = connected
    script("OpenAI SDK from the environment.", "Anthropic SDK from the environment.",
           "google-genai from the environment.")  # fmt: skip
    sdks = f"""
from openai import OpenAI
import anthropic
from google import genai

hello = [{{"role": "user", "content": "Hello!"}}]
print(OpenAI().chat.completions.create(model="{MODEL}", messages=hello).choices[0].message.content)
claude = anthropic.Anthropic().messages.create(model="{MODEL}", max_tokens=64, messages=hello)
print(claude.content[0].text)
gemini = genai.Client()  # kept: a Client closes its connections when it is collected
print(gemini.models.generate_content(model="{MODEL}", contents="Hello!").text)
"""
    (tmp_path / "sdks.py").write_text(sdks)
    shell = f"{snippet('env')}\n{sys.executable} sdks.py\n"
    printed = await run(["bash", "-c", shell], tmp_path)
    assert printed.splitlines() == [
        "OpenAI SDK from the environment.",
        "Anthropic SDK from the environment.",
        "google-genai from the environment.",
    ]
