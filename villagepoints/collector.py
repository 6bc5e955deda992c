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
    drops; only cycles wait until it ends. Whoever paused first turns the collector back
    on, so nested and concurrent imports leave it as they found it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
