"""How every export prints: one place for page setup, fonts, borders and safe cells.

A4, landscape where the table is wide, fitted to one page wide, the title and header
rows repeated on every page, "第 &P 页 共 &N 页" in the footer, the header frozen, a
CJK font, borders, and column widths that fit Chinese names. Sheets are openpyxl
write-only (streaming) worksheets, so everything that goes at the top of the sheet
file (column widths, frozen panes) is set before the first row is written.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterable, Iterator, Optional, Sequence

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.dimensions import RowDimension
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties

from .. import sheets

PAPER_A4 = 9
FOOTER = "第 &P 页 共 &N 页"
# 宋体 and 黑体 are on every Chinese Windows and in WPS; LibreOffice falls back to the
# installed CJK font (Noto CJK) for them. charset 134 is GB2312, which tells Excel the
# font's script even where the font itself is missing.
BODY_FONT = "宋体"
TITLE_FONT = "黑体"
GB2312 = 134
RED = "B22222"
DEFAULT_SIZE = 11
# Points of row height per point of type, for one line of Chinese text.
LINE_HEIGHT = 1.45
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
MAX_SHEET_TITLE = 31
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class Column:
    """One table column: its header, width (Excel units) and kind.

    Kinds: ``text`` (stored as text, so codes keep leading zeros), ``name`` (text,
    centred), ``number``, ``date``, ``wrap`` (long text that wraps within the width).
    """

    header: str
    width: float
    kind: str = "text"


def text_width(value: Any) -> int:
    """Count the columns a value takes: a Chinese character is as wide as two digits."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit_width(header: str, values: Iterable[Any], minimum: float = 6, maximum: float = 40) -> float:
    """Return a column width that fits the header and the widest value, within bounds."""
    widest = max((text_width(v) for v in values), default=0)
    return max(minimum, min(maximum, max(widest, text_width(header)) + 2))


def sheet_title(name: str, taken: set[str]) -> str:
    """Return a valid, unused sheet name made from a group's name."""
    base = _SHEET_TITLE_BAD.sub("_", name or "").strip("' ") or "表"
    base = base[:MAX_SHEET_TITLE]
    title, n = base, 2
    while title.lower() in taken:
        suffix = f"({n})"
        title = base[: MAX_SHEET_TITLE - len(suffix)] + suffix
        n += 1
    taken.add(title.lower())
    return title


def new_workbook(title: str) -> openpyxl.Workbook:
    """Start a streaming workbook."""
    workbook = openpyxl.Workbook(write_only=True)
    workbook.properties.title = title
    workbook.properties.creator = "村级积分制管理"
    return workbook


def save(workbook: openpyxl.Workbook, out: BinaryIO) -> None:
    """Write the workbook to a binary stream."""
    workbook.save(out)


