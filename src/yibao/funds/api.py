"""API routes for fund safety: cash against the limits, remittances, the daily close.

Thin edges over :mod:`yibao.funds.selectors` and :mod:`yibao.funds.services` (and the
ledger's ``remittance_record``); every collector is reached through ``access_collector``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Router, Schema, UploadedFile
from ninja.responses import Status

from yibao.api.progress import CollectorCashOut
from yibao.api.schemas import Money, MoneyIn, Timestamp
from yibao.collection import services as collection
from yibao.core.access import access_collector, access_village
from yibao.core.errors import ApplicationError
from yibao.intake.uploads import uploaded_path

from . import receipts, selectors, services
from .notice import notice_title, public_notice
from .tax import tax_payments_import

router = Router(tags=["资金安全"])


class LimitsOut(Schema):
    township: str | None
    amount: Money = Field(description="限额：手中现金不得超过的金额（元）")
    days: int = Field(description="限时：最早一笔未解缴现金最多持有的天数")
    default: bool = Field(description="是否为系统默认值（文件未规定具体数额）")


class LimitsIn(Schema):
    amount: MoneyIn
    days: int = Field(ge=1, le=366)


class CashStatusOut(CollectorCashOut):
    held_since: Timestamp | None = Field(description="手中最早一笔现金的收取时间（先收先缴）")
    age_days: int | None = Field(description="最早一笔未解缴现金已持有天数")
    limit_amount: Money
    limit_days: int
    over_amount: bool
    over_days: bool


class RemittanceIn(Schema):
    amount: MoneyIn
    bank: str = Field(min_length=1, max_length=64)
    slip_number: str = Field(min_length=1, max_length=64)
    note: str = Field("", max_length=200)


class RemittanceOut(Schema):
    id: int
    collector_id: int
    amount: Money
    remitted_at: Timestamp
    bank: str
    slip_number: str | None


class DayFiguresOut(Schema):
    collector_id: int
    name: str
    day: dt.date
    held_opening: Money
    cash_count: int
    cash_taken: Money
    zero_declarations: int
    reversal_count: int
    reversed_cash: Money
    remitted: Money
    held: Money


class DailyCloseOut(DayFiguresOut):
    id: int
    closed_at: Timestamp
    acknowledged_at: Timestamp | None
    acknowledged_by: str | None

    @staticmethod
    def resolve_name(obj: Any) -> str:
        user = obj.collector.user
        return str(user.get_full_name() or user.get_username())

    @staticmethod
    def resolve_acknowledged_by(obj: Any) -> str | None:
        user = obj.acknowledged_by
        return None if user is None else str(user.get_username())


def _status(row: selectors.CashStatus) -> dict[str, Any]:
    return {
        **asdict(row.cash),
        "age_days": row.age_days,
        "limit_amount": row.limits.amount,
        "limit_days": row.limits.days,
        "over_amount": row.over_amount,
        "over_days": row.over_days,
    }


@router.get("/cash/limits", response=LimitsOut, summary="现金双限（限额、限时）")
def limits(request: HttpRequest) -> dict[str, Any]:
    township = selectors.actor_township(request.auth)
    found = selectors.township_limits(township)
    return {
        "township": township.name if township else None,
        "amount": found.amount,
        "days": found.days,
        "default": found.default,
    }


@router.put("/cash/limits", response=LimitsOut, summary="设置本街道现金双限（街道社保所）")
def limits_set(request: HttpRequest, payload: LimitsIn) -> dict[str, Any]:
    township = selectors.actor_township(request.auth)
    if township is None:
        raise ApplicationError("office_required", "设置现金双限须由街道社保所办理")
    row = services.cash_limit_set(
        actor=request.auth, township=township, amount=payload.amount, days=payload.days
    )
    return {"township": township.name, "amount": row.amount, "days": row.days, "default": False}


@router.get("/cash/status", response=list[CashStatusOut], summary="征收员手中现金与双限，超限在前")
def cash_status(request: HttpRequest) -> list[dict[str, Any]]:
    return [_status(row) for row in selectors.cash_status(actor=request.auth)]


@router.get(
    "/collectors/{collector_id}/cash", response=CashStatusOut, summary="一名征收员的现金与双限"
)
def collector_cash(request: HttpRequest, collector_id: int) -> dict[str, Any]:
    collector = access_collector(request.auth, collector_id)
    row = selectors.collector_cash_status(actor=request.auth, collector=collector)
    if row is None:
        raise ApplicationError(
            "not_found", f"找不到编号为{collector_id}的征收员", collector_id=collector_id
        )
    return _status(row)


@router.post(
    "/collectors/{collector_id}/remittances",
    response={200: RemittanceOut, 201: RemittanceOut},
    summary="登记解缴入库（同一解缴凭证号再次提交返回原记录）",
)
def remittance_create(request: HttpRequest, collector_id: int, payload: RemittanceIn) -> Any:
    collector = access_collector(request.auth, collector_id)
    before = collector.remittances.filter(slip_number=payload.slip_number.strip()).exists()
    remittance = collection.remittance_record(
        actor=request.auth,
        collector=collector,
        amount=payload.amount,
        bank=payload.bank,
        slip_number=payload.slip_number,
        note=payload.note,
    )
    return Status(200 if before else 201, remittance)


@router.get(
    "/collectors/{collector_id}/days/{day}",
    response=DayFiguresOut,
    summary="一名征收员某日的现金、零申报、冲正、解缴与日终手中现金",
)
def day(request: HttpRequest, collector_id: int, day: dt.date) -> dict[str, Any]:
    collector = access_collector(request.auth, collector_id)
    return asdict(selectors.day_figures(actor=request.auth, collector=collector, day=day))


@router.post(
    "/collectors/{collector_id}/days/{day}/close",
    response={201: DailyCloseOut},
    summary="日结（征收员本人）；日结后该日不能再登记缴费、冲正、解缴",
)
def close(request: HttpRequest, collector_id: int, day: dt.date) -> Any:
    collector = access_collector(request.auth, collector_id)
    return Status(201, services.daily_close(actor=request.auth, collector=collector, day=day))


@router.get("/daily-closes", response=list[DailyCloseOut], summary="日结记录（本人范围内）")
def closes(request: HttpRequest, unacknowledged: bool = False) -> Any:
    return list(selectors.daily_close_list(actor=request.auth, unacknowledged=unacknowledged))


@router.post(
    "/daily-closes/{close_id}/acknowledgement",
    response=DailyCloseOut,
    summary="街道确认日结",
)
def acknowledge(request: HttpRequest, close_id: int) -> Any:
    found = selectors.access_daily_close(request.auth, close_id)
    return services.daily_close_acknowledge(actor=request.auth, close=found)


class DiscrepancyOut(Schema):
    row: int
    kind: str = Field(
        description="paid_not_registered / amount_mismatch / unknown_id / paid_twice / "
        "cash_and_online / refused / bad_row"
    )
    label: str
    name: str
    masked_id_number: str
    amount: str
    voucher_number: str
    detail: str


class TaxImportOut(Schema):
    record_id: int | None
    source: str
    rows: int
    recorded: int = Field(description="本次新登记的缴费笔数")
    already: int = Field(description="此前已登记（同一电子税票号码）的笔数")
    counts: dict[str, int]
    discrepancies: list[DiscrepancyOut]


@router.post(
    "/tax-imports",
    response={201: TaxImportOut},
    summary="导入税务缴费明细（.xlsx/.csv），登记对得上的缴费，列出差异；同一文件再导入不重复登记",
)
def tax_import(request: HttpRequest, file: File[UploadedFile]) -> Any:
    with uploaded_path(file) as path:
        report = tax_payments_import(actor=request.auth, path=path)
    return Status(201, report.to_dict())


class NoticeRowOut(Schema):
    number: int
    name: str = Field(description="姓名（部分隐去，如 王*梅）")
    tier: str
    amount: Money = Field(description="个人缴费（元）")
    subsidy: Money
    paid_on: dt.date


class NoticeOut(Schema):
    title: str
    village_id: int
    benefit_year: int
    rows: list[NoticeRowOut]


@router.get(
    "/villages/{village_id}/notice",
    response=NoticeOut,
    summary="缴费信息公示：本年度已缴费人员（姓名部分隐去，不含身份证号）",
)
def notice(request: HttpRequest, village_id: int, benefit_year: int) -> dict[str, Any]:
    village = access_village(request.auth, village_id)
    rows = public_notice(actor=request.auth, village=village, benefit_year=benefit_year)
    return {
        "title": notice_title(village, benefit_year),
        "village_id": village.pk,
        "benefit_year": benefit_year,
        "rows": [asdict(r) for r in rows],
    }


class ReceiptBookIn(Schema):
    collector_id: int
    prefix: str = Field(max_length=16)
    first: int = Field(ge=1)
    last: int = Field(ge=1)


class ReceiptBookOut(Schema):
    id: int
    collector_id: int
    prefix: str
    first: int
    last: int
    range: str

    @staticmethod
    def resolve_range(obj: Any) -> str:
        return str(obj)


class ReceiptVoidIn(Schema):
    number: int
    reason: str = Field(min_length=1, max_length=200)


class BookReportOut(Schema):
    book: ReceiptBookOut
    used: int
    voided: int
    next_number: str | None
    gaps: list[str] = Field(description="跳号：已用或作废的最大号以下，既未使用也未作废的号码")
    duplicates: list[str] = Field(description="重号：多次使用，或作废后又使用的号码")


class OutsideOut(Schema):
    payment_id: int
    collector: str
    receipt_number: str
    person: str
    reason: str


class ReceiptReportOut(Schema):
    books: list[BookReportOut]
    outside: list[OutsideOut] = Field(description="不在该征收员号段内（或没有票据号）的现金缴费")


@router.get(
    "/receipt-books", response=ReceiptReportOut, summary="收据本：号段、跳号、重号、号段外收据"
)
def receipt_books(request: HttpRequest) -> Any:
    return receipts.receipt_report(actor=request.auth)


@router.post("/receipt-books", response={201: ReceiptBookOut}, summary="向征收员发放收据本（街道）")
def receipt_book_issue(request: HttpRequest, payload: ReceiptBookIn) -> Any:
    collector = access_collector(request.auth, payload.collector_id)
    book = receipts.receipt_book_issue(
        actor=request.auth,
        collector=collector,
        prefix=payload.prefix,
        first=payload.first,
        last=payload.last,
    )
    return Status(201, book)


@router.post(
    "/receipt-books/{book_id}/voids",
    response={201: ReceiptBookOut},
    summary="作废一张收据（须写原因）",
)
def receipt_void(request: HttpRequest, book_id: int, payload: ReceiptVoidIn) -> Any:
    book = receipts.access_receipt_book(request.auth, book_id)
    receipts.receipt_void(
        actor=request.auth, book=book, number=payload.number, reason=payload.reason
    )
    return Status(201, book)
