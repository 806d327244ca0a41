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


PLATFORMS_DOC = BACKEND_DIR.parent / "docs" / "platforms.md"
# "platforms.md §2", "(docs/platforms.md) §1", "platforms.md §2-§4"
_CITATION = re.compile(r"platforms\.md\)?\s*§(\d+)(?:\s*-\s*§(\d+))?")
_WAYS = {"api_key": "API key", "browser": "browser login", "oauth": "OAuth", "device": "device"}


def _cited_sections() -> dict[int, list[str]]:
    root = BACKEND_DIR.parent
    files = [root / "README.md", *(root / "docs").glob("*.md")]
    files += [
        p for folder in ("app", "tests", "scripts") for p in (BACKEND_DIR / folder).rglob("*.py")
    ]
    cited: dict[int, list[str]] = {}
    for path in files:
        for match in _CITATION.finditer(path.read_text(encoding="utf-8")):
            first, last = int(match[1]), int(match[2] or match[1])
            for number in range(first, last + 1):
                cited.setdefault(number, []).append(str(path.relative_to(root)))
    return cited


def test_every_cited_section_of_platforms_md_exists():
    sections = set(map(int, re.findall(r"^## (\d+)\.", PLATFORMS_DOC.read_text(), re.MULTILINE)))
    cited = _cited_sections()
    assert cited, "nothing cites docs/platforms.md: the pattern no longer matches the citations"
    missing = {n: files for n, files in cited.items() if n not in sections}
    assert missing == {}, f"cited sections that docs/platforms.md does not have: {missing}"


def test_the_platform_table_names_every_way_to_bind():
    shipped = json.loads((BACKEND_DIR / "app" / "data" / "platforms.json").read_text())
    table = README.partition("\n## Platforms\n")[2].partition("\n#")[0]
    for platform in shipped:
        row = re.search(rf"^\| `{platform['platform_id']}` \|.*\| (?P<ways>[^|]+) \|$", table, re.M)
        assert row is not None, platform["platform_id"]
        for method in platform["oauth_config"].get("login_methods", ["api_key"]):
            assert _WAYS[method] in row["ways"], (platform["platform_id"], method)
