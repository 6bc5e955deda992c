"""Spreadsheet input and output: messy village sheets in, clean workbooks out.

Pure module: no Flask, no database. Reading streams (openpyxl's read-only mode for
.xlsx, csv line by line) so a large sheet never sits whole in memory; writing uses
openpyxl's write-only mode.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterable, Iterator, Mapping, Optional, Sequence, Union

import openpyxl
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from .text import clean_text as clean_control

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
# How many non-blank rows at the top may hold titles before the header row.
HEADER_SCAN_ROWS = 10
# A merged range wider than this is a decoration (a title across the page); cap the fill.
MAX_FILL_COLUMNS = 200
# Decompressed parts beyond this are a zip bomb, not a village register.
MAX_UNPACKED_BYTES = 30 * MAX_BYTES
# Excel serial numbers taken for dates in a date column: 1900-01-01 up to the year 2173.
# A cell with a date format openpyxl does not know (the Chinese built-in ones, ids
# 27-36 and 50-58, e.g. "yyyy年m月d日") arrives as such a number.
DATE_SERIALS = (1, 100_000)
SUPPORTED = (".xlsx", ".csv")

Source = Union[str, os.PathLike, bytes, BinaryIO]

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"\s+")
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[Ee][+-]?\d+$")
_MERGE_REF = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref="([A-Za-z]{1,3}\d+):([A-Za-z]{1,3}\d+)"'
)
_CELL_REF = re.compile(r"^([A-Za-z]{1,3})(\d+)$")
_DATE_TEXT = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# values_only rows give an error cell (a failed VLOOKUP) as its code; it is no value.
_ERROR_VALUES = frozenset(ERROR_CODES)


class SheetError(ValueError):
    """The file as a whole cannot be read; the message says why and what to do, in Chinese."""


class CellError(ValueError):
    """One cell holds a value that cannot be used; the message says why, in Chinese."""


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


# --- cell values -------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Fold full-width digits, letters and spaces to half-width, drop zero-width marks and control characters, strip."""
    text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    return clean_control(text).strip()


def clean_value(value: Any) -> Any:
    """Return a cell value ready for parsing: clean text, a date, a number, or None when blank."""
    if value is None:
        return None
    if isinstance(value, str):
        return clean_text(value) or None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, (dt.date, int, float)):
        return value
    if isinstance(value, (dt.time, dt.timedelta)):
        return None
    return clean_text(str(value)) or None


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
    match = re.fullmatch(r"(\d+)\s*[人口个]?", str(value))
    if not match:
        raise CellError(f"应为整数，这里是“{value}”")
    return int(match.group(1))


