"""User names: one spelling per name, and none that looks like another.

A name is NFKC-normalised before anything else (a full-width `ａlice` is `alice`), and its
skeleton maps each character to one representative of Unicode's confusables (UTS #39, as the
`confusable-homoglyphs` data lists them) and folds case: `аlice` with a Cyrillic `а`, `Alice`
and `alice` share a skeleton, so only the first of them can be registered.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from confusable_homoglyphs.confusables import confusables_data

_DIRECTION_MARKS = "\u200e\u200f"


def normalise(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip()


@lru_cache(maxsize=4096)
def _representative(char: str) -> str:
    """The lowest code point among the character and its one-character homoglyphs."""
    entries: list[dict[str, str]] = confusables_data.get(char, [])
    glyphs = (entry["c"].strip(_DIRECTION_MARKS) for entry in entries)
    return min((char, *(glyph for glyph in glyphs if len(glyph) == 1)))


def skeleton(name: str) -> str:
    folded = normalise(name).casefold()
    return "".join(_representative(char) for char in folded).casefold()
