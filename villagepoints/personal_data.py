"""Validation and masking of ID numbers (身份证号) and phone numbers, and who sees them in full."""
from __future__ import annotations

import re
import unicodedata
from operator import mul
from typing import Any

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_DIGITS = {str(d): d for d in range(10)}
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
_SCIENTIFIC = re.compile(r"\d+(\.\d+)?[Ee]\+?\d+")
_PHONE_MARKS = re.compile(r"[\s()（）]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# Landlines as villages write them: area code 0xx(x) with 7–8 digits, dash optional.
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$", re.ASCII)


class InvalidIdNumber(ValueError):
    """An ID number that cannot be stored; the message says why in Chinese."""


class InvalidPhone(ValueError):
    """A phone number that cannot be stored; the message says why in Chinese."""


def id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits."""
    # A dict lookup per digit: an import checks every row's ID, and int() per character was most of it.
    return _ID_CHECK_CHARS[sum(map(mul, map(_DIGITS.__getitem__, first17), _ID_WEIGHTS)) % 11]


def _half_width(raw: str) -> str:
    """Return the text with full-width digits and letters (a phone keyboard's) folded to plain ones."""
    value = str(raw)
    return value if value.isascii() else unicodedata.normalize("NFKC", value)


def normalize_id_number(raw: str) -> str:
    """Return the ID number in canonical form or raise InvalidIdNumber."""
    value = _half_width(raw).strip().replace(" ", "").upper()
    if not value:
        raise InvalidIdNumber("身份证号为空")
    if _SCIENTIFIC.fullmatch(value):
        raise InvalidIdNumber("身份证号被表格存成了科学计数法，末几位已丢失，请把该列设为文本后重新录入")
    if len(value) != 18:
        raise InvalidIdNumber(f"身份证号应为18位，这里是{len(value)}位")
    if not _ID_SHAPE.match(value):
        raise InvalidIdNumber("身份证号前17位应为数字，最后一位为数字或X")
    if id_check_char(value[:17]) != value[17]:
        raise InvalidIdNumber("身份证号校验位不正确，请核对")
    return value


def normalize_phone(raw: str) -> str:
    """Return the phone number in canonical form or raise InvalidPhone."""
    value = _half_width(raw)
    if not value.isdigit():
        value = _PHONE_MARKS.sub("", value)
    if value.startswith("+86"):
        value = value[3:]
    if _MOBILE.match(value) or _LANDLINE.match(value):
        return value
    raise InvalidPhone("电话号码格式不正确，应为11位手机号或带区号的固定电话")


def sees_in_full(user: Any, village: Any) -> bool:
    """Tell whether the user sees this village's ID numbers and phones in full.

    The one rule every page, search and export follows: a global admin everywhere; a
    township admin in the villages of its own township; nobody else (township viewers
    and every village role see the masks). Where it is true, longer search fragments
    and the full register export are allowed, and audited.
    """
    if user is None or not getattr(user, "is_authenticated", False) or village is None:
        return False
    # can_access already says which villages are a township's own.
    return user.is_admin or (user.role == "township_admin" and user.can_access(village))


def mask_id_number(value: str | None) -> str:
    """Show the first 6 and last 4 characters: 110101********1234."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str:
    """Show the first 3 and last 4 digits: 138****5678."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# Two-character surnames, so that 欧阳春花 is shown as 欧阳** and not 欧***.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 独孤 "
    "南宫 西门 百里 呼延 万俟 闻人 澹台 申屠 太史 公冶 赫连 濮阳 拓跋 完颜 东郭 第五".split()
)


def mask_name(value: str) -> str:
    """Keep the surname only, as public notices name people: 张*, 欧阳**."""
    if not value:
        return ""
    keep = 2 if len(value) > 2 and value[:2] in COMPOUND_SURNAMES else 1
    return value[:keep] + "*" * (len(value) - keep)
