"""Actions fired at the same moment from threads, each with its own session (its own database
connection), the way two clerks press their buttons together."""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

from villagepoints.extensions import db
from villagepoints.ledger import LedgerError


def together(jobs: Sequence, run: Callable[[Any, Callable[[], None]], Any], *, what: str = "an action") -> list:
    """Run ``run(job, gate)`` for every job in its own thread; return what each returned, in job order.

    ``run`` calls ``gate()`` once its reads are done, and every thread goes on from there at
    the same moment. An exception raised in a thread is raised here once all have ended.
    """
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def wrapped(n: int, job) -> None:
        try:
            results[n] = run(job, lambda: barrier.wait(timeout=30))
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)
            barrier.abort()  # the others stop waiting for this one

    threads = [threading.Thread(target=wrapped, args=(n, job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), f"{what} hung"
    if errors:
        raise errors[0]
    return results


def at_once(app, jobs: Sequence, act: Callable, *, what: str = "an action",
            refusals: tuple[type[BaseException], ...] = (LedgerError,)) -> list[str]:
    """Run ``act(job)`` for every job in its own thread and app context, released together.

    ``act`` loads what it needs and returns a callable that writes; the loading happens before
    the gate and its read transaction is ended there, so every writer begins at the same moment.
    Each write is committed, or rolled back on a refusal (``refusals``). Returns the outcomes in
    job order: "ok" or the refusal's class name.
    """
    def run(job, gate) -> str:
        with app.app_context():
            write = act(job)
            db.session.rollback()
            gate()
            try:
                write()
                db.session.commit()
                return "ok"
            except refusals as exc:
                db.session.rollback()
                return type(exc).__name__

    return together(jobs, run, what=what)
