"""Spreadsheets as villages send them, built by the import tests with openpyxl."""
from __future__ import annotations

import io
import zipfile
from typing import Any, Iterable, Optional, Sequence

import openpyxl

from villagepoints.personal_data import id_check_char


def make_id(first17: str) -> str:
    """Return a valid ID number: the 17 digits and their check character."""
    return first17 + id_check_char(first17)


def person_id(n: int) -> str:
    """Return a valid, distinct ID number for test person n."""
    return make_id(f"3201021985{n:07d}")


def xlsx(rows: Iterable[Sequence[Any]], *, merges: Iterable[str] = (), title: str = "花名册") -> bytes:
    """Build a one-sheet workbook from rows (None for an empty cell) and merged ranges."""
    return workbook({title: (rows, merges)})


def workbook(sheets: dict[str, tuple[Iterable[Sequence[Any]], Iterable[str]]]) -> bytes:
    """Build a workbook with several sheets: name -> (rows, merged ranges)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (rows, merges) in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        for ref in merges:
            sheet.merge_cells(ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Iterable[Sequence[Any]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    """Build a CSV file as office software saves it (GBK, UTF-8 with or without BOM)."""
    text = "\r\n".join(delimiter.join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    return text.encode(encoding)


def excel_style_xlsx(
    cells: list[list[Any]],
    *,
    date_style_id: int = 31,
    row_numbers: Optional[Sequence[int]] = None,
    dimension: Optional[str] = None,
    date1904: bool = False,
    sheet_tail: str = "",
) -> bytes:
    """Build a minimal .xlsx the way Excel writes it: shared strings, a <dimension>,
    and dates as serial numbers with a Chinese built-in date format.

    Cells are text (shared string), int/float (number), ("date", serial) or
    ("error", "#N/A") for a formula that failed. ``row_numbers`` places the rows
    (Excel leaves blank rows out of the file); ``dimension`` overrides the declared
    range; ``sheet_tail`` is XML put after the cell data (merges, an <extLst>).
    """
    strings: list[str] = []
    xml_rows = []
    numbers = list(row_numbers or range(1, len(cells) + 1))
    for r, row in zip(numbers, cells):
        xml_cells = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if value is None:
                continue
            if isinstance(value, tuple) and value[0] == "error":
                xml_cells.append(f'<c r="{ref}" t="e"><f>VLOOKUP(A1,X:Y,2,0)</f><v>{value[1]}</v></c>')
            elif isinstance(value, tuple):
                xml_cells.append(f'<c r="{ref}" s="1"><v>{value[1]}</v></c>')
            elif isinstance(value, str):
                strings.append(value)
                xml_cells.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
            else:
                xml_cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        xml_rows.append(f'<row r="{r}">{"".join(xml_cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            + ('<workbookPr date1904="1"/>' if date1904 else "")
            + '<sheets><sheet name="户籍" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}">'
            f'<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="{date_style_id}" applyNumberFormat="1"/></cellXfs>'
            "</styleSheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(strings)}">'
            + "".join(f"<si><t>{s}</t></si>" for s in strings)
            + "</sst>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}">'
            f'<dimension ref="{dimension or f"A1:{chr(64 + max(len(r) for r in cells))}{max(numbers)}"}"/>'
            f'<sheetData>{"".join(xml_rows)}</sheetData>{sheet_tail}</worksheet>'
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def soffice_convert(data: bytes, source_name: str, target: str, tmp_path) -> bytes:
    """Save a workbook through LibreOffice as another format ("xls", "ods", "xlsx"), as a clerk would.

    Skips the test with the reason when LibreOffice is not installed (never on CI).
    """
    import os
    import shutil
    import subprocess

    import pytest

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        if os.environ.get("CI", "").lower() == "true":
            raise RuntimeError("LibreOffice (soffice) is required on CI for the format tests")
        pytest.skip("LibreOffice (soffice) is not installed: .xls/.ods fixtures cannot be made")
    folder = tmp_path / f"soffice-{target}"
    folder.mkdir(exist_ok=True)
    source = folder / source_name
    source.write_bytes(data)
    out = folder / "out"
    # Its own profile, so runs at the same time do not wait on one another's lock.
    profile = (tmp_path / "soffice-profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target,
         "--outdir", str(out), str(source)],
        check=True, capture_output=True, timeout=120,
    )
    return (out / (source.stem + "." + target)).read_bytes()
