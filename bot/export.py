"""The export table as CSV or XLSX; cell text is neutralised so no spreadsheet runs it as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.files import write_private

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_cell(value: object) -> object:
    """A CSV text that a spreadsheet would run (`=HYPERLINK(...)`) is prefixed with a quote."""
    if is_formula_like(value):
        return "'" + str(value)
    return value


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Hindi names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    """Text that looks like a formula stays the same text, stored as text with Excel's quote
    prefix, so neither opening nor editing the cell turns it into a formula."""
    if not isinstance(value, str) or not is_formula_like(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[object]]]]) -> bytes:
    """One sheet per (title, header, rows); header styled, top row frozen, columns sized."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            width = max([len(str(name)), *(len(str(r[index - 1])) for r in rows[:500])])
            sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 40)
        head = []
        for name in header:
            cell = WriteOnlyCell(sheet, value=name)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(horizontal="center")
            head.append(cell)
        sheet.append(head)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_table(
    path: Path, fmt: str, level: str, header: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    data = csv_bytes(header, rows) if fmt == "csv" else xlsx_bytes([(level, header, rows)])
    write_private(path, data)  # names and numbers of workers: mode 0600
