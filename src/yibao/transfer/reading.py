"""Reading clerks' sheets: .xlsx/.xls/.ods through python-calamine, .csv in UTF-8 or GBK.

A sheet is a list of ``(row_number, cells)`` with the row number Excel shows, the header row
found among the first rows by its Chinese column names (synonyms accepted), and the column
of each known field. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from yibao.core.errors import ApplicationError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
HEADER_SEARCH_ROWS = 20

# Field -> the column names clerks write for it (compared after _normalise_header).
HEADERS: dict[str, tuple[str, ...]] = {
    "id_number": (
        "公民身份号码",
        "公民身份证号码",
        "公民身份证号",
        "身份证号",
        "身份证号码",
        "身份证",
        "证件号码",
        "证件号",
        "参保人身份证号",
        "参保人身份证号码",
    ),
    "name": ("姓名", "参保人姓名", "人员姓名", "参保人"),
    "id_type": ("证件类型", "证件类别"),
    "sex": ("性别",),
    "birth_date": ("出生日期", "出生年月日", "出生年月", "出生时间"),
    "phone": ("联系电话", "电话", "电话号码", "手机", "手机号", "手机号码", "联系方式"),
    "hukou_village": (
        "户籍村（社区）",
        "户籍村",
        "户籍社区",
        "户籍所在村（社区）",
        "户籍所在村",
        "户籍地",
        "所属村（社区）",
        "所在村（社区）",
        "村（社区）",
        "村社区",
        "村（居）",
    ),
    "residence_village": (
        "居住村（社区）",
        "居住村",
        "居住社区",
        "现居住村（社区）",
        "现居住地",
        "居住地",
    ),
    "relation": ("与户主关系", "与户主的关系", "家庭关系", "关系"),
    "household_number": ("户号", "户编号", "户口簿号", "户口本编号"),
    "head_id_number": (
        "户主身份证号",
        "户主身份证号码",
        "户主公民身份号码",
        "户主证件号码",
        "户主证件号",
    ),
    "head_name": ("户主姓名", "户主"),
    "address": ("住址", "家庭住址", "详细地址", "地址"),
    "identity": ("身份类别", "身份标识", "困难群体类别", "困难类别", "资助类别", "资助身份"),
    "department": ("认定部门", "认定单位", "认定机关"),
    # Departments' lists (yibao.intake): identity windows, deaths, other insurance, schools.
    "valid_from": ("有效期起", "有效期开始", "开始日期", "起始日期", "认定日期", "享受起始日期"),
    "valid_to": ("有效期止", "有效期至", "有效期截止", "截止日期", "终止日期", "享受截止日期"),
    "died_on": ("死亡日期", "死亡时间", "注销日期"),
    "insured_place": ("参保单位", "参保地", "单位名称", "参保地或单位"),
    "insurance_kind": ("险种", "参保险种", "参保类型"),
    "school": ("学校", "院校", "学校名称", "就读学校"),
    "payer": ("缴费人", "代缴人", "付款人", "缴费人姓名"),
    # The tax system's payment details (税务缴费明细, yibao.funds.tax).
    "amount": ("缴费金额", "实缴金额", "缴款金额", "缴费金额（元）", "实缴金额（元）", "金额"),
    "channel": ("缴费渠道", "缴费方式", "支付渠道", "支付方式"),
    "paid_at": ("缴费时间", "缴费日期", "缴款日期", "缴款时间", "支付时间", "入库日期"),
    "voucher_number": ("电子税票号码", "税票号码", "完税凭证号", "完税凭证号码", "票证号码"),
}

FIELD_LABELS = {
    "id_number": "公民身份号码",
    "name": "姓名",
    "id_type": "证件类型",
    "sex": "性别",
    "birth_date": "出生日期",
    "phone": "联系电话",
    "hukou_village": "户籍村（社区）",
    "residence_village": "居住村（社区）",
    "relation": "与户主关系",
    "household_number": "户号",
    "head_id_number": "户主身份证号",
    "head_name": "户主姓名",
    "address": "住址",
    "identity": "身份类别",
    "department": "认定部门",
    "valid_from": "有效期起",
    "valid_to": "有效期止",
    "died_on": "死亡日期",
    "insured_place": "参保单位",
    "insurance_kind": "险种",
    "school": "学校",
    "payer": "缴费人",
    "amount": "缴费金额",
    "channel": "缴费渠道",
    "paid_at": "缴费时间",
    "voucher_number": "电子税票号码",
}

_HALF_TO_FULL = str.maketrans({"(": "（", ")": "）"})
_DECORATION = re.compile(r"[\s*＊:：]+")


def _normalise_header(text: str) -> str:
    """``' 户籍村(社区) *'`` -> ``'户籍村（社区）'``: spaces, required-markers, colons dropped."""
    return _DECORATION.sub("", str(text).translate(_HALF_TO_FULL))


_HEADER_INDEX = {_normalise_header(name): key for key, names in HEADERS.items() for name in names}


@dataclass
class Table:
    """The data rows of one sheet and where each field's column is."""

    source: str
    kind: str  # "xlsx" / "csv" ...
    encoding: str | None
    sheet: str | None
    header_row: int
    columns: dict[str, int]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def value(self, cells: list[Any], key: str) -> Any:
        index = self.columns.get(key)
        if index is None or index >= len(cells):
            return None
        return cells[index]


