"""The README keeps up with the code: every setting and every platform is documented."""

from __future__ import annotations

import json

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
