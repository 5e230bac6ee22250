"""Reads for fund safety, within the actor's scope: each collector's cash against the
township's limits (双限报解)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from yibao.collection.models import Payment, Remittance, StaffMember
from yibao.collection.selectors import (
    CollectorCash,
    cash_totals,
    collector_cash,
    collectors_in_scope,
)
from yibao.core import clock
from yibao.core.access import not_found, scope_of
from yibao.registry.models import Township, Village

from .models import DEFAULT_LIMIT_AMOUNT, DEFAULT_LIMIT_DAYS, CashLimit, DailyClose


@dataclass(frozen=True, slots=True)
class Limits:
    """A township's two limits; ``default`` when it has set none (the product's defaults)."""

    amount: Decimal
    days: int
    default: bool

    @property
    def source(self) -> str:
        if self.default:
            return "系统默认值（文件未规定具体限额、限时，街道可在“现金双限”页修改）"
        return "街道设定"


def township_limits(township: Township | None) -> Limits:
    """The cash limits of ``township`` (the defaults when it set none)."""
    row = CashLimit.objects.filter(township=township).first() if township is not None else None
    if row is None:
        return Limits(DEFAULT_LIMIT_AMOUNT, DEFAULT_LIMIT_DAYS, default=True)
    return Limits(row.amount, row.days, default=False)


def collector_township(collector: StaffMember) -> Township | None:
    """The township a collector works in: their profile's, else their first village's."""
    if collector.township_id is not None:
        return collector.township
    village = (
        Village.objects.filter(collectors=collector).select_related("township").order_by("pk")
    ).first()
    return village.township if village is not None else None


def actor_township(actor: Any) -> Township | None:
    """The township of the actor's scope: theirs, or that of their villages (one only)."""
    scope = scope_of(actor)
    if scope.township_id is not None:
        return Township.objects.filter(pk=scope.township_id).first()
    ids = set(scope.villages().values_list("township_id", flat=True).distinct()[:2])
    return Township.objects.filter(pk=ids.pop()).first() if len(ids) == 1 else None


@dataclass(frozen=True, slots=True)
class CashStatus:
    """One collector's cash against their township's limits."""

    cash: CollectorCash
    limits: Limits
    age_days: int | None  # days since the oldest cash held was taken (None: holds none)
    over_amount: bool  # held 超过 the amount limit (the limit itself is allowed)
    over_days: bool  # oldest cash held 超过 the days limit

    @property
    def over(self) -> bool:
        return self.over_amount or self.over_days


def age_in_days(since: dt.datetime | None, on: dt.date) -> int | None:
    """Whole days from the day ``since`` (Asia/Shanghai) to ``on``; taken today is 0."""
    if since is None:
        return None
    return (on - timezone.localtime(since).date()).days


def cash_status(*, actor: Any, on: dt.date | None = None) -> list[CashStatus]:
    """Every collector in ``actor``'s scope with held cash, its age and the limits; those
    over a limit first (then the most cash held)."""
    day = on or clock.today()
    rows = collector_cash(actor=actor, on=on)
    collectors = {
        c.pk: c
        for c in StaffMember.objects.filter(pk__in=[r.collector_id for r in rows]).select_related(
            "township"
        )
    }
    # collector_township for all of them in two queries: their profile's township, else
    # their first village's.
    first_village: dict[int, int] = {}
    for collector_id, township_id in (
        Village.objects.filter(collectors__in=list(collectors))
        .order_by("pk")
        .values_list("collectors", "township_id")
    ):
        first_village.setdefault(collector_id, township_id)
    townships = Township.objects.in_bulk(set(first_village.values()))
    limits: dict[int | None, Limits] = {}
    result = []
    for row in rows:
        collector = collectors[row.collector_id]
        township = collector.township if collector.township_id is not None else None
        if township is None and row.collector_id in first_village:
            township = townships[first_village[row.collector_id]]
        key = township.pk if township is not None else None
        if key not in limits:
            limits[key] = township_limits(township)
        result.append(status_of(row, limits[key], day))
    return sorted(result, key=lambda s: (not s.over, -s.cash.held, s.cash.username))


def status_of(row: CollectorCash, limits: Limits, on: dt.date) -> CashStatus:
    age = age_in_days(row.held_since, on) if row.held > 0 else None
    return CashStatus(
        cash=row,
        limits=limits,
        age_days=age,
        over_amount=row.held > limits.amount,
        over_days=age is not None and age > limits.days,
    )


def collector_cash_status(
    *, actor: Any, collector: StaffMember, on: dt.date | None = None
) -> CashStatus | None:
    """``collector``'s cash against the limits (None for an office account, which holds no
    cash); refused as not found unless ``actor`` sees the collector."""
    scope_of(actor).require_collector(collector)
    rows = cash_status(actor=actor, on=on)
    return next((r for r in rows if r.cash.collector_id == collector.pk), None)


def _day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, start + dt.timedelta(days=1)


def cash_payments(*, actor: Any, collector: StaffMember, day: dt.date) -> QuerySet[Payment]:
    """``collector``'s cash entries dated ``day`` (payments and reversals), newest first."""
    scope_of(actor).require_collector(collector)
    start, end = _day_range(day)
    return (
        Payment.objects.filter(
            collector=collector, channel=Payment.Channel.CASH, paid_at__gte=start, paid_at__lt=end
        )
        .select_related("enrollment__person")
        .order_by("-paid_at", "-id")
    )


