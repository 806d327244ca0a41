"""The "Connect a client" snippets (app/web/static/data/connect-clients.json), rendered as the
settings page renders them (js/views/connect.js: each `{{name}}` replaced by its value)."""

from __future__ import annotations

import json
import re

from app.web.router import STATIC_DIR

TEMPLATES = STATIC_DIR / "data" / "connect-clients.json"
# What the README's "Connecting a client" section shows: the service of `make run`, a key's shape.
README_VALUES = {"origin": "http://127.0.0.1:8000", "key": "op-…", "model": "qwen/qwen-plus"}
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_EXPORT = re.compile(r"^export (\w+)=(\S+)$", re.MULTILINE)


def snippets() -> list[dict[str, object]]:
    loaded: list[dict[str, object]] = json.loads(TEMPLATES.read_text(encoding="utf-8"))["snippets"]
    return loaded


def render(snippet_id: str, origin: str, key: str, model: str) -> str:
    values = {"origin": origin, "base_url": f"{origin}/v1", "key": key, "model": model}
    (snippet,) = [s for s in snippets() if s["id"] == snippet_id]
    lines = snippet["lines"]
    assert isinstance(lines, list)
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], "\n".join(lines))


def exports(text: str) -> dict[str, str]:
    """The variables a shell snippet exports."""
    return dict(_EXPORT.findall(text))
