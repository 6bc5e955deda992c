"""Writing clean workbooks with openpyxl's write-only mode; text that looks like a formula stays text."""
from __future__ import annotations

import io
from typing import Any, Iterable, Optional, Sequence

import openpyxl
from openpyxl.utils import get_column_letter

from ..text import clean_text as clean_control

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    """Tell whether a value is text that starts like a formula (=, +, -, @, tab, CR)."""
    return isinstance(value, str) and value.startswith(_FORMULA_START)


def put_text_safely(cell: Any, value: Any) -> Any:
    """Put a value in a cell so that text starting like a formula stays text, shown as typed.

    The cell is stored as a string marked with Excel's quote prefix (what Excel does when
    one types '=...), so "=HYPERLINK(...)" prints as typed and is never evaluated, and
    no visible apostrophe is added to the person's text. Control characters, which no
    sheet may hold, are dropped.
    """
    if isinstance(value, str):
        # A control character left in older data would make openpyxl refuse the whole sheet.
        value = clean_control(value)
    cell.value = value
    if cell.data_type == "f":
        cell.data_type = "s"
    if formula_like(value):
        cell.quotePrefix = True
    return cell


def workbook_bytes(
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    text_columns: Iterable[int] = (),
    widths: Optional[Sequence[int]] = None,
) -> bytes:
    """Write one sheet with a bold header row and return the .xlsx file as bytes.

    ``text_columns`` (0-based) are formatted as text, so Excel keeps ID numbers and
    codes with leading zeros exactly as typed. Every cell goes through put_text_safely.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    text_columns = set(text_columns)
    for index in range(len(headers)):
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = (widths[index] if widths else 14)
        if index in text_columns:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for name in headers:
        cell = put_text_safely(WriteOnlyCell(sheet), name)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            cell = put_text_safely(WriteOnlyCell(sheet), value)
            if index in text_columns:
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
