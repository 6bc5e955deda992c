"""Reading the tables of a spreadsheet: open the format, find each header, yield clean rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import repeat
from operator import is_not
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from .cells import ERROR_VALUES, clean_value, header_key, serial_date
from .formats import Book, RawRow, Source, open_book
from .guard import COLUMN_MARGIN, Limits, SheetError
from .header import HEADER_SCAN_ROWS, Header, HeaderFinder

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
# Compared with a row's values in C: a generator per row was a tenth of reading a sheet.
_NONES = repeat(None)


@dataclass(slots=True)
class Row:
    """One data row: its sheet, its row number as Excel shows it, and its values by field."""

    sheet: str
    number: int
    values: dict[str, Any]


@dataclass
class Table:
    """The data under one header row of one sheet."""

    sheet: str
    header_row: int
    # field -> the header text as written in the sheet, for messages
    columns: dict[str, str]
    rows: Iterator[Row] = field(repr=False)
    # Headers of the columns no field was read from, as written.
    unused: list[str] = field(default_factory=list)


class SpreadsheetReader:
    """Read the tables of an .xlsx, .xls, .ods or .csv file, one header row per sheet.

    Sheets without a header row (a notes sheet) are skipped. In the ``dates`` fields of
    a workbook, a number that can be an Excel serial date is given as that date. At most
    ``max_rows`` data rows and the fields' columns plus a margin are read. Use as a
    context manager so the file is released.
    """

    def __init__(
        self,
        source: Source,
        filename: str,
        aliases: Mapping[str, Sequence[str]],
        *,
        required: Sequence[str] = (),
        dates: Sequence[str] = (),
        max_bytes: int = MAX_BYTES,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.filename = filename or ""
        self.dates = tuple(dates)
        self.limits = Limits(max_bytes, max_rows, len(aliases) + COLUMN_MARGIN)
        self.finder = HeaderFinder(aliases, required)
        self.rows_read = 0
        # Sheets where a header row was found, in reading order.
        self.table_sheets: list[str] = []
        self._book: Optional[Book] = open_book(source, self.filename, self.limits)

    def __enter__(self) -> "SpreadsheetReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the workbook."""
        if self._book is not None:
            self._book.close()
            self._book = None

    def tables(self) -> Iterator[Table]:
        """Yield each sheet's table; consume one table's rows before asking for the next."""
        found = False
        for title, raw_rows in self._book.sheets():
            header, pending = self.finder.find(raw_rows)
            if header is None:
                continue
            found = True
            self.table_sheets.append(title)
            yield Table(
                sheet=title, header_row=header.row, columns=header.columns,
                rows=self._data_rows(title, header, pending, raw_rows), unused=header.unused,
            )
        if not found:
            raise SheetError(
                f"没有找到表头：文件前{HEADER_SCAN_ROWS}行里没有包含{self.finder.wanted()}的一行。"
                "请用导入模板，或把表头改成模板里的列名"
            )

    def _data_rows(
        self, title: str, header: Header, pending: list[RawRow], raw_rows: Iterator[RawRow]
    ) -> Iterator[Row]:
        positions = header.positions
        items = list(positions.items())
        indexes = list(positions.values())
        header_keys = [(name, header_key(text)) for name, text in header.columns.items()]
        date_fields = [name for name in self.dates if name in positions] if self._book.serial_dates else []
        clean = _remembering_clean()

        def all_rows() -> Iterator[RawRow]:
            yield from pending
            yield from raw_rows

        def repeats_header(row: dict[str, Any]) -> bool:
            # Printed registers repeat the header on every page. A header is text in
            # Chinese, so a number, a date or a plain-ASCII cell (a code) is none.
            for name, key in header_keys:
                value = row[name]
                if value is None:
                    continue
                if type(value) is not str or (value.isascii() and not key.isascii()) or header_key(value) != key:
                    return False
            return True

        for number, own, values in all_rows():
            width = len(values)
            row = {name: (clean(values[i]) if i < width else None) for name, i in items}
            # Merged cells are filled in `values`; a row is blank when the clerk typed nothing in it.
            if own is values:
                if not any(map(is_not, row.values(), _NONES)):
                    continue
            else:
                size = len(own)
                if not any(clean(own[i]) is not None for i in indexes if i < size):
                    continue
            if repeats_header(row):
                continue
            for name in date_fields:
                row[name] = serial_date(row[name])
            self.rows_read += 1
            if self.rows_read > self.limits.max_rows:
                raise SheetError(f"文件超过 {self.limits.max_rows:,} 行数据的上限，请拆分后分批导入")
            yield Row(title, number, row)


def _remembering_clean(size: int = 20_000) -> Callable[[Any], Any]:
    """Return clean_value, remembering what each short text cleaned to: a sheet repeats its
    names, groups and rule titles on row after row. At most ``size`` texts are remembered.
    A closure, not an object with __call__: it runs once per cell."""
    known: dict[str, Any] = {}
    missing = object()

    def clean(value: Any) -> Any:
        if type(value) is not str or len(value) > 40:
            return clean_value(value)
        if value.isascii():  # clean_value's own first case, without the call
            value = value.strip()
            return value if value and value not in ERROR_VALUES else None
        found = known.get(value, missing)
        if found is missing:
            found = clean_value(value)
            if len(known) < size:
                known[value] = found
        return found

    return clean
