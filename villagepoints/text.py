"""One cleaner for every text that comes in (forms, query strings, imports, CLI) and goes out to a sheet."""
from __future__ import annotations

import re
from typing import Any

# C0 controls except tab and newline, DEL and the C1 controls. A bell (\x07) or a vertical
# tab in a name is invisible on screen, but openpyxl refuses it (IllegalCharacterError),
# so one such name would fail every export of its village; PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Any control character at all, newlines included: for one-line values such as a URL.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_text(value: str) -> str:
    """Drop control characters from a text, keeping tabs and line breaks (CR LF and CR become LF)."""
    if not value:
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value)


def clean_any(value: Any) -> Any:
    """Clean a value if it is text; anything else is returned as it is."""
    return clean_text(value) if isinstance(value, str) else value


def has_control(value: str) -> bool:
    """Tell whether a one-line text holds any control character (CR and LF included)."""
    return bool(_ANY_CONTROL.search(value or ""))
