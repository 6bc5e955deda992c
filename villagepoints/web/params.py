"""What a request may carry in: text without control characters, numbers the database can hold.

Every form field and query parameter passes through ``CleanParams`` and every URL part
through the converters below, so no view needs its own guard against a NUL byte (which
PostgreSQL refuses), a bell character (which spreadsheets refuse) or a 20-digit id (which
neither database can hold).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.routing import IntegerConverter, UnicodeConverter

from ..text import clean_any

# Ids, pages and counts are INTEGER columns: 4 bytes on PostgreSQL.
DB_INT_MAX = 2**31 - 1


def db_int(value: Any) -> int:
    """Read a whole number the database can hold; anything else raises ValueError."""
    number = int(value)
    if not -DB_INT_MAX <= number <= DB_INT_MAX:
        raise ValueError("number out of range")
    return number


def db_id(value: Any) -> Optional[int]:
    """Read an id from a form or query value: a whole number the database can hold, else None."""
    try:
        return db_int(value)
    except (TypeError, ValueError):
        return None


def _bounded(type_: Optional[Callable]) -> Optional[Callable]:
    # ``request.args.get("page", 1, type=int)`` falls back to its default on ValueError,
    # so a number too large to query by is treated like any other number that is not one.
    return db_int if type_ is int else type_


class CleanParams(ImmutableMultiDict):
    """Request parameters with control characters dropped and ``type=int`` kept in range."""

    def __init__(self, mapping: Any = None) -> None:
        if mapping is None:
            super().__init__()
            return
        if hasattr(mapping, "items"):
            # A plain dict may hold a list per key, as MultiDict reads it.
            pairs = (mapping if isinstance(mapping, MultiDict) else MultiDict(mapping)).items(multi=True)
        else:
            pairs = mapping
        super().__init__([(clean_any(k), clean_any(v)) for k, v in pairs])

    def get(self, key: Any, default: Any = None, type: Optional[Callable] = None) -> Any:  # noqa: A002
        return super().get(key, default, _bounded(type))

    def getlist(self, key: Any, type: Optional[Callable] = None) -> list:  # noqa: A002
        return super().getlist(key, _bounded(type))


class VillagePointsRequest(Request):
    """Flask's request with cleaned parameters (query string, form fields)."""

    parameter_storage_class = CleanParams


class CleanString(UnicodeConverter):
    """A URL part (a village slug, a household code, a quarter) without control characters."""

    def __init__(self, map, minlength: int = 1, maxlength: Optional[int] = None, length: Optional[int] = None) -> None:  # noqa: A002
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        # UnicodeConverter sets "[^/]{1,}" on the instance; keep its length, refuse controls.
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f-\x9f]")


class DbInteger(IntegerConverter):
    """A URL id the database can hold; a longer number is simply a page that does not exist."""

    def __init__(self, map, fixed_digits: int = 0, min: Optional[int] = None, max: Optional[int] = DB_INT_MAX,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def install(app) -> None:
    """Use the cleaned request and the safe converters; call before any route is added."""
    app.request_class = VillagePointsRequest
    app.url_map.converters["default"] = CleanString
    app.url_map.converters["string"] = CleanString
    app.url_map.converters["int"] = DbInteger