def to_date(value: Any) -> Optional[dt.date]:
    """Return a date from a date cell or from text: 2024-03-01 / 2024/3/1 / 2024年3月1日 / 20240301.

    Serial numbers are turned into dates by the reader, which knows the workbook's
    epoch; a number that reaches here is read as typed digits (20240301).
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
    names: list[str] = []
    for part in re.split(r"[、，,/／;；\s]+", str(value)):
        part = part.strip()
        if part and part not in names:
            names.append(part)
    return names


def header_key(text_value: Any) -> str:
    """Reduce a header cell to the form aliases are compared in: 身份证号（18位）* -> 身份证号."""
    if text_value is None:
        return ""
    key = clean_text(str(text_value))
    key = _BRACKETED.sub("", key)
    return _SPACES.sub("", key).strip("*:：")


# --- reading -----------------------------------------------------------------------


class SpreadsheetReader:
    """Read the tables of an .xlsx or .csv file, one header row per sheet.

    ``aliases`` maps each field to the header names it may appear under; the header row
    is the row among the first non-blank rows that names the most fields and includes
    every ``required`` field. Sheets without such a row (a notes sheet) are skipped.
    In the ``dates`` fields of an .xlsx, a number that can be an Excel serial date
    (DATE_SERIALS) is given as that date. Use as a context manager so the file is closed.
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
        self.extension = os.path.splitext(self.filename.lower())[1]
        self.required = tuple(required)
        self.dates = tuple(dates)
        self.max_rows = max_rows
        self.rows_read = 0
        self.sheet_names: list[str] = []
        # Sheets where a header row was found, in reading order.
        self.table_sheets: list[str] = []
        self._lookup = {header_key(alias): name for name, names in aliases.items() for alias in names}
        self._aliases = aliases
        self._owned: Optional[BinaryIO] = None
        self._archive: Optional[zipfile.ZipFile] = None
        self._book: Optional[openpyxl.Workbook] = None
        self._epoch = WINDOWS_EPOCH
        self._stream = self._open(source)
        try:
            self._check_size(max_bytes)
            if self.extension == ".xlsx":
                self._open_xlsx()
            else:
                self.sheet_names = [os.path.splitext(os.path.basename(self.filename))[0] or "CSV"]
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "SpreadsheetReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the workbook and any file this reader opened."""
        if self._book is not None:
            self._book.close()
            self._book = None
        if self._archive is not None:
            self._archive.close()
            self._archive = None
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def tables(self) -> Iterator[Table]:
        """Yield each sheet's table; consume one table's rows before asking for the next."""
        found = False
        if self.extension == ".xlsx":
            sources = ((sheet.title, self._xlsx_rows(sheet)) for sheet in self._book.worksheets)
        else:
            sources = iter([(self.sheet_names[0], self._csv_rows())])
        for title, raw_rows in sources:
            table = self._table(title, raw_rows)
            if table is not None:
                found = True
                self.table_sheets.append(title)
                yield table
        if not found:
            wanted = "、".join(
                f"“{self._aliases[name][0]}”（或 {'/'.join(self._aliases[name][1:])}）"
                if len(self._aliases[name]) > 1 else f"“{self._aliases[name][0]}”"
                for name in self.required
            )
            raise SheetError(
                f"没有找到表头：文件前{HEADER_SCAN_ROWS}行里没有包含{wanted}的一行。"
                "请用导入模板，或把表头改成模板里的列名"
            )

    # -- opening and limits --

    def _open(self, source: Source) -> BinaryIO:
        if self.extension == ".xls":
            raise SheetError("不支持旧版 .xls 文件，请在 Excel 或 WPS 中“另存为” .xlsx 后再导入")
        if self.extension not in SUPPORTED:
            raise SheetError("只能导入 .xlsx 或 .csv 文件")
        if isinstance(source, (bytes, bytearray)):
            return io.BytesIO(source)
        if isinstance(source, (str, os.PathLike)):
            self._owned = open(source, "rb")
            return self._owned
        return source

    def _check_size(self, max_bytes: int) -> None:
        stream = self._stream
        start = stream.tell()
        stream.seek(0, io.SEEK_END)
        size = stream.tell() - start
        stream.seek(start)
        if size > max_bytes:
            raise SheetError(
                f"文件有 {size / 1024 / 1024:.1f} MB，超过了 {max_bytes // 1024 // 1024} MB 的上限，请拆分后分批导入"
            )
        if size == 0:
            raise SheetError("文件是空的")

    def _count_row(self) -> None:
        self.rows_read += 1
        if self.rows_read > self.max_rows:
            raise SheetError(f"文件超过 {self.max_rows:,} 行数据的上限，请拆分后分批导入")

    # -- xlsx --

    def _open_xlsx(self) -> None:
        try:
            # The declared sizes bind: zipfile stops a member at its declared size.
            self._archive = zipfile.ZipFile(self._stream)
            unpacked = sum(info.file_size for info in self._archive.infolist())
            if unpacked > MAX_UNPACKED_BYTES:
                raise SheetError("文件解压后过大，不像是农户名册，请检查文件")
            with warnings.catch_warnings():
                # openpyxl warns about parts it drops (a missing default style, print
                # areas); the cell values, all we read, are unaffected.
                warnings.simplefilter("ignore", UserWarning)
                self._book = openpyxl.load_workbook(self._stream, read_only=True, data_only=True)
            self._epoch = self._book.epoch
        except SheetError:
            raise
        except Exception as exc:  # zipfile, the XML parser and openpyxl raise many kinds on a broken file
            raise SheetError(
                "无法读取这个 .xlsx 文件，文件可能已损坏，或不是 Excel 文件。请用 Excel 或 WPS 打开后重新保存"
            ) from exc
        self.sheet_names = [sheet.title for sheet in self._book.worksheets]

    def _xlsx_rows(self, sheet: ReadOnlyWorksheet) -> Iterator[tuple[int, list[Any], list[Any]]]:
        # Read-only mode does not expose merged ranges: scan the sheet's own part for
        # them. _worksheet_path is that part's name in openpyxl 3.1 (pinned in setup.cfg).
        merges = _read_merges(self._archive, sheet._worksheet_path)
        starts: dict[int, list[tuple[int, int, int, int]]] = {}
        for merge in merges:
            starts.setdefault(merge[0], []).append(merge)
        active: list[tuple[tuple[int, int, int, int], Any]] = []
        # The <dimension> a sheet declares is not checked by openpyxl; one that
        # understates the sheet would cut rows and columns off.
        sheet.reset_dimensions()
        try:
            # From row 1, with a blank row for every row the file leaves out, so
            # counting gives the row numbers Excel shows.
            for number, raw in enumerate(_quietly(sheet.iter_rows(min_row=1, values_only=True)), start=1):
                own = [None if v in _ERROR_VALUES else clean_value(v) for v in raw]
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
        except SheetError:
            raise
        except Exception as exc:  # a damaged part fails only when its rows are read
            raise SheetError("这个 .xlsx 文件的内容有损坏，请用 Excel 或 WPS 打开后重新保存") from exc

    # -- csv --

    def _csv_rows(self) -> Iterator[tuple[int, list[Any], list[Any]]]:
        encoding = _csv_encoding(self._stream)
        wrapper = io.TextIOWrapper(self._stream, encoding=encoding, newline="")
        try:
            # Some office software saves "CSV" with tabs; the opening lines tell which.
            sample = wrapper.read(8192)
            delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
            wrapper.seek(0)
            reader = csv.reader(wrapper, delimiter=delimiter)
            for number, raw in enumerate(reader, start=1):
                own = [clean_value(v) for v in raw]
                yield number, own, own
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SheetError(f"CSV 文件格式有误：{exc}") from exc
        finally:
            wrapper.detach()

    # -- header and rows --

    def _table(self, title: str, raw_rows: Iterator[tuple[int, list[Any], list[Any]]]) -> Optional[Table]:
        scanned: list[tuple[int, list[Any], list[Any]]] = []
        best: Optional[tuple[int, int, dict[str, int]]] = None
        for number, own, values in raw_rows:
            if not any(v is not None for v in own):
                continue
            scanned.append((number, own, values))
            columns = self._match_header(values)
            if all(name in columns for name in self.required):
                count = len(columns)
                if best is None or count > best[1]:
                    best = (number, count, columns)
            if len(scanned) >= HEADER_SCAN_ROWS:
                break
        if best is None:
            raw_rows.close()
            return None
        header_row, _count, positions = best
        header_values = next(v for n, _own, v in scanned if n == header_row)
        headers = {name: _SPACES.sub("", header_values[i]) for name, i in positions.items()}
        pending = [item for item in scanned if item[0] > header_row]
        return Table(
            sheet=title,
            header_row=header_row,
            columns=headers,
            rows=self._data_rows(title, positions, headers, pending, raw_rows),
        )

    def _match_header(self, values: list[Any]) -> dict[str, int]:
        columns: dict[str, int] = {}
        for index, value in enumerate(values):
            if not isinstance(value, str):
                continue
            name = self._lookup.get(header_key(value))
            if name is not None and name not in columns:
                columns[name] = index
        return columns

    def _data_rows(
        self,
        title: str,
        positions: dict[str, int],
        headers: dict[str, str],
        pending: list[tuple[int, list[Any], list[Any]]],
        raw_rows: Iterator[tuple[int, list[Any], list[Any]]],
    ) -> Iterator[Row]:
        header_keys = {name: header_key(text) for name, text in headers.items()}
        date_fields = [name for name in self.dates if name in positions]
        low, high = DATE_SERIALS

        def own_rows() -> Iterator[tuple[int, list[Any], list[Any]]]:
            yield from pending
            yield from raw_rows

        for number, own, values in own_rows():
            # Merged cells are filled in `values`; a row is blank when the clerk typed nothing in it.
            if not any(own[i] is not None for i in positions.values() if i < len(own)):
                continue
            row = {name: (values[i] if i < len(values) else None) for name, i in positions.items()}
            # Printed registers repeat the header on every page.
            if all(header_key(row[name]) == key for name, key in header_keys.items() if row[name] is not None):
                continue
            for name in date_fields:
                value = row[name]
                if type(value) in (int, float) and low <= value < high:
                    row[name] = from_excel(value, self._epoch).date()
            self._count_row()
            yield Row(title, number, row)


