"""Spreadsheet input and output: messy village sheets in, clean workbooks out.

Pure package: no Flask, no database. Reading opens .xlsx, .xls and .ods with calamine
(after the guard's checks) and .csv line by line (formats), finds each sheet's header
(header) and cleans every cell (cells); writing uses openpyxl's write-only mode (writing).
"""
from .cells import (
    DATE_SERIALS, CellError, clean_text, clean_value, compact, header_key, id_text, serial_date, split_list, text,
    to_date, to_int,
)
from .formats import SUPPORTED, Source
from .guard import COLUMN_MARGIN, MAX_UNPACKED_BYTES, ROW_MARGIN, Limits, SheetError
from .header import HEADER_SCAN_ROWS, HeaderFinder
from .reader import MAX_BYTES, MAX_ROWS, Row, SpreadsheetReader, Table
from .writing import formula_like, put_text_safely, workbook_bytes

__all__ = [
    "CellError", "COLUMN_MARGIN", "DATE_SERIALS", "HEADER_SCAN_ROWS", "HeaderFinder", "Limits", "MAX_BYTES",
    "MAX_ROWS", "MAX_UNPACKED_BYTES", "ROW_MARGIN", "Row", "SUPPORTED", "SheetError", "Source",
    "SpreadsheetReader", "Table", "clean_text", "clean_value", "compact", "formula_like", "header_key", "id_text",
    "put_text_safely", "serial_date", "split_list", "text", "to_date", "to_int", "workbook_bytes",
]
