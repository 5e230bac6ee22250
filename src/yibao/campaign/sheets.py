"""Reading a target table (目标任务分配表) as the documents print it, from .xlsx/.xls/.csv.

The header row is found by its village column; every other column is matched to the policy's
target columns by the words clerks use (任务数, 集中缴费期, 人口, 职工医保, 应参保). A row whose
village cell says 合计 / 总计 is the printed totals row. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from yibao.core.errors import ApplicationError
from yibao.transfer.reading import CSV_SUFFIXES, SPREADSHEET_SUFFIXES, _decode, _normalise_header

HEADER_SEARCH_ROWS = 20
VILLAGE_HEADERS = {"村（社区）", "村社区", "村", "社区", "村（居）", "村居", "单位", "村（居）委会"}
SEQ_HEADERS = {"序号", "编号"}
TOTAL_WORDS = ("合计", "总计")
# Column key -> words in its header, tried in this order (任务数 before 应参保: Aikou's target
# header says "按应参保人数95%计算").
COLUMN_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("period_target", ("集中缴费期", "集中征缴期", "集中期")),
    ("target", ("任务数", "目标任务", "任务")),
    ("employee_insured", ("职工医保", "职工")),
    ("should_enroll", ("应参保", "应参加")),
    ("population", ("人口",)),
)


@dataclass
class TargetSheet:
    """The rows of a target sheet: ``values`` per village name, in the sheet's order."""

    source: str
    header_row: int
    columns: list[tuple[str, str]]  # (key, header as printed)
    rows: list[tuple[int, int | None, str, dict[str, int]]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # cells that are not whole numbers


def _raw_rows(path: Path) -> list[list[Any]]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ApplicationError("file_not_found", f"找不到文件：{path}", path=str(path))
    if suffix in SPREADSHEET_SUFFIXES:
        try:
            workbook = CalamineWorkbook.from_path(str(path))
        except Exception as error:  # calamine raises its own error types for damaged files
            raise ApplicationError(
                "unreadable_file", f"无法读取表格文件{path.name}：{error}", path=str(path)
            ) from None
        try:
            return [
                list(r) for r in workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
            ]
        finally:
            workbook.close()
    if suffix in CSV_SUFFIXES:
        text, _ = _decode(path.read_bytes(), path.name)
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
    raise ApplicationError(
        "unsupported_file",
        f"不支持的文件类型“{suffix or path.name}”：请使用 .xlsx、.xls 或 .csv 文件",
        path=str(path),
    )


def _column_key(header: str) -> str | None:
    for key, words in COLUMN_WORDS:
        if any(word in header for word in words):
            return key
    return None


def _whole(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = re.sub(r"[,，\s]", "", str(value))
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    raise ValueError(value)


def read_target_sheet(path: str | Path) -> TargetSheet:
    """Read the first sheet of ``path`` as a target table."""
    path = Path(path)
    raw = _raw_rows(path)
    for index, cells in enumerate(raw[:HEADER_SEARCH_ROWS]):
        headers = [_normalise_header(c) if c is not None else "" for c in cells]
        village_col = next((i for i, h in enumerate(headers) if h in VILLAGE_HEADERS), None)
        if village_col is None:
            continue
        seq_col = next((i for i, h in enumerate(headers) if h in SEQ_HEADERS), None)
        columns: dict[str, tuple[int, str]] = {}
        for i, header in enumerate(headers):
            key = _column_key(header) if i not in (village_col, seq_col) and header else None
            if key is not None and key not in columns:
                columns[key] = (i, str(cells[i]).strip())
        if "target" not in columns:
            continue
        sheet = TargetSheet(
            source=path.name,
            header_row=index + 1,
            columns=[(key, label) for key, (_, label) in columns.items()],
        )
        for number, row in enumerate(raw[index + 1 :], start=index + 2):
            name = str(row[village_col]).strip() if village_col < len(row) else ""
            name = "" if name in ("None",) else name
            if not name:
                continue
            values: dict[str, int] = {}
            for key, (col, label) in columns.items():
                try:
                    value = _whole(row[col] if col < len(row) else None)
                except ValueError:
                    sheet.problems.append(f"第{number}行“{label}”不是整数：{row[col]}")
                    continue
                if value is None:
                    sheet.problems.append(f"第{number}行“{label}”为空")
                else:
                    values[key] = value
            if _normalise_header(name) in TOTAL_WORDS:
                sheet.totals = values
                continue
            seq = None
            if seq_col is not None and seq_col < len(row):
                try:
                    seq = _whole(row[seq_col])
                except ValueError:
                    seq = None
            sheet.rows.append((number, seq, name, values))
        return sheet
    raise ApplicationError(
        "no_header",
        f"{path.name}：前{HEADER_SEARCH_ROWS}行中找不到任务表表头；表头须有“村（社区）”和“任务数”两列",
        path=path.name,
    )
