"""Cleaning cells: what a clerk typed, turned into text, numbers and dates the imports parse."""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import Any, Optional

from ..text import clean_text as clean_control

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_WHOLE_NUMBER = re.compile(r"(\d+)\s*[人口个]?")
_LIST_SEPARATORS = re.compile(r"[、，,/／;；\s]+")
_SPACES = re.compile(r"\s+")
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[Ee][+-]?\d+$")
_DATE_TEXT = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
# Error values a reader may hand over as text for a failed formula; they are no value.
ERROR_VALUES = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)
# Excel serial numbers taken for dates in a date column: 1900-01-01 up to the year 2173.
DATE_SERIALS = (1, 100_000)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


class CellError(ValueError):
    """One cell holds a value that cannot be used; the message says why, in Chinese."""


def clean_text(text: str) -> str:
    """Fold full-width digits, letters and spaces to half-width, drop zero-width marks and control characters, strip."""
    if not text.isascii():
        text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    return clean_control(text).strip()


def clean_value(value: Any) -> Any:
    """Return a cell value ready for parsing: clean text, a date, a number, or None when blank."""
    kind = type(value)
    if kind is str:
        if value.isascii():
            value = value.strip()
            return None if not value or value in ERROR_VALUES else value
        return clean_text(value) or None
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value) or None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if isinstance(value, (dt.date, int)):
        return value
    if isinstance(value, (dt.time, dt.timedelta)):
        return None
    return clean_text(str(value)) or None


def serial_date(value: Any) -> Any:
    """Return a number that can be an Excel serial date (DATE_SERIALS) as that date, else the value."""
    low, high = DATE_SERIALS
    if type(value) in (int, float) and low <= value < high:
        return _EXCEL_EPOCH + dt.timedelta(days=int(value))
    return value


def text(value: Any) -> Optional[str]:
    """Return a cell as text; whole numbers lose the ".0" a spreadsheet adds (5.0 -> "5")."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def id_text(value: Any) -> Optional[str]:
    """Return an ID number cell as text, refusing cells the spreadsheet stored as numbers.

    Excel keeps 15 significant digits, so an 18-digit ID typed into a number cell has
    already lost its last digits; storing what is left would store a wrong ID.
    """
    if value is None:
        return None
    if type(value) is str and len(value) == 18 and value[:17].isdigit():
        return value  # an ID's own shape, which no number cell turns into
    if isinstance(value, (int, float)) or _SCIENTIFIC.match(str(value)):
        raise CellError(
            "身份证号被存成了数字，末几位已丢失。请把这一列设为“文本”格式，重新录入完整的18位号码"
        )
    return str(value)


def to_int(value: Any) -> Optional[int]:
    """Return a whole number from a number cell or a text like "5" or "5人"."""
    if value is None:
        return None
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"应为整数，这里是{value:g}")
        return int(value)
    if isinstance(value, int):
        return value
    match = _WHOLE_NUMBER.fullmatch(str(value))
    if not match:
        raise CellError(f"应为整数，这里是“{value}”")
    return int(match.group(1))


def to_date(value: Any) -> Optional[dt.date]:
    """Return a date from a date cell or from text: 2024-03-01 / 2024/3/1 / 2024年3月1日 / 20240301.

    Serial numbers in a date column are turned into dates by the reader; a number that
    reaches here is read as typed digits (20240301).
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = text(value).replace(" ", "")
    for pattern in _DATE_TEXT:
        match = pattern.match(raw)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                break
    raise CellError(f"日期“{value}”无法识别，请写成 2024-03-01 这样的格式")


def split_list(value: Any) -> list[str]:
    """Split a cell listing several values (党员户、脱贫户 / 党员户，脱贫户 / a/b / a b) into names."""
    if value is None:
        return []
    return list(_split_names(str(value)))


# A register repeats a few category cells on thousands of rows.
@functools.lru_cache(maxsize=1024)
def _split_names(text_value: str) -> tuple[str, ...]:
    names: list[str] = []
    for part in _LIST_SEPARATORS.split(text_value):
        part = part.strip()
        if part and part not in names:
            names.append(part)
    return tuple(names)


def header_key(text_value: Any) -> str:
    """Reduce a header cell to the form aliases are compared in: 身份证号（18位）* -> 身份证号."""
    if text_value is None:
        return ""
    key = clean_text(str(text_value))
    key = _BRACKETED.sub("", key)
    return _SPACES.sub("", key).strip("*:：")


def compact(value: str) -> str:
    """Return text without any whitespace, as headers are shown in messages."""
    return _SPACES.sub("", value)
