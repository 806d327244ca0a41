"""Start-up's long-lived objects are out of the garbage collector's full passes; the calls'
garbage is still collected."""

from __future__ import annotations

import gc

from app.core import collector


def _tracked(thing: object) -> bool:
    """Whether a collection of some generation still walks `thing` (a frozen object is in
    none of them)."""
    return any(any(o is thing for o in gc.get_objects(generation=g)) for g in range(3))


def test_what_lives_at_a_stage_is_frozen_and_later_objects_are_not():
    before: list[object] = [object()]
    assert _tracked(before)
    collector.freeze_long_lived("a test's stage")
    assert not _tracked(before)
    after: list[object] = [object()]
    assert _tracked(after)
    collector.freeze_long_lived("a test's stage")  # once per stage: `after` stays collectable
    assert _tracked(after)


async def test_the_app_freezes_once_started(app):
    assert "start-up" in collector._done
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == collector.YOUNG_THRESHOLD
