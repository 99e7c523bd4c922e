"""The export table as CSV or XLSX; cell text is neutralised so no spreadsheet runs it as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A CSV text that a spreadsheet would run (`=HYPERLINK(...)`) is prefixed with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_xlsx_cell(value: object) -> object:
    """In a workbook only `=` makes a formula (openpyxl writes other text as text)."""
    if isinstance(value, str) and value.startswith("="):
        return "'" + value
    return value


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Hindi names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[object]]]]) -> bytes:
    """One sheet per (title, header, rows); header styled, top row frozen, columns sized."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(list(header))
        for row in rows:
            sheet.append([safe_xlsx_cell(v) for v in row])
        fill = PatternFill("solid", fgColor="1F4E78")
        for cell in sheet[1]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center")
        sheet.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            width = max([len(str(name)), *(len(str(r[index - 1])) for r in rows[:500])])
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(width + 2, 40)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_table(
    path: Path, fmt: str, level: str, header: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    data = csv_bytes(header, rows) if fmt == "csv" else xlsx_bytes([(level, header, rows)])
    path.write_bytes(data)