class PrintedSheet:
    """A worksheet laid out for printing: title, subtitle lines, a bordered table, a foot.

    Rows 1 to the header row repeat on every printed page and stay frozen on screen.
    Every string is written as text, never as a formula (see ``_fill``).
    """

    def __init__(
        self,
        workbook: openpyxl.Workbook,
        name: str,
        columns: Sequence[Column],
        title: str,
        subtitles: Sequence[str] = (),
        *,
        landscape: bool = False,
        size: float = DEFAULT_SIZE,
        title_size: float = 18,
        header_left: str = "",
        header_right: str = "",
    ) -> None:
        self.ws = workbook.create_sheet(name)
        # openpyxl tries each appended value as a plain value first and takes a Cell only
        # after that raises (formatting the cell's repr for the message); every value
        # here is a Cell already, so rows go straight to the writer.
        self.ws._values_to_row = _cells_to_row
        self.columns = list(columns)
        self.size = size
        self.rows = 0
        self.last_column = get_column_letter(len(self.columns))
        self._widths = [c.width for c in self.columns]
        self._table_width = sum(self._widths)
        self.header_row = 2 + len(subtitles)
        self._page_setup(landscape, header_left, header_right)
        self._styles = self._make_styles(title_size)
        self.note(title, style="title", height=self._height([(title, self._table_width)], title_size))
        for line in subtitles:
            self.note(line, style="subtitle")
        self._append([self._cell(c.header, self._styles["header"]) for c in self.columns],
                     self._height(zip((c.header for c in self.columns), self._widths)))

    # -- setup -------------------------------------------------------------------

    def _page_setup(self, landscape: bool, header_left: str, header_right: str) -> None:
        ws = self.ws
        for index, column in enumerate(self.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        ws.page_setup.paperSize = PAPER_A4
        ws.page_setup.orientation = "landscape" if landscape else "portrait"
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        # One page wide, as many pages tall as the rows need (0 = no limit).
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.7, header=0.3, footer=0.3)
        ws.print_options.horizontalCentered = True
        ws.print_title_rows = f"1:{self.header_row}"
        ws.freeze_panes = f"A{self.header_row + 1}"
        for part, text in ((ws.oddFooter.center, FOOTER), (ws.oddHeader.left, header_left),
                           (ws.oddHeader.right, header_right)):
            if text:
                part.text = text
                part.size = 10
                part.font = f"{BODY_FONT},Regular"

    def _make_styles(self, title_size: float) -> dict:
        """Build each style once; table rows reuse one cell per column, which keeps 100,000 rows fast."""

        def style(**attrs) -> Cell:
            proto = Cell(self.ws, row=1, column=1)
            for key, value in attrs.items():
                setattr(proto, key, value)
            return proto._style

        body = Font(name=BODY_FONT, charset=GB2312, size=self.size)
        styles = {
            "title": style(font=Font(name=TITLE_FONT, charset=GB2312, size=title_size, bold=True),
                           alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
            "subtitle": style(font=body, alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
            "note": style(font=body, alignment=Alignment(horizontal="left", vertical="center", wrap_text=True)),
            "right": style(font=body, alignment=Alignment(horizontal="right", vertical="center")),
            "header": style(font=Font(name=BODY_FONT, charset=GB2312, size=self.size, bold=True), border=_BORDER,
                            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
        }
        kinds = {
            "text": dict(number_format=TEXT_FORMAT, alignment=Alignment(horizontal="left", vertical="center")),
            "name": dict(number_format=TEXT_FORMAT,
                         alignment=Alignment(horizontal="center", vertical="center", wrap_text=True)),
            "number": dict(alignment=Alignment(horizontal="center", vertical="center")),
            "date": dict(number_format=DATE_FORMAT, alignment=Alignment(horizontal="center", vertical="center")),
            "wrap": dict(number_format=TEXT_FORMAT,
                         alignment=Alignment(horizontal="left", vertical="center", wrap_text=True)),
        }
        column_styles = [style(font=body, border=_BORDER, **kinds[c.kind]) for c in self.columns]
        # One reusable cell per column for plain values and one for text that must be
        # escaped: the writer serialises each cell before the next row refills it.
        self._plain = [Cell(self.ws, row=1, column=i, style_array=s) for i, s in enumerate(column_styles, 1)]
        self._escaped = []
        for i, s in enumerate(column_styles, 1):
            cell = Cell(self.ws, row=1, column=i, style_array=s)
            cell.quotePrefix = True
            self._escaped.append(cell)
        return styles

    def heading(self, text: str, size: float, color: Optional[str] = None) -> None:
        """Write a section heading (光荣榜, 臊皮榜) across the table in large type."""
        proto = Cell(self.ws, row=1, column=1)
        proto.font = Font(name=TITLE_FONT, charset=GB2312, size=size, bold=True, color=color)
        proto.alignment = Alignment(horizontal="center", vertical="center")
        self._styles[text] = proto._style
        self.note(text, style=text, height=self._height([(text, self._table_width)], size))

    # -- cells and rows ----------------------------------------------------------

    def _cell(self, value: Any, style) -> Cell:
        cell = Cell(self.ws, row=1, column=1, style_array=style)
        if sheets.formula_like(value):
            cell.quotePrefix = True
        return _fill(cell, value)

    def _append(self, cells: list, height: Optional[float] = None) -> int:
        self.rows += 1
        if height:
            self.ws.row_dimensions[self.rows] = RowDimension(self.ws, index=self.rows, ht=height, customHeight=True)
        self.ws.append(cells)
        return self.rows

    def _height(self, texts: Iterable[tuple[Any, float]], size: Optional[float] = None) -> Optional[float]:
        """Return the row height wrapped text needs, or None when the default height does.

        Neither Excel nor LibreOffice grows a row for large type or for wrapped text in
        merged cells when opening a file, so the height is worked out here: the lines a
        text needs in its column width, a column unit being about half a Chinese
        character at 11 pt.
        """
        size = size or self.size
        scale = size / DEFAULT_SIZE
        lines = 1
        for value, width in texts:
            # len * 2 bounds the width from above; most cells fit and skip the exact count.
            if isinstance(value, str) and len(value) * 2 * scale > width - 1:
                needed = len(value) if value.isascii() else text_width(value)
                lines = max(lines, math.ceil(needed * scale / max(width - 1, 1)))
        if lines == 1 and size <= DEFAULT_SIZE:
            return None
        return round(lines * size * LINE_HEIGHT + 4, 1)

    def row(self, values: Sequence[Any]) -> None:
        """Write one bordered table row; strings are always text."""
        height = self._height(zip(values, self._widths))
        cells = [
            _fill(escaped if sheets.formula_like(value) else plain, value)
            for value, plain, escaped in zip(values, self._plain, self._escaped)
        ]
        self._append(cells, height)

    def note(self, text: str, *, style: str = "note", height: Optional[float] = None) -> int:
        """Write one line merged across the table (a title, a heading, a sentence at the foot)."""
        if height is None:
            height = self._height([(text, self._table_width)])
        row = self._append([self._cell(text, self._styles[style])], height)
        if len(self.columns) > 1:
            self.ws.merged_cells.add(f"A{row}:{self.last_column}{row}")
        return row

    def blank(self) -> None:
        """Leave an empty line."""
        self._append([])

    def page_break(self) -> None:
        """Start the next rows on a new printed page."""
        self.ws.row_breaks.append(Break(id=self.rows))

    def signature(self, signer: str, date_text: str) -> None:
        """Write the foot: who signs (the points committee) and the date, on the right."""
        self.blank()
        self.note(f"{signer}（盖章）", style="right", height=self.size * 2)
        self.note(date_text, style="right", height=self.size * 2)


def _fill(cell: Cell, value: Any) -> Cell:
    """Put a value in a cell; text that starts like a formula stays text."""
    if isinstance(value, dt.datetime):
        value = value.replace(microsecond=0)
    return sheets.put_text_safely(cell, value)


def _cells_to_row(cells: Sequence[Cell], row_idx: int) -> Iterator[Cell]:
    """Number a row's cells for the write-only sheet's writer (openpyxl's _values_to_row)."""
    for column, cell in enumerate(cells, start=1):
        cell.row = row_idx
        cell.column = column
        yield cell


def chinese_date(day: Optional[dt.date]) -> str:
    """Write a date as notices do: 2026年7月1日; a blank date leaves room to write it by hand."""
    if day is None:
        return "      年    月    日"
    return f"{day.year}年{day.month}月{day.day}日"
