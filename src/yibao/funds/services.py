"""Writes for fund safety: keyword-only, ``actor=``, atomic, audited, scope-checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from yibao.collection.models import StaffMember
from yibao.core import clock
from yibao.core.access import require_office, require_township, scope_of
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.core.prepared import Bound, Prepared
from yibao.registry.models import Township

from .models import CashLimit, DailyClose
from .selectors import day_figures


def _limit_amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        amount = Decimal(-1)
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ApplicationError(
            "invalid_limit", f"现金限额“{value}”须为大于0、以分为单位的金额", field="amount"
        )
    return amount


@transaction.atomic
def cash_limit_set(*, actor: Any, township: Township, amount: Any, days: Any) -> CashLimit:
    """Set ``township``'s 双限报解: the most cash (yuan) and the most days a collector may
    hold cash before remitting it. A township office (or the district) only."""
    require_township(actor, township)
    require_office(actor, "设置现金双限")
    amount = _limit_amount(amount)
    try:
        days = int(str(days).strip())
    except ValueError:
        days = 0
    if not 1 <= days <= 366:
        raise ApplicationError("invalid_limit", "现金限时须为1至366天", field="days")
    limit = CashLimit.objects.select_for_update().filter(township=township).first()
    before = snapshot(limit) if limit is not None else None
    if limit is None:
        limit = CashLimit(township=township)
    limit.amount, limit.days = amount, days
    limit.updated_by = actor if getattr(actor, "pk", None) is not None else None
    limit.save()
    audit_record(
        actor=actor, action="cash_limit.set", instance=limit, before=before, after=snapshot(limit)
    )
    return limit


# --- daily close (日结) -------------------------------------------------------------------


# Asked by every payment: compiled once (yibao.core.prepared); the refusal reads the rest.
_CLOSED = Prepared(
    lambda collector_id, days: DailyClose.objects.filter(
        collector_id=collector_id, day__in=days
    ).values_list("pk")[:1]
)


def open_day_read(collector_id: int, day: dt.date) -> Bound:
    """The query :func:`refuse_closed_days` asks for one collector and day, to be run with
    others (:func:`yibao.core.prepared.together`): no rows, the day is open."""
    return _CLOSED.bind(collector_id, [day])


def refuse_closed_days(entries: Iterable[tuple[int | None, dt.datetime]], *, what: str) -> None:
    """Refuse ``day_closed`` when any (collector id, time) falls on a day the collector has
    closed: a closed day changes only through a reversal on a later day. Called by the
    ledger's writes (payments, reversals, remittances) before they insert anything."""
    days: dict[int, set[dt.date]] = {}
    for collector_id, at in entries:
        if collector_id is not None:
            days.setdefault(collector_id, set()).add(timezone.localtime(at).date())
    for collector_id, wanted in days.items():
        if not _CLOSED(collector_id, sorted(wanted)):
            continue
        closed = (
            DailyClose.objects.filter(collector_id=collector_id, day__in=wanted)
            .select_related("collector__user")
            .order_by("day")
            .first()
        )
        if closed is not None:
            user = closed.collector.user
            raise ApplicationError(
                "day_closed",
                f"征收员{user.get_full_name() or user.get_username()}{closed.day:%Y年%-m月%-d日}"
                f"已日结，不能再登记该日的{what}；更正请在以后的日期冲正",
                day=closed.day.isoformat(),
            )


@transaction.atomic
def daily_close(*, actor: Any, collector: StaffMember, day: dt.date) -> DailyClose:
    """日结: ``collector`` closes ``day`` (today or earlier) with its figures as they stand.

    Only the collector closes their own day; nothing dated on it may be written for them
    afterwards (:func:`refuse_closed_days`). Closing a closed day again is refused."""
    collector = StaffMember.objects.select_for_update().select_related("user").get(pk=collector.pk)
    scope_of(actor).require_collector(collector, write=True)
    if collector.role != StaffMember.Role.COLLECTOR or collector.user_id != getattr(
        actor, "pk", None
    ):
        raise ApplicationError("collector_only", "日结须由征收员本人办理")
    if day > clock.today():
        raise ApplicationError(
            "day_not_over", f"{day:%Y年%-m月%-d日}还未到，不能日结", day=day.isoformat()
        )
    if DailyClose.objects.filter(collector=collector, day=day).exists():
        raise ApplicationError(
            "day_closed", f"{day:%Y年%-m月%-d日}已日结，不能重复日结", day=day.isoformat()
        )
    figures = day_figures(actor=actor, collector=collector, day=day)
    close = DailyClose.objects.create(
        collector=collector,
        day=day,
        held_opening=figures.held_opening,
        cash_count=figures.cash_count,
        cash_taken=figures.cash_taken,
        zero_declarations=figures.zero_declarations,
        reversal_count=figures.reversal_count,
        reversed_cash=figures.reversed_cash,
        remitted=figures.remitted,
        held=figures.held,
        closed_by=actor,
        closed_at=clock.now(),
    )
    audit_record(actor=actor, action="daily_close.close", instance=close, after=snapshot(close))
    return close


@transaction.atomic
def daily_close_acknowledge(*, actor: Any, close: DailyClose) -> DailyClose:
    """The township office acknowledges a collector's closed day (again: no change)."""
    close = DailyClose.objects.select_for_update().select_related("collector").get(pk=close.pk)
    scope_of(actor).require_collector(close.collector, write=True)
    require_office(actor, "确认日结")
    if close.acknowledged_at is not None:
        return close
    before = snapshot(close)
    close.acknowledged_by = actor
    close.acknowledged_at = clock.now()
    close.save(update_fields=["acknowledged_by", "acknowledged_at"])
    audit_record(
        actor=actor,
        action="daily_close.acknowledge",
        instance=close,
        before=before,
        after=snapshot(close),
    )
    return close
