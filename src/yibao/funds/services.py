"""Writes for fund safety: keyword-only, ``actor=``, atomic, audited, scope-checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from yibao.core.access import read_only, scope_of
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.registry.models import Township

from .models import CashLimit

OFFICE_ROLES = ("township", "district", "superuser")


def require_township_office(actor: Any, township: Township) -> None:
    """Refuse unless ``actor`` is an office (township, district, superuser) whose scope
    covers ``township``; a township outside it answers as not found."""
    scope = scope_of(actor)
    ids = list(township.villages.values_list("pk", flat=True))
    if not scope.everywhere and (not ids or not all(v in scope for v in ids)):
        raise ApplicationError(
            "not_found", f"找不到编号为{township.pk}的街道（镇）", township_id=township.pk
        )
    if not scope.may_write:
        raise read_only()
    if scope.role not in OFFICE_ROLES:
        raise ApplicationError(
            "office_only", "只有街道社保所或区医保局可以办理此事项", township=township.name
        )


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
    require_township_office(actor, township)
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
