"""One table as an .xlsx workbook, as the pages export them: the same columns as on screen.

Text is always written as text: a cell that begins with ``= + - @`` (or a tab or CR) is a
string cell, never a formula a spreadsheet would evaluate (OWASP CSV injection).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ILLEGAL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return "".join(ch for ch in value if ch not in ILLEGAL)
    return value


def write_row(sheet: Any, values: Sequence[Any]) -> None:
    """Append ``values`` to ``sheet``: text without control characters, and always a string
    cell (openpyxl would otherwise store text beginning with ``=`` as a formula)."""
    sheet.append([_clean(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = TYPE_STRING  # never a formula, whatever it begins with


def table_workbook(
    *, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], heading: str = ""
) -> bytes:
    """The workbook's bytes: an optional heading line, the header row, the rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    if heading:
        sheet.append([heading])
        sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    sheet.append(list(headers))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        write_row(sheet, row)
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, len(header) * 2 + 4)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
