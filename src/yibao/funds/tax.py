"""The tax system's payment list (税务缴费明细): read, matched to persons and enrollments,
recorded through the ledger's payment service, and the discrepancies listed.

A row's tax voucher number (电子税票号码) is the payment's receipt number and, as
``tax:<number>``, its idempotency key: importing the same file again records nothing new.
The tax system's paid-at date prices the payment, as a back-dated office action with the file
as the reason (``yibao.collection.services``: office only, within ``YIBAO_BACKDATE_DAYS``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from yibao.collection.models import Enrollment, Payment
from yibao.collection.selectors import campaign_policy, live_payments
from yibao.collection.services import (
    PaymentItem,
    _quote,  # the one place that turns tags into a request
    payment_record_many,
)
from yibao.core.access import require_office, scope_of
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number
from yibao.policy import get_policy
from yibao.registry.models import Person
from yibao.registry.selectors import persons_by_id_number
from yibao.transfer.reading import read_table

from .models import TaxImport
from .selectors import actor_township

KEY_PREFIX = "tax:"
# 缴费渠道 as the tax system writes it -> the ledger's channel (first match wins).
CHANNELS = (
    ("微信", Payment.Channel.WECHAT),
    ("支付宝", Payment.Channel.ALIPAY),
    ("渝快办", Payment.Channel.YUKUAIBAN),
    ("云闪付", Payment.Channel.UNIONPAY),
    ("银联", Payment.Channel.UNIONPAY),
    ("农商", Payment.Channel.CQRCB_APP),
    ("邮政", Payment.Channel.POST_OFFICE),
    ("POS", Payment.Channel.VILLAGE_POS),
)

KINDS = {
    "paid_not_registered": "已缴费但未参保登记（已按税务明细登记参保）",
    "amount_mismatch": "缴费金额与核定金额不符",
    "unknown_id": "身份证号不在本辖区参保人中",
    "paid_twice": "重复缴费",
    "cash_and_online": "已登记现金缴费，又在线上缴费",
    "refused": "不能登记",
    "bad_row": "数据有误",
}


@dataclass
class Discrepancy:
    row: int
    kind: str
    name: str
    masked_id_number: str
    amount: str
    voucher_number: str
    detail: str

    @property
    def label(self) -> str:
        return KINDS[self.kind]


@dataclass
class TaxImportReport:
    source: str
    rows: int = 0
    recorded: int = 0
    already: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    record_id: int | None = None

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.discrepancies:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "recorded": self.recorded,
            "already": self.already,
            "counts": self.counts(),
            "discrepancies": [{**asdict(d), "label": d.label} for d in self.discrepancies],
            "record_id": self.record_id,
        }

    def summary(self) -> str:
        parts = [
            f"明细{self.rows}行",
            f"新登记缴费{self.recorded}笔",
            f"此前已登记{self.already}笔",
        ]
        parts += [f"{KINDS[k]}{n}行" for k, n in self.counts().items()]
        return "，".join(parts)


@dataclass
class _Row:
    row: int
    name: str
    id_number: str
    amount: Decimal
    channel: str
    paid_at: dt.datetime
    voucher: str


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _moment(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(12))
    else:
        text = _text(value).replace("/", "-").replace("年", "-").replace("月", "-").rstrip("日")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if len(text) <= 10:
            moment = moment.replace(hour=12)  # a date alone: noon of that day
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _channel(text: str) -> str:
    return next((c for key, c in CHANNELS if key in text), Payment.Channel.TAX_BUREAU)


def _parse(table: Any, report: TaxImportReport) -> list[_Row]:
    missing = [k for k in ("amount", "paid_at", "voucher_number") if k not in table.columns]
    if missing:
        names = {"amount": "缴费金额", "paid_at": "缴费时间", "voucher_number": "电子税票号码"}
        raise ApplicationError(
            "missing_column",
            f"{table.source}：缺少列：" + "、".join(names[k] for k in missing),
            columns=missing,
        )
    rows = []
    for number, cells in table.rows:
        if not any(_text(c) for c in cells):
            continue
        report.rows += 1
        name = _text(table.value(cells, "name") or table.value(cells, "payer"))
        id_number = _text(table.value(cells, "id_number")).upper()
        voucher = _text(table.value(cells, "voucher_number"))
        raw_amount = _text(table.value(cells, "amount"))
        try:
            amount = Decimal(raw_amount).quantize(Decimal("0.01"))
        except InvalidOperation:
            amount = None
        paid_at = _moment(table.value(cells, "paid_at"))
        problem = (
            "缺少电子税票号码" if not voucher
            else "缴费金额无效" if amount is None or amount < 0
            else "缴费时间无效" if paid_at is None
            else ""
        )  # fmt: skip
        if problem:
            report.discrepancies.append(
                Discrepancy(
                    number, "bad_row", name, mask_id_number(id_number), raw_amount, voucher, problem
                )  # fmt: skip
            )
            continue
        assert amount is not None and paid_at is not None
        rows.append(
            _Row(
                number,
                name,
                id_number,
                amount,
                _channel(_text(table.value(cells, "channel"))),
                paid_at,
                voucher,
            )  # fmt: skip
        )
    return rows


def tax_payments_import(
    *, actor: Any, path: str | Path, name: str | None = None
) -> TaxImportReport:
    """Import the tax system's payment details at ``path`` for the actor's township.

    Each row is matched by ID number to a person in the actor's scope and to their enrollment
    of the campaign's benefit year; a row that matches is recorded as a payment (back-dated to
    the tax system's paid-at, the file named as the reason; a person not yet enrolled is
    enrolled by the same transaction, at the tier whose quote is the amount paid). Rows that
    do not match, or would pay twice, are listed as discrepancies and not recorded. The same
    file again records nothing (each voucher number is recorded once).
    """
    require_office(actor, "导入税务缴费明细")
    township = actor_township(actor)
    policy_id = campaign_policy(actor=actor)
    if township is None or policy_id is None:
        raise ApplicationError("office_required", "导入税务缴费明细须由一个街道的社保所办理")
    path = Path(path)
    source = name or path.name
    data = path.read_bytes()
    table = read_table(path)
    report = TaxImportReport(source=source)
    rows = _parse(table, report)
    engine = get_policy(policy_id)
    scope = scope_of(actor)
    numbers = {r.id_number for r in rows}
    persons = {
        number: p
        for number, p in persons_by_id_number(
            numbers, among=Person.objects.select_related("hukou_village")
        ).items()
        if scope.sees_person(p)
    }
    enrollments = {
        e.person_id: e
        for e in Enrollment.objects.filter(
            person__in=persons.values(), benefit_year=engine.benefit_year
        )
    }
    live = {
        p.enrollment.person_id: p
        for p in live_payments()
        .filter(enrollment__in=enrollments.values())
        .select_related("enrollment")
    }
    reason = f"税务缴费明细 {source}"
    items: list[tuple[_Row, PaymentItem]] = []
    paying: dict[int, _Row] = {}
    vouchers: set[str] = set()
    for row in rows:

        def note(kind: str, detail: str, row: _Row = row) -> None:
            report.discrepancies.append(
                Discrepancy(
                    row.row,
                    kind,
                    row.name,
                    mask_id_number(row.id_number),
                    f"{row.amount:.2f}",
                    row.voucher,
                    detail,
                )  # fmt: skip
            )

        if row.voucher in vouchers:
            note("bad_row", f"电子税票号码{row.voucher}在文件中重复")
            continue
        vouchers.add(row.voucher)
        person = persons.get(row.id_number)
        if person is None:
            note("unknown_id", "本辖区没有此身份证号的参保人")
            continue
        paid = live.get(person.pk)
        if paid is not None:
            if paid.receipt_number == row.voucher:
                report.already += 1
            elif paid.channel == Payment.Channel.CASH:
                note("cash_and_online", f"已于{_day(paid.paid_at)}登记现金缴费{paid.amount}元")
            else:
                note("paid_twice", f"已于{_day(paid.paid_at)}登记{paid.get_channel_display()}"
                                   f"缴费{paid.amount}元")  # fmt: skip
            continue
        if person.pk in paying:
            note("paid_twice", f"同一文件第{paying[person.pk].row}行已缴费")
            continue
        enrollment = enrollments.get(person.pk)
        tier = _tier_for(person, engine, enrollment, row)
        if tier is None:
            due = _due(person, engine, enrollment, row)
            note("amount_mismatch", f"应缴{due}，实缴{row.amount:.2f}元")
            continue
        if enrollment is None:
            note("paid_not_registered", f"已按{'一档' if tier == 1 else '二档'}登记参保并缴费")
        paying[person.pk] = row
        items.append(
            (
                row,
                PaymentItem(
                    person=person,
                    policy_id=engine.id,
                    tier=tier,
                    amount=row.amount,
                    channel=row.channel,
                    paid_at=row.paid_at,
                    receipt_number=row.voucher,
                    idempotency_key=KEY_PREFIX + row.voucher,
                    population=enrollment.population
                    if enrollment
                    else Enrollment.Population.RESIDENT,
                    backdate_reason=reason,
                ),
            )
        )
    report.recorded = _record(actor, items, report)
    report.discrepancies.sort(key=lambda d: d.row)
    with transaction.atomic():
        record = TaxImport.objects.create(
            township=township,
            file_name=source[:200],
            sha256=hashlib.sha256(data).hexdigest(),
            rows=report.rows,
            recorded=report.recorded,
            already=report.already,
            discrepancies=report.to_dict()["discrepancies"],
            imported_by=actor,
        )
        audit_record(actor=actor, action="tax_import.run", instance=record, after=snapshot(record))
    report.record_id = record.pk
    return report


def _day(moment: dt.datetime) -> str:
    return timezone.localtime(moment).date().isoformat()


def _quotes(
    person: Person, engine: Any, enrollment: Enrollment | None, row: _Row
) -> dict[int, Any]:
    population = enrollment.population if enrollment else Enrollment.Population.RESIDENT
    day = timezone.localtime(row.paid_at).date()
    quotes = {}
    for tier in (1, 2):
        try:
            quotes[tier] = _quote(
                person=person, policy=engine, tier=tier, population=population, on=day
            )
        except ApplicationError:
            continue
    return quotes


def _tier_for(person: Person, engine: Any, enrollment: Enrollment | None, row: _Row) -> int | None:
    """The enrollment's tier if the amount is its quote, else the other tier whose quote it
    is (the resident chose it when paying), else None."""
    quotes = _quotes(person, engine, enrollment, row)
    order = (enrollment.tier, 3 - enrollment.tier) if enrollment else (1, 2)
    return next((t for t in order if t in quotes and quotes[t].personal == row.amount), None)


def _due(person: Person, engine: Any, enrollment: Enrollment | None, row: _Row) -> str:
    quotes = _quotes(person, engine, enrollment, row)
    names = {1: "一档", 2: "二档"}
    return "或".join(f"{names[t]}{q.personal}元" for t, q in sorted(quotes.items())) or "（无）"


def _record(actor: Any, items: list[tuple[_Row, PaymentItem]], report: TaxImportReport) -> int:
    """Record the matched rows; a row the ledger refuses is listed and the rest retried."""
    pending = list(items)
    while pending:
        try:
            payment_record_many(actor=actor, items=[item for _, item in pending])
        except ApplicationError as error:
            index = int(error.params.get("row", 0)) - 1
            if not 0 <= index < len(pending):
                raise
            row, _ = pending.pop(index)
            message = error.message.split("：", 1)[-1]
            report.discrepancies.append(
                Discrepancy(
                    row.row,
                    "refused",
                    row.name,
                    mask_id_number(row.id_number),
                    f"{row.amount:.2f}",
                    row.voucher,
                    message,
                )  # fmt: skip
            )
            continue
        return len(pending)
    return 0


def tax_import_list(*, actor: Any) -> Any:
    """The tax lists imported for the townships in ``actor``'s scope, newest first."""
    townships = scope_of(actor).villages().values("township_id")
    return TaxImport.objects.filter(township__in=townships).select_related("imported_by")
