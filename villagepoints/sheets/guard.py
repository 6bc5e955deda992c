"""Checks made before a workbook is read, so a small file can never blow a worker up.

The Rust reader builds a sheet as one dense grid from its first to its last cell, so
one cell in column XFD on row 200,000 asks for billions of cells; a zip part can also
unpack to hundreds of megabytes. Each check here reads the file in bounded chunks
(zipfile stops a member at its declared size and checks its CRC) and refuses it in
Chinese before the reader allocates anything. The checks also return the merged
ranges of .ods sheets, which the reader does not report.
"""
from __future__ import annotations

import re
import struct
import zipfile
from dataclasses import dataclass
from typing import Optional
from xml.etree import ElementTree


class SheetError(ValueError):
    """The file as a whole cannot be read; the message says why and what to do, in Chinese."""


# Declared unpacked sizes: a 100,000-row register is about 40 MB of sheet XML.
MAX_PART_BYTES = 64 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
# Rows above the data (titles, blank rows, repeated headers) allowed beyond the row limit.
ROW_MARGIN = 1_000
# Columns allowed beyond the import template's own.
COLUMN_MARGIN = 30
_CHUNK = 1 << 20

# Cell references that may lie beyond the limits: two or three column letters, or a row
# number of six digits or more. Both start with the literal r=", which the pattern engine
# searches for quickly; a 10-column register has no match at all.
_FAR_COLUMN = re.compile(rb'r="\$?([A-Za-z]{2,3})\$?(\d+)"')
_FAR_ROW = re.compile(rb'r="\$?([A-Za-z]{1,3})\$?(\d{6,})"')


@dataclass(frozen=True)
class Limits:
    """How much of a file the imports read: bytes, data rows and columns."""

    max_bytes: int
    max_rows: int
    max_columns: int

    @property
    def max_sheet_rows(self) -> int:
        return self.max_rows + ROW_MARGIN


def column_letters(index: int) -> str:
    """Return the column's letters as Excel shows them: 1 -> A, 16384 -> XFD."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """Return the column's number from its letters: A -> 1, XFD -> 16384."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index


def refuse_extent(sheet: str, row: int, column: int, limits: Limits) -> None:
    """Refuse a sheet with a value in a cell beyond the limits, naming the cell."""
    raise SheetError(
        f"工作表“{sheet}”的 {column_letters(column)}{row} 单元格还有内容，超出了导入能读取的范围"
        f"（最多 {limits.max_columns} 列、{limits.max_sheet_rows:,} 行）。"
        "请删除表格右边或下面多余的内容后重新保存，或拆分后分批导入"
    )


def _too_big() -> SheetError:
    return SheetError("文件解压后过大（可能是被恶意构造的文件），不像是农户名册或积分表，没有读取。请检查文件")


def check_zip_sizes(archive: zipfile.ZipFile, shared: str = "sharedstrings.xml") -> None:
    """Refuse a zip whose parts declare more than a register can hold."""
    total = 0
    for info in archive.infolist():
        total += info.file_size
        limit = MAX_SHARED_STRINGS_BYTES if info.filename.lower().endswith(shared) else MAX_PART_BYTES
        if info.file_size > limit or total > MAX_UNPACKED_BYTES:
            raise _too_big()


