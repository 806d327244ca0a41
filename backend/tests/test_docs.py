"""The README keeps up with the code: every setting and every platform is documented."""

from __future__ import annotations

import json
import re

from app.core.config import Settings
from tests.conftest import BACKEND_DIR

README = (BACKEND_DIR.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_variable_name():
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert missing == [], f"settings missing from the README's configuration table: {missing}"


def test_every_shipped_platform_is_documented():
    shipped = json.loads((BACKEND_DIR / "app" / "data" / "platforms.json").read_text())
    missing = [p["platform_id"] for p in shipped if f"`{p['platform_id']}`" not in README]
    assert missing == []


def test_the_readme_gives_the_two_commands():
    assert "make run" in README and "make test" in README


def test_every_error_code_is_documented():
    """Each `error_code` the service can answer is a row of the README's table of codes."""
    source = "\n".join(p.read_text() for p in (BACKEND_DIR / "app").rglob("*.py"))
    raised = set(re.findall(r'\bcode ?= ?"([a-z_]+)"', source))  # AppError classes and raises
    raised -= {"invalid_api_key", "invalid_request"}  # OpenAI's shape under /v1, not the envelope
    # The codes of failures the framework raises (tests/api/test_error_codes.py provokes each).
    raised |= {"validation_error", "invalid_json", "endpoint_not_found", "method_not_allowed"}
    section = README.partition("### Error codes")[2].partition("\n#")[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \| \d", section, flags=re.MULTILINE))
    assert raised - documented == set(), "codes missing from the README's table"
    assert documented - raised == set(), "codes in the README's table the service never answers"
