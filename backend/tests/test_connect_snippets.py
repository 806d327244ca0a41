"""One source for the "Connect a client" snippets: the README's "Connecting a client" section is
data/connect-clients.json rendered with the README's values, block for block, and the page has
a tab name for each snippet in both languages."""

from __future__ import annotations

import re

from app.web.router import STATIC_DIR
from tests.conftest import BACKEND_DIR
from tests.helpers.connect_snippets import README_VALUES, render, snippets

README = (BACKEND_DIR.parent / "README.md").read_text(encoding="utf-8")
_BLOCK = re.compile(r"^```(\w+)\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


def test_the_readme_shows_the_panels_snippets_as_the_page_renders_them() -> None:
    section = README.partition("\n### Connecting a client\n")[2].partition("\n### ")[0]
    shown = _BLOCK.findall(section)
    expected = [(s["language"], render(str(s["id"]), **README_VALUES)) for s in snippets()]
    assert shown == expected, "the README differs from data/connect-clients.json"


def test_each_snippet_has_a_tab_name_in_both_languages() -> None:
    for lang in ("en", "zh"):
        locale = (STATIC_DIR / "js" / "locales" / f"{lang}.js").read_text(encoding="utf-8")
        missing = [s["id"] for s in snippets() if f'"connect.client_{s["id"]}": ' not in locale]
        assert missing == [], lang


def test_the_snippets_name_every_client_the_panel_promises() -> None:
    texts = {str(s["id"]): render(str(s["id"]), **README_VALUES) for s in snippets()}
    assert "export OPENAI_BASE_URL=http://127.0.0.1:8000/v1" in texts["env"]
    assert "export ANTHROPIC_AUTH_TOKEN=op-…" in texts["claude_code"]
    assert 'wire_api = "responses"' in texts["codex"]
    assert 'createOpenAI({ baseURL: "http://127.0.0.1:8000/v1"' in texts["vercel"]