def remittance_list(*, actor: Any, collector: StaffMember) -> QuerySet[Remittance]:
    """``collector``'s remittances, newest first."""
    scope_of(actor).require_collector(collector)
    return Remittance.objects.filter(collector=collector).order_by("-remitted_at", "-id")


def cash_warning(*, actor: Any, adding: Decimal = Decimal(0)) -> str:
    """What the desk says before a collector takes more cash: over a limit already, or this
    payment (``adding`` yuan) would take them over the amount limit; empty when neither."""
    collector = StaffMember.objects.filter(user=actor, role=StaffMember.Role.COLLECTOR).first()
    if collector is None:
        return ""
    status = collector_cash_status(actor=actor, collector=collector)
    if status is None:
        return ""
    held, limits = status.cash.held, status.limits
    parts = []
    if status.over_amount:
        parts.append(f"您手中现金{held:,.2f}元，已超过限额{limits.amount:,.2f}元")
    elif adding > 0 and held + adding > limits.amount:
        parts.append(
            f"再收现金{adding:,.2f}元后手中现金将达{held + adding:,.2f}元，"
            f"超过限额{limits.amount:,.2f}元"
        )
    if status.over_days:
        parts.append(f"最早一笔未解缴现金已持有{status.age_days}天，超过限时{limits.days}天")
    if not parts:
        return ""
    return "；".join(parts) + "。收现金前请先解缴入库（双限报解）。"


# --- daily close (日结) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One collector's day: what came in and went out, and the cash held at its end."""

    collector_id: int
    name: str
    day: dt.date
    held_opening: Decimal  # held at the end of the day before
    cash_count: int  # cash payments (zero declarations not counted)
    cash_taken: Decimal
    zero_declarations: int  # zero declarations recorded, any channel
    reversal_count: int  # reversals dated this day of the collector's payments, any channel
    reversed_cash: Decimal  # cash handed back by those reversals (positive)
    remitted: Decimal
    held: Decimal  # held at the end of the day

    @property
    def balances(self) -> bool:
        """Opening + taken - handed back - remitted = held at close."""
        return self.held_opening + self.cash_taken - self.reversed_cash - self.remitted == self.held


def day_figures(*, actor: Any, collector: StaffMember, day: dt.date) -> DayFigures:
    """``collector``'s figures for ``day`` (Asia/Shanghai), read from payments and remittances."""
    scope_of(actor).require_collector(collector)
    start, end = _day_range(day)
    entries = Payment.objects.filter(collector=collector, paid_at__gte=start, paid_at__lt=end)
    cash = Payment.Channel.CASH
    sums = entries.aggregate(
        cash_count=Count("pk", filter=Q(channel=cash, reverses__isnull=True, amount__gt=0)),
        cash_taken=Sum("amount", filter=Q(channel=cash, reverses__isnull=True)),
        zero=Count("pk", filter=Q(reverses__isnull=True, amount=0)),
        reversals=Count("pk", filter=Q(reverses__isnull=False)),
        reversed_cash=Sum("amount", filter=Q(channel=cash, reverses__isnull=False)),
    )
    remitted = Remittance.objects.filter(
        collector=collector, remitted_at__gte=start, remitted_at__lt=end
    ).aggregate(s=Sum("amount"))["s"]
    held = _held_at(collector, end)
    return DayFigures(
        collector_id=collector.pk,
        name=collector.user.get_full_name() or collector.user.get_username(),
        day=day,
        held_opening=_held_at(collector, start),
        cash_count=sums["cash_count"],
        cash_taken=_cents(sums["cash_taken"]),
        zero_declarations=sums["zero"],
        reversal_count=sums["reversals"],
        reversed_cash=_cents(abs(sums["reversed_cash"] or Decimal(0))),
        remitted=_cents(remitted),
        held=held,
    )


def _cents(value: Decimal | None) -> Decimal:
    # Adding 0.00 turns a negative zero into 0.00.
    return (value or Decimal(0)).quantize(Decimal("0.01")) + Decimal("0.00")


def _held_at(collector: StaffMember, until: dt.datetime) -> Decimal:
    taken, remitted = cash_totals([collector.pk], until=until)[collector.pk]
    return _cents(taken - remitted)


def daily_close_list(
    *, actor: Any, collector: StaffMember | None = None, unacknowledged: bool = False
) -> QuerySet[DailyClose]:
    """Closed days of the collectors ``actor`` sees (or of one), newest first."""
    closes = DailyClose.objects.filter(collector__in=collectors_in_scope(actor)).select_related(
        "collector__user", "acknowledged_by", "closed_by"
    )
    if collector is not None:
        closes = closes.filter(collector=collector)
    if unacknowledged:
        closes = closes.filter(acknowledged_at__isnull=True)
    return closes.order_by("-day", "collector_id")


def access_daily_close(actor: Any, close_id: int) -> DailyClose:
    """The closed day ``close_id`` if ``actor`` sees its collector (else not found)."""
    close = (
        DailyClose.objects.filter(pk=close_id)
        .select_related("collector__user", "acknowledged_by", "closed_by")
        .first()
    )
    if close is None or not scope_of(actor).sees_collector(close.collector):
        raise not_found(f"编号为{close_id}的日结", close_id=close_id)
    return close


def closed_day_entries(*, actor: Any, close: DailyClose) -> QuerySet[Payment]:
    """The payments and reversals of a closed day, in time order (the printed list)."""
    scope_of(actor).require_collector(close.collector)
    start, end = _day_range(close.day)
    return (
        Payment.objects.filter(collector=close.collector, paid_at__gte=start, paid_at__lt=end)
        .select_related("enrollment__person", "enrollment__village")
        .order_by("paid_at", "id")
    )
