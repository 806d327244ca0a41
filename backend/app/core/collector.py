"""Python's cyclic garbage collector and a long-lived server.

A full collection walks every object the process holds: with the service's modules, SQLAlchemy's
mappings and caches loaded that is ~250,000 objects, and the calls' own garbage set one off every
few hundred calls, at ~160 ms each on a busy 2-core machine: a fifth of a worker's CPU. Objects
made at start-up (and by litellm's import, ~190 MB when some platform needs it) live as long as
the process, so they are moved out of the collector's reach once; the calls' garbage is
collected as before, and a full pass then walks only what was made since.

The youngest generation is collected after YOUNG_THRESHOLD more container objects than were
freed, not Python's 700: 32 calls in flight hold more than 700 objects between them, so nearly
every peak of live objects set off a collection that found little to free (one every ~4 calls,
~80 µs of CPU per call in all); at 10,000 they are rare, and what cycles the calls leave behind
is still collected within a few hundred calls.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
_done: set[str] = set()


def start_serving() -> None:
    """At start-up: the young generation's threshold raised, and start-up's objects frozen."""
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    freeze_long_lived("start-up")


def freeze_long_lived(stage: str) -> None:
    """Collect what is garbage now, then exempt every surviving object from later collections;
    once per `stage` ("start-up", "litellm") and process."""
    if stage in _done:
        return
    _done.add(stage)
    gc.collect()
    gc.freeze()
