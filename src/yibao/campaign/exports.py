"""Bulletins (通报) and subsidy accounts as .xlsx: numbers as numbers, rates as percentages,
ID numbers masked. The figures come from :mod:`yibao.campaign.selectors`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from yibao.transfer.exports import _save_atomically

from .selectors import BulletinFigures, SubsidyLine

PERCENT = "0.00%"
MONEY = "0.00"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")


def _ratio(value: Decimal | None) -> Decimal | None:
    return None if value is None else value / 100


def _sheet(
    sheet: Worksheet,
    title: str,
    subtitle: str,
    columns: Sequence[tuple[str, int, str]],
    rows: Sequence[Sequence[Any]],
    total: Sequence[Any] | None = None,
) -> None:
    width = len(columns)
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([subtitle])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet.append([header for header, _, _ in columns])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=THIN)
    for row in rows:
        sheet.append(list(row))
    last = 3 + len(rows)
    if total is not None:
        sheet.append(list(total))
        last += 1
        for cell in sheet[last]:
            cell.font = Font(bold=True)
            cell.border = Border(top=THIN)
    for index, (_, column_width, kind) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column_width
        number_format = {"percent": PERCENT, "money": MONEY}.get(kind)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=4, max_row=last, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "C4"
    sheet.print_title_rows = "3:3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1


BULLETIN_COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("名次", 6, "int"),
    ("村（社区）", 12, "text"),
    ("目标任务数", 10, "int"),
    ("核减", 6, "int"),
    ("已缴费", 8, "int"),
    ("完成率", 9, "percent"),
    ("集中期目标", 10, "int"),
    ("集中期完成率", 10, "percent"),
    ("较上期增加", 10, "int"),
    ("上期名次", 8, "int"),
    ("近7日缴费", 9, "int"),
    ("预计完成日期", 12, "text"),
    ("应参保人数", 10, "int"),
    ("参保率", 9, "percent"),
    ("困难群体应参保", 12, "int"),
    ("困难群体已缴", 12, "int"),
    ("困难群体参保率", 12, "percent"),
    ("考核得分", 9, "text"),
    ("标注", 14, "text"),
)


def bulletin_workbook(figures: BulletinFigures, *, township: str = "") -> Workbook:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "通报"
    previous = f"；上期：{figures.previous_on}" if figures.previous_on else ""
    rows = []
    for row in sorted(figures.rows, key=lambda r: r.progress.rank):
        p = row.progress
        marks = [m for m, on in (("后三名", p.bottom_three), ("约谈", row.interview)) if on]
        if figures.floor is not None and p.below_floor:
            marks.append(f"低于{figures.floor.percent:.0f}%")
        score = row.assessment.score
        rows.append(
            [
                p.rank,
                p.name,
                p.target,
                p.reductions,
                p.paid,
                _ratio(p.completion),
                p.period_target,
                _ratio(p.period_completion),
                row.change_paid,
                row.previous_rank,
                row.paid_last_7_days,
                row.projected_on.isoformat() if row.projected_on else row.projection,
                row.enrollment_base,
                _ratio(row.enrollment_rate),
                p.hardship,
                p.hardship_paid,
                _ratio(p.hardship_rate),
                "不计分" if score is None else str(score),
                "、".join(marks),
            ]
        )
    t = figures.totals
    score = figures.totals_assessment.score
    total = [
        "",
        "合计",
        t.target,
        t.reductions,
        t.paid,
        _ratio(t.completion),
        t.period_target,
        _ratio(t.period_completion),
        "",
        "",
        figures.totals_paid_last_7_days,
        "",
        t.enrollment_base,
        _ratio(t.enrollment_rate),
        t.hardship,
        t.hardship_paid,
        _ratio(t.hardship_rate),
        "不计分" if score is None else str(score),
        f"低于{figures.floor.percent:.0f}%" if figures.floor and t.below_floor else "",
    ]
    _sheet(
        sheet,
        f"{township}{figures.benefit_year}年度城乡居民医保征缴进度通报",
        f"截至{figures.on}日终{previous}；{figures.policy_name}",
        BULLETIN_COLUMNS,
        rows,
        total,
    )
    for note in figures.notes:
        sheet.append([note])

    hardship = workbook.create_sheet("困难群体")
    _sheet(
        hardship,
        "困难群体参保情况（按身份类别）",
        f"截至{figures.on}日终；一人有多个类别的，在各类别分别计数",
        (
            ("身份类别", 24, "text"),
            ("应参保", 10, "int"),
            ("已缴费", 10, "int"),
            ("参保率", 10, "percent"),
        ),
        [[h.category, h.people, h.paid, _ratio(h.rate)] for h in figures.hardship],
    )
    missing = workbook.create_sheet("困难群体未参保名单")
    _sheet(
        missing,
        "困难群体未缴费人员名单",
        f"截至{figures.on}日终；公民身份号码已脱敏",
        (
            ("村（社区）", 12, "text"),
            ("姓名", 10, "text"),
            ("公民身份号码", 21, "text"),
            ("联系电话", 14, "text"),
            ("身份类别", 30, "text"),
        ),
        [
            [m.village, m.name, m.masked_id_number, m.phone, "、".join(m.categories)]
            for m in figures.missing
        ],
    )
    return workbook


SUBSIDY_COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("认定部门", 22, "text"),
    ("身份类别", 24, "text"),
    ("村（社区）", 12, "text"),
    ("人数", 8, "int"),
    ("资助金额（元）", 14, "money"),
    ("其中财政承担的7月1日后补缴（元）", 16, "money"),
)


def subsidy_workbook(
    lines: Sequence[SubsidyLine], totals: Sequence[SubsidyLine], *, title: str, subtitle: str
) -> Workbook:
    workbook = Workbook()

    def rows(items: Sequence[SubsidyLine]) -> list[list[Any]]:
        return [
            [x.department, x.identity, x.village or "合计", x.people, x.subsidy, x.surcharge_borne]
            for x in items
        ]

    total = [
        "合计",
        "",
        "",
        sum(x.people for x in totals),
        sum((x.subsidy for x in totals), Decimal(0)),
        sum((x.surcharge_borne for x in totals), Decimal(0)),
    ]
    _sheet(workbook.active, title, subtitle, SUBSIDY_COLUMNS, rows(totals), total)
    workbook.active.title = "按部门和类别"
    _sheet(
        workbook.create_sheet("按村（社区）"), title, subtitle, SUBSIDY_COLUMNS, rows(lines), total
    )
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def workbook_save(workbook: Workbook, path: str | Path) -> Path:
    path = Path(path)
    _save_atomically(workbook, path)
    return path


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
    """WeasyPrint's URL fetcher: the bulletin needs nothing from outside (offline rule)."""
    raise ValueError(f"通报PDF不读取外部资源：{url}")


def bulletin_pdf(figures: BulletinFigures, *, township: str = "") -> bytes:
    """The bulletin as an A4 landscape PDF: the printable page's figures (the same template
    body), set in Noto Sans CJK SC from Debian's fonts-noto-cjk through WeasyPrint, with the
    fonts embedded; nothing is fetched."""
    from django.template.loader import render_to_string
    from weasyprint import HTML

    html = render_to_string(
        "campaign/bulletin_pdf.html",
        {
            "figures": figures,
            "rows": sorted(figures.rows, key=lambda r: r.progress.rank),
            "township": township,
        },
    )
    data: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    return data
