"""Reads from the collection ledger, always filtered by the actor's village scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from yibao.core.access import out_of_scope, require_village, villages_in_scope
from yibao.registry.models import Person, Village

from .models import Collector, Enrollment, Payment
from .services import cash_on_hand

ZERO = Decimal("0")


def enrollment_list(
    *,
    actor: Any,
    benefit_year: int,
    village: Village | None = None,
    status: str | None = None,
) -> QuerySet[Enrollment]:
    queryset = Enrollment.objects.filter(
        benefit_year=benefit_year, village__in=villages_in_scope(actor)
    ).select_related("person", "village")
    if village is not None:
        queryset = queryset.filter(village=village)
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset.order_by("village_id", "id")


def payment_list(
    *, actor: Any, benefit_year: int, village: Village | None = None
) -> QuerySet[Payment]:
    queryset = Payment.objects.filter(
        enrollment__benefit_year=benefit_year,
        enrollment__village__in=villages_in_scope(actor),
    ).select_related("enrollment__person", "enrollment__village", "collector__user")
    if village is not None:
        queryset = queryset.filter(enrollment__village=village)
    return queryset.order_by("id")


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One line of a village's ledger (台账): a person and their enrollment, if any."""

    person_id: int
    name: str
    masked_id_number: str
    phone: str
    household: str
    status: str  # 未登记 / 未缴费 / 已缴费 / 已死亡（待核）
    tier: int | None
    identity: str
    standard: Decimal | None
    subsidy: Decimal | None
    personal: Decimal | None
    paid: Decimal  # net of reversals
    channel: str
    paid_at: dt.datetime | None
    coverage_start: dt.date | None
    coverage_end: dt.date | None
    zero_declaration: bool


def village_ledger(*, actor: Any, village: Village, benefit_year: int) -> list[LedgerRow]:
    """The ledger of ``village`` for ``benefit_year``: everyone registered there (alive or
    enrolled) and everyone enrolled there, with what they owe and paid; ID numbers masked."""
    require_village(actor, village)
    enrollments = {
        e.person_id: e
        for e in Enrollment.objects.filter(benefit_year=benefit_year, village=village)
    }
    payments: dict[int, list[Payment]] = {}
    for payment in Payment.objects.filter(enrollment__in=enrollments.values()).order_by("id"):
        payments.setdefault(payment.enrollment_id, []).append(payment)
    persons = (
        Person.objects.filter(
            Q(hukou_village=village, status=Person.Status.ALIVE) | Q(pk__in=list(enrollments))
        )
        .select_related("household")
        .order_by("household_id", "id")
    )
    rows = []
    for person in persons:
        enrollment = enrollments.get(person.pk)
        entries = payments.get(enrollment.pk, []) if enrollment else []
        effective = [p for p in entries if p.reverses_id is None]
        reversed_ids = {p.reverses_id for p in entries if p.reverses_id is not None}
        live = [p for p in effective if p.pk not in reversed_ids]
        last = live[-1] if live else None
        rows.append(
            LedgerRow(
                person_id=person.pk,
                name=person.name,
                masked_id_number=person.masked_id_number,
                phone=person.phone,
                household=str(person.household) if person.household else "",
                status=enrollment.get_status_display() if enrollment else "未登记",
                tier=enrollment.tier if enrollment else None,
                identity=enrollment.identity_name if enrollment else "",
                standard=enrollment.standard if enrollment else None,
                subsidy=enrollment.subsidy if enrollment else None,
                personal=enrollment.personal if enrollment else None,
                paid=sum((p.amount for p in entries), ZERO),
                channel=last.get_channel_display() if last else "",
                paid_at=last.paid_at if last else None,
                coverage_start=enrollment.coverage_start if enrollment else None,
                coverage_end=enrollment.coverage_end if enrollment else None,
                zero_declaration=bool(last and last.is_zero_declaration),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class CollectionTotals:
    enrolled: int
    paid: int
    zero_declarations: int
    amount: Decimal  # net of reversals


def collection_totals(
    *, actor: Any, benefit_year: int, village: Village | None = None
) -> CollectionTotals:
    """Counts and money for ``benefit_year`` within ``actor``'s scope (or one village)."""
    enrollments = enrollment_list(actor=actor, benefit_year=benefit_year, village=village)
    counts = enrollments.aggregate(
        enrolled=Count("id"),
        paid=Count("id", filter=Q(status=Enrollment.Status.PAID)),
        zero=Count("id", filter=Q(status=Enrollment.Status.PAID, personal=ZERO)),
    )
    amount = payment_list(actor=actor, benefit_year=benefit_year, village=village).aggregate(
        total=Sum("amount")
    )["total"]
    return CollectionTotals(
        enrolled=counts["enrolled"],
        paid=counts["paid"],
        zero_declarations=counts["zero"],
        amount=amount or ZERO,
    )


def collector_cash_on_hand(*, actor: Any, collector: Collector) -> Decimal:
    """Cash ``collector`` holds now: cash taken net of reversals, minus remittances."""
    if not (
        getattr(actor, "pk", None) == collector.user_id
        or villages_in_scope(actor).filter(pk__in=collector.villages.all()).exists()
        or getattr(actor, "is_superuser", False)
    ):
        raise out_of_scope(actor, "该征收员的现金")
    return cash_on_hand(collector)