def read_table(path: str | Path) -> Table:
    """Read the first sheet of ``path`` that has a header row with 姓名 and an ID column."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ApplicationError("file_not_found", f"找不到文件：{path}", path=str(path))
    if suffix in SPREADSHEET_SUFFIXES:
        return _read_spreadsheet(path)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    raise ApplicationError(
        "unsupported_file",
        f"不支持的文件类型“{suffix or path.name}”：请使用 .xlsx、.xls 或 .csv 文件",
        path=str(path),
    )


def _read_spreadsheet(path: Path) -> Table:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own error types for damaged files
        raise ApplicationError(
            "unreadable_file", f"无法读取表格文件{path.name}：{error}", path=str(path)
        ) from None
    try:
        for index, name in enumerate(workbook.sheet_names):
            # skip_empty_area=False keeps Excel's row numbers (row 1 is the first row).
            raw = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
            numbered = list(enumerate(raw, start=1))
            table = _find_header(numbered, source=path.name, kind=path.suffix.lower()[1:])
            if table is not None:
                table.sheet = name
                return table
    finally:
        workbook.close()
    raise _no_header(path.name)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: UTF-8 (BOM or not), UTF-16, GBK."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 (BOM)"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise ApplicationError(
            "unknown_encoding",
            f"无法识别文件{name}的编码：请另存为 UTF-8 或 GBK 编码的 CSV，或直接使用 .xlsx",
            path=name,
        ) from None
    # GBK is a subset of GB18030; name the one clerks know when the text fits it.
    try:
        data.decode("gbk")
        return text, "GBK"
    except UnicodeDecodeError:
        return text, "GB18030"


def _read_csv(path: Path) -> Table:
    text, encoding = _decode(path.read_bytes(), path.name)
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    numbered = [(reader.line_num, row) for row in reader]
    table = _find_header(numbered, source=path.name, kind="csv")
    if table is None:
        raise _no_header(path.name)
    table.encoding = encoding
    return table


def _no_header(name: str) -> ApplicationError:
    return ApplicationError(
        "no_header",
        f"{name}：前{HEADER_SEARCH_ROWS}行中找不到表头；表头须包含“姓名”和“公民身份号码”"
        "（或“身份证号”“证件号码”）两列",
        path=name,
    )


def _header_columns(cells: Iterable[Any]) -> tuple[dict[str, int], list[str], list[str]]:
    columns: dict[str, int] = {}
    duplicates: list[str] = []
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        if cell is None or str(cell).strip() == "":
            continue
        key = _HEADER_INDEX.get(_normalise_header(cell))
        if key is None:
            ignored.append(str(cell).strip())
        elif key in columns:
            duplicates.append(str(cell).strip())
        else:
            columns[key] = index
    return columns, duplicates, ignored


def _find_header(numbered: list[tuple[int, list[Any]]], *, source: str, kind: str) -> Table | None:
    for position, (row_number, cells) in enumerate(numbered[:HEADER_SEARCH_ROWS]):
        columns, duplicates, ignored = _header_columns(cells)
        if "id_number" not in columns or "name" not in columns:
            continue
        if duplicates:
            raise ApplicationError(
                "duplicate_column",
                f"{source}第{row_number}行表头中有重复的列：{'、'.join(duplicates)}",
                path=source,
                columns=duplicates,
            )
        return Table(
            source=source,
            kind=kind,
            encoding=None,
            sheet=None,
            header_row=row_number,
            columns=columns,
            rows=[(n, list(c)) for n, c in numbered[position + 1 :]],
            ignored_columns=ignored,
        )
    return None
