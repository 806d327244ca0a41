"""The page's two languages stay complete: the same keys, the same placeholders, every key the
modules use is there, and every account status, refresh outcome and alert kind the API can send
has words."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from app.schemas.alert import AlertKind
from app.schemas.oauth import AccountStatus, RefreshResult
from app.web.router import STATIC_DIR
from tests.conftest import BACKEND_DIR

JS_DIR = STATIC_DIR / "js"
README = (BACKEND_DIR.parent / "README.md").read_text(encoding="utf-8")
_ENTRY = re.compile(r'^\s+"([a-z_.0-9]+)": "((?:[^"\\]|\\.)*)",?$', re.MULTILINE)
_KEY_LITERAL = re.compile(r'"((?:[a-z]+)\.[a-z_.0-9]+)"')
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_PLURAL = re.compile(r'\btn\("([a-z_.0-9]+)"')  # i18n.js tn(): the key's plural forms, key_other


def dictionary(lang: str) -> dict[str, str]:
    return dict(_ENTRY.findall((JS_DIR / "locales" / f"{lang}.js").read_text(encoding="utf-8")))


def modules() -> list[Path]:
    return [p for p in JS_DIR.rglob("*.js") if "locales" not in p.parts]


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    en, zh = dictionary("en"), dictionary("zh")
    assert len(en) > 200
    assert sorted(set(en) ^ set(zh)) == []
    for key, text in en.items():
        assert text.strip() and zh[key].strip(), key
        assert set(_PLACEHOLDER.findall(text)) == set(_PLACEHOLDER.findall(zh[key])), key


def test_every_key_the_modules_name_exists() -> None:
    en = dictionary("en")
    namespaces = {key.split(".")[0] for key in en}
    used = {
        key
        for path in modules()
        for key in _KEY_LITERAL.findall(path.read_text(encoding="utf-8"))
        if key.split(".")[0] in namespaces
    }
    texts = [path.read_text(encoding="utf-8") for path in modules()]
    plural = {key for text in texts for key in _PLURAL.findall(text)}
    assert len(used) > 150
    assert sorted(used - plural - set(en)) == []
    for lang in ("en", "zh"):
        assert sorted(key for key in plural if f"{key}_other" not in dictionary(lang)) == [], lang


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("status", typing.get_args(AccountStatus)),
        ("refresh", typing.get_args(RefreshResult.model_fields["outcome"].annotation)),
        ("method", ("api_key", "oauth", "device", "browser")),
        ("alert.kind", typing.get_args(AlertKind)),
    ],
)
def test_what_the_api_sends_has_words(prefix: str, values: tuple[str, ...]) -> None:
    en = dictionary("en")
    assert values and sorted(f"{prefix}.{v}" for v in values if f"{prefix}.{v}" not in en) == []


def readme_error_codes() -> set[str]:
    table = README[README.index("### Error codes") :]
    table = table[: table.index("\n### ")]
    return set(re.findall(r"^\| `([a-z_]+)` \| \d", table, re.MULTILINE))


def test_the_page_words_every_error_code_the_service_answers() -> None:
    """`error.code.<code>` translates a failure by its error_code: the page (ui.js) words every
    code of the README's table, and no other."""
    en = dictionary("en")
    worded = {key.removeprefix("error.code.") for key in en if key.startswith("error.code.")}
    ui = (JS_DIR / "ui.js").read_text(encoding="utf-8")
    listed = ui[ui.index("const WORDED") : ui.index("const DETAILED")]
    picked = set(re.findall(r'"([a-z_]+)"', listed))
    codes = readme_error_codes()
    assert len(codes) > 40
    assert worded == picked == codes
