"""Opening a file of a format: .xlsx, .xls and .ods with calamine, .csv line by line.

Each book yields its sheets as (title, raw rows); a raw row is (number as Excel shows
it, the cells as typed, the cells with merged ranges filled in). Cells come as the
reader gives them ("" when blank); the header finder and the reader clean the ones
they use (cells.clean_value), so unused columns cost nothing.
The guard's checks run before calamine reads anything.
"""
from __future__ import annotations

import csv
import io
import os
import zipfile
from typing import Any, BinaryIO, Iterator, Union

import python_calamine

from . import guard
from .guard import Limits, SheetError

SUPPORTED = (".xlsx", ".xls", ".ods", ".csv")
# A merged range wider than this is a decoration (a title across the page); cap the fill.
MAX_FILL_COLUMNS = 200

Source = Union[str, os.PathLike, bytes, BinaryIO]
RawRow = tuple[int, list[Any], list[Any]]
Merge = tuple[int, int, int, int]  # top, left, bottom, right; 1-based


def open_book(source: Source, filename: str, limits: Limits) -> "Book":
    """Open a file by its extension, after checking its size; raise SheetError in Chinese."""
    extension = os.path.splitext((filename or "").lower())[1]
    if extension not in SUPPORTED:
        raise SheetError("只能导入 .xlsx、.xls、.ods 或 .csv 文件")
    data = _read_bytes(source, limits.max_bytes)
    if extension == ".csv":
        return CsvBook(data, filename, limits)
    return CalamineBook(data, extension, limits)


def _read_bytes(source: Source, max_bytes: int) -> bytes:
    """Read at most max_bytes + 1 bytes of the source, refusing a file over the limit."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            data = stream.read(max_bytes + 1)
    else:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SheetError(
            f"文件超过了 {max_bytes // 1024 // 1024} MB 的上限，请拆分后分批导入"
        )
    if not data:
        raise SheetError("文件是空的")
    return data


class Book:
    """A spreadsheet file opened for reading: its sheets, one after the other."""

    # Numbers in date columns are Excel serial dates (not in a CSV, where they are typed digits).
    serial_dates = True

    def sheets(self) -> Iterator[tuple[str, Iterator[RawRow]]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the book holds."""


class CalamineBook(Book):
    """An .xlsx, .xls or .ods workbook read by calamine, checked by the guard first."""

    def __init__(self, data: bytes, extension: str, limits: Limits) -> None:
        self.limits = limits
        self._ods_merges: dict[str, list[Merge]] = {}
        kind = guard.sniff(data[:8])
        label = extension.lstrip(".")
        damaged = SheetError(
            f"无法读取这个 .{label} 文件，文件可能已损坏，或不是电子表格文件。请用 Excel 或 WPS 打开后重新保存"
        )
        if kind == "ole":
            guard.check_xls(data, limits)
        elif kind == "zip":
            try:
                archive = zipfile.ZipFile(io.BytesIO(data))
                with archive:
                    if "content.xml" in archive.namelist():
                        self._ods_merges = guard.check_ods(archive, limits)
                    else:
                        guard.check_xlsx(archive, limits)
            except SheetError:
                raise
            except Exception as exc:  # zipfile, zlib and the XML parser raise many kinds
                raise damaged from exc
        else:
            raise damaged
        try:
            self._book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception as exc:  # calamine raises its own kinds on a broken file
            raise damaged from exc
        self._damaged = damaged

    def sheets(self) -> Iterator[tuple[str, Iterator[RawRow]]]:
        for meta in self._book.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = self._book.get_sheet_by_name(meta.name)
            except Exception as exc:  # a damaged part fails only when its sheet is read
                raise SheetError(f"工作表“{meta.name}”的内容有损坏，请用 Excel 或 WPS 打开后重新保存") from exc
            merges = self._merges(sheet, meta.name)
            yield meta.name, _filled(self._rows(sheet), merges)

    def _merges(self, sheet, name: str) -> list[Merge]:
        if name in self._ods_merges:
            found = self._ods_merges[name]
        else:
            found = [
                (top + 1, left + 1, bottom + 1, right + 1)
                for (top, left), (bottom, right) in (sheet.merged_cell_ranges or ())
            ]
        return [
            (top, left, bottom, min(right, left + MAX_FILL_COLUMNS))
            for top, left, bottom, right in found if (top, left) != (bottom, right)
        ]

    def _rows(self, sheet) -> Iterator[list[Any]]:
        # calamine's rows start at row 1 (blank rows above the data included), so counting
        # gives the row numbers Excel shows; its columns start at the first one used.
        first_col = (sheet.start or (0, 0))[1]
        pad = [None] * first_col
        width = self.limits.max_columns
        for raw in sheet.iter_rows():
            cells = raw[:width] if len(raw) > width else raw
            yield pad + cells if first_col else cells

    def close(self) -> None:
        book, self._book = getattr(self, "_book", None), None
        if book is not None:
            book.close()


def _filled(rows: Iterator[list[Any]], merges: list[Merge]) -> Iterator[RawRow]:
    """Number the rows from 1 and copy each merged range's value into all its cells."""
    starts: dict[int, list[Merge]] = {}
    for merge in merges:
        starts.setdefault(merge[0], []).append(merge)
    active: list[tuple[Merge, Any]] = []
    for number, own in enumerate(rows, start=1):
        values = own
        if starts or active:
            values = list(own)
            for merge in starts.pop(number, ()):
                top_left = own[merge[1] - 1] if merge[1] <= len(own) else None
                active.append((merge, top_left))
            for (top, left, bottom, right), value in active:
                if len(values) < right:
                    values.extend([None] * (right - len(values)))
                for col in range(left, right + 1):
                    if number != top or col != left:
                        values[col - 1] = value
            active = [item for item in active if item[0][2] > number]
        yield number, own, values


class CsvBook(Book):
    """A CSV file in UTF-8 (with or without BOM) or GBK/GB18030, comma or tab separated."""

    serial_dates = False

    def __init__(self, data: bytes, filename: str, limits: Limits) -> None:
        self.data = data
        self.limits = limits
        self.title = os.path.splitext(os.path.basename(filename))[0] or "CSV"

    def sheets(self) -> Iterator[tuple[str, Iterator[RawRow]]]:
        yield self.title, self._rows()

    def _rows(self) -> Iterator[RawRow]:
        text = _decode(self.data)
        # Some office software saves "CSV" with tabs; the opening lines tell which.
        sample = text[:8192]
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        width = self.limits.max_columns
        try:
            for number, raw in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
                own = raw[:width] if len(raw) > width else raw
                yield number, own, own
        except csv.Error as exc:
            raise SheetError(f"CSV 文件格式有误：{exc}") from exc


def _decode(data: bytes) -> str:
    """Decode as UTF-8 (dropping a BOM) when the whole file is UTF-8, else as GB18030 (GBK's superset)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise SheetError("CSV 文件的编码无法识别，请在 WPS 或 Excel 中另存为“CSV UTF-8”后再导入") from exc
