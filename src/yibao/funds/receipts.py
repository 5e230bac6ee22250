"""现金收缴凭证: numbered receipt ranges issued by the township to collectors, the next number
a cash payment takes, voided receipts, and the report of gaps, duplicates and numbers outside
a collector's range (Bishan 九（五）: a receipt for every cash payment)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from yibao.collection.models import Payment, StaffMember
from yibao.collection.selectors import collectors_in_scope
from yibao.core.access import not_found, require_office, scope_of
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError

from .models import ReceiptBook, ReceiptVoid
from .selectors import collector_township

PREFIX = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff-]{0,16}$")
GAPS_SHOWN = 50


# --- reads --------------------------------------------------------------------------------


def receipt_book_list(*, actor: Any, collector: StaffMember | None = None) -> QuerySet[ReceiptBook]:
    """Receipt books of the collectors ``actor`` sees (or of one), in issue order."""
    books = ReceiptBook.objects.filter(collector__in=collectors_in_scope(actor))
    if collector is not None:
        books = books.filter(collector=collector)
    return books.select_related("collector__user").order_by("issued_at", "id")


def access_receipt_book(actor: Any, book_id: int) -> ReceiptBook:
    book = ReceiptBook.objects.filter(pk=book_id).select_related("collector__user").first()
    if book is None or not scope_of(actor).sees_collector(book.collector):
        raise not_found(f"编号为{book_id}的收据本", book_id=book_id)
    return book


def _number_in(book: ReceiptBook, receipt: str | None) -> int | None:
    """The number of ``receipt`` in ``book``'s series (prefix then digits), else None."""
    if not receipt or not receipt.startswith(book.prefix):
        return None
    digits = receipt[len(book.prefix) :]
    return int(digits) if digits.isdigit() else None


def _taken(book: ReceiptBook) -> set[int]:
    """Numbers of the book used by a payment (any collector) or voided."""
    used = Payment.objects.filter(
        receipt_number__startswith=book.prefix, reverses__isnull=True
    ).values_list("receipt_number", flat=True)
    numbers = {n for n in (_number_in(book, r) for r in used) if n is not None}
    numbers |= set(book.voids.values_list("number", flat=True))
    return {n for n in numbers if book.first <= n <= book.last}


def receipt_next(*, actor: Any, count: int = 1) -> list[str]:
    """The next ``count`` receipt numbers of ``actor``'s books (a village collector's), in
    issue order: each book continues after its highest number used or voided. Empty when the
    actor has no book with numbers left (the desk then takes a receipt number as typed)."""
    collector = StaffMember.objects.filter(user=actor, role=StaffMember.Role.COLLECTOR).first()
    if collector is None:
        return []
    numbers: list[str] = []
    for book in ReceiptBook.objects.filter(collector=collector).order_by("issued_at", "id"):
        taken = _taken(book)
        start = max(taken, default=book.first - 1) + 1
        for n in range(start, book.last + 1):
            if len(numbers) == count:
                return numbers
            numbers.append(book.number(n))
    return numbers if len(numbers) == count else []


@dataclass
class BookReport:
    book: ReceiptBook
    used: int
    voided: int
    next_number: str | None
    gaps: list[str] = field(default_factory=list)  # skipped below the highest number taken
    duplicates: list[str] = field(default_factory=list)  # used and also voided


@dataclass
class OutsideReceipt:
    payment_id: int
    collector: str
    receipt_number: str
    person: str
    reason: str


@dataclass
class ReceiptReport:
    books: list[BookReport]
    outside: list[OutsideReceipt]


