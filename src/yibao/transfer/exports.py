"""Exporting the ledger (台账) of a village for a benefit year to .xlsx.

One row per person of :func:`yibao.collection.selectors.village_ledger` (which checks the
actor's village scope), with the receipt number and reversal state of their payments; a
title row with district, township, village and year; a totals row. Money is written as
numbers with the ``0.00`` format, times in Asia/Shanghai, ID numbers masked; text cells are
always text, so ``=1+1`` in a note is not a formula (:func:`~yibao.transfer.workbook.write_row`).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from yibao.collection.models import Enrollment, Payment
from yibao.collection.selectors import LedgerRow, village_ledger
from yibao.core import clock
from yibao.core.access import require_village
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.models import Village

from .imports import village_resolve
from .workbook import write_row

ZERO = Decimal("0")
MONEY_FORMAT = "0.00"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"

PAID, UNPAID, ZERO_DECLARATION, REVERSED = "已缴", "未缴", "零申报", "已冲正"

# (header, width, kind) — kind decides the cell format.
COLUMNS: tuple[tuple[str, int, str], ...] = (
    ("序号", 6, "int"),
    ("户号", 14, "text"),
    ("姓名", 10, "text"),
    ("公民身份号码", 21, "text"),
    ("联系电话", 14, "text"),
    ("资助身份", 18, "text"),
    ("档次", 6, "text"),
    ("个人缴费标准", 12, "money"),
    ("资助金额", 10, "money"),
    ("个人应缴", 10, "money"),
    ("实缴金额", 10, "money"),
    ("缴费渠道", 12, "text"),
    ("票据号", 20, "text"),
    ("缴费时间（北京时间）", 20, "time"),
    ("待遇享受起", 12, "date"),
    ("待遇享受止", 12, "date"),
    ("状态", 8, "text"),
    ("备注", 28, "text"),
)
MONEY_COLUMNS = ("个人缴费标准", "资助金额", "个人应缴", "实缴金额")


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    village: str
    township: str
    benefit_year: int
    rows: int
    totals: dict[str, Decimal]
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class _Settlement:
    status: str
    receipt_number: str
    channel: str
    paid_at: dt.datetime | None
    note: str


def _settlements(village: Village, benefit_year: int) -> dict[int, _Settlement]:
    """Per person: the state of their enrollment in ``village`` and the payment behind it."""
    payments: dict[int, list[Payment]] = {}
    for payment in Payment.objects.filter(
        enrollment__village=village, enrollment__benefit_year=benefit_year
    ).order_by("id"):
        payments.setdefault(payment.enrollment_id, []).append(payment)
    result: dict[int, _Settlement] = {}
    for enrollment in Enrollment.objects.filter(village=village, benefit_year=benefit_year):
        entries = payments.get(enrollment.pk, [])
        reversed_ids = {p.reverses_id for p in entries if p.reverses_id is not None}
        live = [p for p in entries if p.reverses_id is None and p.pk not in reversed_ids]
        undone = [p for p in entries if p.pk in reversed_ids]
        notes = []
        if enrollment.status == Enrollment.Status.DECEASED:
            notes.append("已死亡（待核）")
        if live:
            last = live[-1]
            status = ZERO_DECLARATION if last.amount == ZERO else PAID
            shown: Payment | None = last
        elif undone:
            status, shown = REVERSED, undone[-1]
            reasons = [p.reason for p in entries if p.reverses_id is not None and p.reason]
            notes.append("冲正原因：" + "；".join(reasons) if reasons else "已冲正")
        else:
            status, shown = UNPAID, None
        result[enrollment.person_id] = _Settlement(
            status=status,
            receipt_number=(shown.receipt_number or "") if shown else "",
            channel=shown.get_channel_display() if shown else "",
            paid_at=shown.paid_at if shown else None,
            note="；".join(notes),
        )
    return result


def _local(value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: write the Chongqing wall-clock time, as the header says.
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _line(number: int, row: LedgerRow, settlement: _Settlement | None) -> list[Any]:
    if settlement is None:
        settlement = _Settlement(UNPAID, "", "", None, "未参保登记")
    return [
        number,
        row.household,
        row.name,
        row.masked_id_number,
        row.phone,
        row.identity,
        {1: "一档", 2: "二档"}.get(row.tier or 0, ""),
        row.standard,
        row.subsidy,
        row.personal,
        row.paid,
        settlement.channel,
        settlement.receipt_number,
        _local(settlement.paid_at),
        row.coverage_start if settlement.status in (PAID, ZERO_DECLARATION) else None,
        row.coverage_end if settlement.status in (PAID, ZERO_DECLARATION) else None,
        settlement.status,
        settlement.note,
    ]


def ledger_export(
    *,
    actor: Any,
    village: Village | str,
    benefit_year: int,
    path: str | Path,
) -> ExportResult:
    """Write the ledger of ``village`` (a Village, or its name or code) to ``path`` (.xlsx).

    A village outside ``actor``'s scope is refused as one that does not exist. The file is written
    to a temporary name and renamed, so a failed export leaves no half-written file.
    """
    if isinstance(village, str):
        village = _village_by_text(actor, village)
    require_village(actor, village)
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ApplicationError(
            "unsupported_file", f"台账只能导出为 .xlsx 文件：{path.name}", path=str(path)
        )
    ledger = village_ledger(actor=actor, village=village, benefit_year=benefit_year)
    settlements = _settlements(village, benefit_year)
    township = village.township
    district = township.district

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{village.name}台账"[:31]
    width = len(COLUMNS)
    title = f"{district.name}{township.name}{village.name} {benefit_year}年度城乡居民基本医疗保险参保缴费台账"
    write_row(sheet, [title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    exported_at = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    who = getattr(actor, "username", "") or "system"
    write_row(
        sheet,
        [
            f"街道（镇）：{township.name}　村（社区）：{village.name}　待遇年度：{benefit_year}"
            f"　业务日期：{clock.today().isoformat()}　导出：{who} {exported_at}"
            "　公民身份号码已脱敏"
        ],
    )
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    write_row(sheet, [header for header, _, _ in COLUMNS])
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="999999")
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(bottom=thin)

    totals = {name: ZERO for name in MONEY_COLUMNS}
    counts = {PAID: 0, ZERO_DECLARATION: 0, UNPAID: 0, REVERSED: 0}
    for number, row in enumerate(ledger, start=1):
        line = _line(number, row, settlements.get(row.person_id))
        write_row(sheet, line)  # free text (names, receipt numbers, notes) stays text
        for index, (header, _, _) in enumerate(COLUMNS):
            if header in totals and line[index] is not None:
                totals[header] += line[index]
        counts[line[-2]] += 1
    first_data, last_data = 4, 3 + len(ledger)
    status_text = "　".join(f"{k}{v}人" for k, v in counts.items())
    write_row(
        sheet,
        [
            "合计",
            "",
            f"{len(ledger)}人",
            *[""] * 4,
            *[totals[name] for name in MONEY_COLUMNS],
            *[""] * 5,
            status_text,
            "",
        ],
    )
    total_row = last_data + 1
    for cell in sheet[total_row]:
        cell.font = Font(bold=True)
        cell.border = Border(top=thin)

    for index, (_, column_width, kind) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column_width
        number_format = {"money": MONEY_FORMAT, "time": TIME_FORMAT, "date": DATE_FORMAT}.get(kind)
        if number_format:
            for (cell,) in sheet.iter_rows(
                min_row=first_data, max_row=total_row, min_col=index, max_col=index
            ):
                cell.number_format = number_format
    sheet.freeze_panes = "D4"
    sheet.auto_filter.ref = f"A3:{get_column_letter(width)}{max(last_data, 3)}"
    sheet.print_title_rows = "3:3"
    sheet.page_setup.orientation = "landscape"

    _save_atomically(workbook, path)
    AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) is not None else None,
        actor_name=who,
        action="transfer.ledger_export",
        object_type="registry.village",
        object_id=str(village.pk),
        after={"benefit_year": benefit_year, "rows": len(ledger), "file": path.name},
    )
    return ExportResult(
        path=path,
        village=village.name,
        township=township.name,
        benefit_year=benefit_year,
        rows=len(ledger),
        totals=totals,
        counts=counts,
    )


def _village_by_text(actor: Any, text: str) -> Village:
    """A village by name or code within ``actor``'s scope; another village's name is
    refused as an unknown one."""
    return village_resolve(actor=actor, text=text)


def _save_atomically(workbook: Workbook, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".ledger-", suffix=".xlsx", dir=path.parent)
    os.close(handle)
    try:
        workbook.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