def check_xlsx(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse an .xlsx with a value beyond the row or column limit, reading each sheet in chunks."""
    check_zip_sizes(archive)
    names = _xlsx_sheet_names(archive)
    for info in archive.infolist():
        name = info.filename
        lower = name.lower()
        # Every XML part is scanned wherever it lies (a workbook's relations may put a sheet
        # anywhere), except those that hold no cells.
        if not lower.endswith(".xml") or lower.endswith(("sharedstrings.xml", "styles.xml", "[content_types].xml")):
            continue
        if "/theme/" in lower:
            continue
        _scan_part(archive, info, names.get(name, name.rsplit("/", 1)[-1]), limits)


def _scan_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sheet: str, limits: Limits) -> None:
    def check(data: bytes) -> None:
        for pattern in (_FAR_COLUMN, _FAR_ROW):
            for match in pattern.finditer(data):
                column, row = column_index(match.group(1).decode().upper()), int(match.group(2))
                if column <= limits.max_columns and row <= limits.max_sheet_rows:
                    continue
                start = data.rfind(b"<", 0, match.start())
                end = data.find(b">", match.end())
                tag = data[start + 1: match.start()].split(b" ", 1)[0]
                if tag.rsplit(b":", 1)[-1] != b"c" or (end > 0 and data[end - 1: end] == b"/"):
                    continue  # not a cell, or <c .../> that holds no value
                refuse_extent(sheet, row, column, limits)

    with archive.open(info) as stream:
        carry = b""
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut <= 0:
                check(data)
                carry = b""
            else:
                check(data[:cut])
                carry = data[cut:]
                if len(carry) > _CHUNK:  # one tag longer than a megabyte is no sheet
                    raise _too_big()
        check(carry)


def _xlsx_sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Map each worksheet part to the sheet's name, for messages; empty when the parts are unusual."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {
        m.group(1).decode(): m.group(2).decode()
        for m in re.finditer(rb'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"', rels)
    }
    targets.update(
        (m.group(2).decode(), m.group(1).decode())
        for m in re.finditer(rb'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"', rels)
    )
    names = {}
    for m in re.finditer(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]+)"', workbook):
        target = targets.get(m.group(2).decode(), "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        names[part] = _unescape(m.group(1).decode("utf-8", "replace"))
    return names


def _unescape(value: str) -> str:
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


# --- .ods ------------------------------------------------------------------------------

_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_T = "{%s}" % _ODS_TABLE


def check_ods(archive: zipfile.ZipFile, limits: Limits) -> dict[str, list[tuple[int, int, int, int]]]:
    """Refuse an .ods with a value beyond the limits; return each sheet's merged ranges (1-based)."""
    check_zip_sizes(archive)
    try:
        stream = archive.open("content.xml")
    except KeyError as exc:
        raise SheetError("无法读取这个 .ods 文件，文件可能已损坏。请用 WPS 或 LibreOffice 打开后重新保存") from exc
    merges: dict[str, list[tuple[int, int, int, int]]] = {}
    sheet, row, column, row_value = "", 0, 0, False
    value_type = f"{{{_ODS_OFFICE}}}value-type"
    with stream:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            tag = element.tag
            if event == "start":
                if tag == _T + "table":
                    sheet, row = element.get(_T + "name", ""), 0
                    merges[sheet] = []
                elif tag == _T + "table-row":
                    column, row_value = 0, False
                elif tag in (_T + "table-cell", _T + "covered-table-cell"):
                    spans = int(element.get(_T + "number-rows-spanned", "1")), int(
                        element.get(_T + "number-columns-spanned", "1"))
                    if spans != (1, 1):
                        top, left = row + 1, column + 1
                        merges[sheet].append((top, left, top + spans[0] - 1, left + spans[1] - 1))
                continue
            if tag in (_T + "table-cell", _T + "covered-table-cell"):
                repeat = int(element.get(_T + "number-columns-repeated", "1"))
                has_value = element.get(value_type) is not None or len(element) > 0
                column += repeat
                if has_value:
                    row_value = True
                    if column > limits.max_columns:
                        refuse_extent(sheet, row + 1, column, limits)
                element.clear()
            elif tag == _T + "table-row":
                repeat = int(element.get(_T + "number-rows-repeated", "1"))
                row += repeat
                if row_value and row > limits.max_sheet_rows:
                    refuse_extent(sheet, row, 1, limits)
                element.clear()
    return merges


# --- .xls ------------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# BIFF cell records: each starts with its row and column (u16, u16). MULRK ends with its last column.
_CELL_RECORDS = {0x00FD, 0x0204, 0x0203, 0x027E, 0x0205, 0x0006, 0x00D6, 0x00BD}
_BOUNDSHEET, _BOF, _EOF, _MULRK = 0x0085, 0x0809, 0x000A, 0x00BD


def check_xls(data: bytes, limits: Limits) -> dict[int, str]:
    """Refuse an .xls with a value beyond the limits by walking its cell records; return sheet names.

    An .xls is an OLE compound file holding one "Workbook" stream of BIFF records;
    every cell record names its row and column, so the grid's size is known exactly.
    """
    stream = _ole_stream(data, ("Workbook", "Book"))
    names: dict[int, str] = {}
    offset, sheet, size = 0, None, len(stream)
    while offset + 4 <= size:
        kind, length = struct.unpack_from("<HH", stream, offset)
        body = offset + 4
        if kind == _BOUNDSHEET and length >= 8:
            start = struct.unpack_from("<I", stream, body)[0]
            names[start] = _xls_sheet_name(stream[body + 6: body + length])
        elif kind == _BOF:
            sheet = names.get(offset, sheet)
        elif kind in _CELL_RECORDS and length >= 4:
            row, column = struct.unpack_from("<HH", stream, body)
            if kind == _MULRK and length >= 6:
                column = struct.unpack_from("<H", stream, body + length - 2)[0]
            if column + 1 > limits.max_columns or row + 1 > limits.max_sheet_rows:
                refuse_extent(sheet or "", row + 1, column + 1, limits)
        offset = body + length
    return names


def _xls_sheet_name(raw: bytes) -> str:
    if len(raw) < 2:
        return ""
    count, flags = raw[0], raw[1]
    if flags & 1:
        return raw[2: 2 + 2 * count].decode("utf-16-le", "replace")
    return raw[2: 2 + count].decode("latin-1")


def _ole_stream(data: bytes, wanted: tuple[str, ...]) -> bytes:
    """Return one stream of an OLE compound file (no mini stream: a workbook is over 4 KB)."""
    broken = SheetError("无法读取这个 .xls 文件，文件可能已损坏，或不是 Excel 文件。请用 Excel 或 WPS 打开后重新保存")
    if len(data) < 512 or not data.startswith(_OLE_MAGIC):
        raise broken
    try:
        shift = struct.unpack_from("<H", data, 30)[0]
        sector = 1 << shift
        fat_count, dir_start = struct.unpack_from("<I", data, 44)[0], struct.unpack_from("<I", data, 48)[0]
        difat_start, difat_count = struct.unpack_from("<II", data, 68)
        difat = list(struct.unpack_from("<109I", data, 76))
        seen = 0
        while difat_start < 0xFFFFFFFA and seen <= len(data) // sector:
            base = 512 + difat_start * sector
            entries = struct.unpack_from(f"<{sector // 4}I", data, base)
            difat.extend(entries[:-1])
            difat_start = entries[-1]
            seen += 1
        fat: list[int] = []
        for index in difat[:fat_count]:
            if index >= 0xFFFFFFFA:
                break
            fat.extend(struct.unpack_from(f"<{sector // 4}I", data, 512 + index * sector))

        def chain(start: int) -> bytes:
            parts, current, steps = [], start, 0
            while current < 0xFFFFFFFA:
                if current >= len(fat) or steps > len(fat):
                    raise broken
                parts.append(data[512 + current * sector: 512 + (current + 1) * sector])
                current = fat[current]
                steps += 1
            return b"".join(parts)

        directory = chain(dir_start)
        cutoff = struct.unpack_from("<I", data, 56)[0]
        for base in range(0, len(directory) - 127, 128):
            name_length = struct.unpack_from("<H", directory, base + 64)[0]
            name = directory[base: base + max(0, name_length - 2)].decode("utf-16-le", "replace")
            if name in wanted:
                start, length = struct.unpack_from("<II", directory, base + 116)
                if length >= cutoff:
                    return chain(start)[:length]
                # A small stream lives in 64-byte mini sectors inside the root entry's stream.
                mini_shift = struct.unpack_from("<H", data, 32)[0]
                mini = 1 << mini_shift
                container = chain(struct.unpack_from("<I", directory, 116)[0])
                minifat_raw = chain(struct.unpack_from("<I", data, 60)[0])
                minifat = struct.unpack_from(f"<{len(minifat_raw) // 4}I", minifat_raw)
                parts, current, steps = [], start, 0
                while current < 0xFFFFFFFA:
                    if current >= len(minifat) or steps > len(minifat):
                        raise broken
                    parts.append(container[current * mini: (current + 1) * mini])
                    current = minifat[current]
                    steps += 1
                return b"".join(parts)[:length]
    except struct.error as exc:
        raise broken from exc
    raise broken


def sniff(head: bytes) -> Optional[str]:
    """Tell a file's real kind from its first bytes: "zip", "ole" or None."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    return None