def receipt_report(*, actor: Any) -> ReceiptReport:
    """Per book: used, voided, next, gaps and duplicates; and every cash payment of a
    collector who holds books whose receipt number is not in one of their own books."""
    books = list(receipt_book_list(actor=actor))
    reports = []
    for book in books:
        used_rows = Payment.objects.filter(
            receipt_number__startswith=book.prefix, reverses__isnull=True
        ).values_list("receipt_number", flat=True)
        used = [n for n in (_number_in(book, r) for r in used_rows) if n is not None]
        used = [n for n in used if book.first <= n <= book.last]
        voided = set(book.voids.values_list("number", flat=True))
        taken = set(used) | voided
        high = max(taken, default=book.first - 1)
        gaps = [book.number(n) for n in range(book.first, high) if n not in taken]
        counts: dict[int, int] = {}
        for n in used:
            counts[n] = counts.get(n, 0) + 1
        duplicates = sorted(
            {book.number(n) for n, c in counts.items() if c > 1}
            | {book.number(n) for n in set(used) & voided}
        )
        reports.append(
            BookReport(
                book=book,
                used=len(set(used)),
                voided=len(voided),
                next_number=book.number(high + 1) if high < book.last else None,
                gaps=gaps,
                duplicates=duplicates,
            )
        )
    by_collector: dict[int, list[ReceiptBook]] = {}
    for book in books:
        by_collector.setdefault(book.collector_id, []).append(book)
    outside = []
    payments = Payment.objects.filter(
        collector__in=list(by_collector), channel=Payment.Channel.CASH, reverses__isnull=True
    ).select_related("collector__user", "enrollment__person")
    for payment in payments.filter(~Q(amount=0)):
        own = by_collector[payment.collector_id]
        if any(
            (n := _number_in(b, payment.receipt_number)) is not None and b.first <= n <= b.last
            for b in own
        ):
            continue
        reason = "无票据号" if not payment.receipt_number else "不在该征收员领用的号段内"
        outside.append(
            OutsideReceipt(
                payment_id=payment.pk,
                collector=payment.collector.user.get_username(),
                receipt_number=payment.receipt_number or "",
                person=payment.enrollment.person.label,
                reason=reason,
            )
        )
    return ReceiptReport(books=reports, outside=outside)


# --- writes -------------------------------------------------------------------------------


@transaction.atomic
def receipt_book_issue(
    *, actor: Any, collector: StaffMember, prefix: str, first: int, last: int, width: int = 8
) -> ReceiptBook:
    """The township issues receipts ``prefix`` + ``first``..``last`` to ``collector``; a range
    that overlaps one issued before under the same prefix is refused."""
    collector = StaffMember.objects.select_for_update().select_related("user").get(pk=collector.pk)
    scope_of(actor).require_collector(collector, write=True)
    require_office(actor, "发放收据本")
    prefix = prefix.strip()
    if collector.role != StaffMember.Role.COLLECTOR:
        raise ApplicationError("invalid_receipt_book", "收据本只能发放给村（社区）征收员")
    if not PREFIX.match(prefix):
        raise ApplicationError(
            "invalid_receipt_book", "字头只能由字母、数字、汉字或“-”组成，至多16个字符",
            field="prefix",
        )  # fmt: skip
    if not (0 < first <= last) or len(str(last)) > width or last - first >= 100_000:
        raise ApplicationError(
            "invalid_receipt_book",
            f"号段须为1至{'9' * width}之间、起始不大于终止的整数，且一本不超过100000号",
            field="first",
        )
    clash = ReceiptBook.objects.filter(prefix=prefix, first__lte=last, last__gte=first).first()
    if clash is not None:
        raise ApplicationError(
            "receipt_range_overlap",
            f"号段{prefix}{first}–{last}与已发放的{clash}重叠",
            field="first",
        )
    township = collector_township(collector)
    if township is None:
        raise ApplicationError("invalid_receipt_book", "该征收员没有所属街道")
    book = ReceiptBook.objects.create(
        township=township,
        collector=collector,
        prefix=prefix,
        first=first,
        last=last,
        width=width,
        issued_by=actor,
    )
    audit_record(actor=actor, action="receipt_book.issue", instance=book, after=snapshot(book))
    return book


@transaction.atomic
def receipt_void(*, actor: Any, book: ReceiptBook, number: int, reason: str) -> ReceiptVoid:
    """Void receipt ``number`` of ``book`` (spoiled, torn, mis-written) with the reason; the
    book's collector or an office over them. A number already used by a payment is refused
    (reverse the payment instead)."""
    book = ReceiptBook.objects.select_for_update().select_related("collector").get(pk=book.pk)
    scope_of(actor).require_collector(book.collector, write=True)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("reason_required", "作废收据须填写原因", field="reason")
    if not book.first <= number <= book.last:
        raise ApplicationError(
            "receipt_outside_book", f"{book.number(number)}不在收据本{book}的号段内",
            field="number",
        )  # fmt: skip
    receipt = book.number(number)
    if Payment.objects.filter(receipt_number=receipt, reverses__isnull=True).exists():
        raise ApplicationError(
            "receipt_used", f"收据{receipt}已用于一笔缴费，不能作废；如需更正请冲正该缴费",
            field="number",
        )  # fmt: skip
    if book.voids.filter(number=number).exists():
        raise ApplicationError("receipt_voided", f"收据{receipt}已作废", field="number")
    void = ReceiptVoid.objects.create(
        book=book, number=number, reason=reason[:200], recorded_by=actor
    )
    audit_record(actor=actor, action="receipt.void", instance=void, after=snapshot(void))
    return void
