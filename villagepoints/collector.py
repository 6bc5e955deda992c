"""Python's cycle collector, paused around the bulk work of an import."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cycle collector for the block; as a decorator, for each call.

    An import keeps a dict, a row and a planned row per line of the sheet alive until it
    ends, and every few thousand of them started a collection that walked all of them
    again: a fifth of a 50,000-row import. Reference counting still frees what the block
    drops; only cycles wait until it ends. The pause is the process's: the other threads
    of a gunicorn worker go without cycle collection while an import runs (seconds). Only
    whoever paused first turns the collector back on, so it is never left off once every
    import has ended, nested or concurrent.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
