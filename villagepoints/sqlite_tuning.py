"""Connection settings that make the embedded SQLite default safe for several clerks."""
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine


def install(engine: Engine) -> None:
    """Turn on foreign keys, WAL and a busy timeout for every SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # pysqlite's own transaction handling issues BEGIN late and breaks SAVEPOINT;
        # SQLAlchemy's documented recipe is to switch it off and emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN" if _read_only_request() else "BEGIN IMMEDIATE")


View = TypeVar("View", bound=Callable)
_READ_ONLY = "_villagepoints_read_only"


def read_only(view: View) -> View:
    """Declare that a view writes nothing to the database, though it answers a POST.

    Its transaction begins deferred, like a page view's, so a slow one (an upload
    preview parsing a large file) never holds SQLite's write lock while it works.
    Place it below ``@bp.route`` so the registered view carries the mark.
    """
    setattr(view, _READ_ONLY, True)
    return view


def _read_only_request() -> bool:
    """Page views only read; writes take SQLite's write lock at BEGIN so that a
    read-check-write (a balance, a stock, a unique code) cannot interleave with
    another writer, and a second writer waits (busy_timeout) instead of failing.
    A view marked ``read_only`` reads only, whatever its method."""
    if not has_request_context():
        return False
    if g.get("writes_on_get"):
        return False
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _READ_ONLY, False))


@contextmanager
def write_apart(session) -> Iterator[None]:  # noqa: ANN001
    """Let a page view write (a counted search, an audit row) in a transaction of its own.

    The view's read transaction ends first, so the write begins with SQLite's write lock
    instead of failing to upgrade a stale read; the write commits at the end of the block
    (or rolls back on error) and the rest of the page reads as usual.
    """
    flag = has_request_context()
    session.commit()
    if flag:
        g.writes_on_get = True
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        if flag:
            g.writes_on_get = False