def _quietly(rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """Yield openpyxl's rows with its UserWarnings silenced, one row at a time.

    Parsing a sheet warns about parts openpyxl drops, such as the <extLst> where
    Excel keeps drop-down lists that refer to another sheet; they do not touch cell
    values. The filter is set around each step only, never while our code runs.
    """
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            row = next(rows, None)
        if row is None:
            return
        yield row


def _read_merges(archive: zipfile.ZipFile, part: str) -> list[tuple[int, int, int, int]]:
    """Return the merged ranges of a sheet as (top, left, bottom, right), 1-based.

    openpyxl's read-only mode does not expose merged cells. The <mergeCell> elements
    follow the cell data, so the part is scanned in chunks with a pattern; this reads
    the sheet once more but never holds it whole, and is far faster than parsing XML.
    """
    merges: list[tuple[int, int, int, int]] = []
    try:
        stream = archive.open(part)
    except KeyError:
        return merges

    def collect(data: bytes) -> None:
        for match in _MERGE_REF.finditer(data):
            top, left = _cell_position(match.group(1))
            bottom, right = _cell_position(match.group(2))
            if (top, left) != (bottom, right):
                merges.append((top, left, bottom, min(right, left + MAX_FILL_COLUMNS)))

    with stream:
        carry = b""
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            data = carry + chunk
            # Keep the last (possibly cut) tag for the next round so no element is split.
            cut = data.rfind(b"<")
            if cut <= 0:
                collect(data)
                carry = b""
            else:
                collect(data[:cut])
                carry = data[cut:]
        collect(carry)
    return merges


def _cell_position(ref: bytes) -> tuple[int, int]:
    match = _CELL_REF.match(ref.decode("ascii"))
    return int(match.group(2)), column_index_from_string(match.group(1).upper())


def _csv_encoding(stream: BinaryIO) -> str:
    """Return "utf-8-sig" when the whole file decodes as UTF-8, else "gb18030" (GBK's superset).

    Chinese office software saves CSV in GBK; the check decodes chunk by chunk and
    keeps nothing, so the file is never held whole.
    """
    start = stream.tell()
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoding = "utf-8-sig"
    try:
        while True:
            chunk = stream.read(1 << 16)
            if not chunk:
                decoder.decode(b"", final=True)
                break
            decoder.decode(chunk)
    except UnicodeDecodeError:
        encoding = "gb18030"
    stream.seek(start)
    return encoding


# --- writing -----------------------------------------------------------------------


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
