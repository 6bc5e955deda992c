"""Actions fired at the same moment from threads, each with its own session (its own database
connection), the way two clerks press their buttons together."""
from __future__ import annotations

import threading
from typing import Callable, Sequence

from villagepoints.extensions import db
from villagepoints.ledger import LedgerError


def at_once(app, jobs: Sequence, act: Callable, *, what: str = "an action") -> list[str]:
    """Run ``act(job)`` for every job in its own thread and app context, released together.

    ``act`` loads what it needs and returns a callable that writes; the loading happens before
    the gate and its read transaction is ended there, so every writer begins at the same moment.
    Each write is committed, or rolled back on a refusal. Returns the outcomes in job order:
    "ok" or the refusal's class name.
    """
    gate = threading.Barrier(len(jobs))
    outcomes: list[str] = [""] * len(jobs)

    def run(n: int, job) -> None:
        with app.app_context():
            write = act(job)
            db.session.rollback()
            gate.wait(timeout=30)
            try:
                write()
                db.session.commit()
                outcomes[n] = "ok"
            except LedgerError as exc:
                db.session.rollback()
                outcomes[n] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), f"{what} hung"
    return outcomes
