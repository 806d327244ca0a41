"""Python's cyclic garbage collector and a long-lived server.

A full collection walks every object the process holds: with the service's modules, SQLAlchemy's
mappings and caches loaded that is ~250,000 objects, and the calls' own garbage set one off every
few hundred calls, at ~60 ms each — about a fifth of a busy worker's CPU. Objects made at start-up
(and by litellm's import, ~190 MB when some platform needs it) live as long as the process, so
they are moved out of the collector's reach once; the calls' garbage is collected as before, and
a full pass then walks only what was made since.
"""

from __future__ import annotations

import gc

_done: set[str] = set()


def freeze_long_lived(stage: str) -> None:
    """Collect what is garbage now, then exempt every surviving object from later collections;
    once per `stage` ("start-up", "litellm") and process."""
    if stage in _done:
        return
    _done.add(stage)
    gc.collect()
    gc.freeze()
