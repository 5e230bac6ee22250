"""缴费信息公示: a village's payers of the benefit year as posted publicly — the name partly
masked, no ID number, the tier and the amount (Bishan 九（五）: payments posted publicly)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from yibao.collection.selectors import live_payments
from yibao.core.access import require_village
from yibao.core.masking import mask_name
from yibao.registry.models import Village

HEADERS = ["序号", "姓名", "档次", "个人缴费（元）", "资助（元）", "缴费日期"]
TIERS = {1: "一档", 2: "二档"}


@dataclass(frozen=True, slots=True)
class NoticeRow:
    number: int
    name: str  # masked
    tier: str
    amount: Decimal  # what the person paid (0: zero declaration)
    subsidy: Decimal
    paid_on: dt.date

    def cells(self) -> list[Any]:
        return [self.number, self.name, self.tier, self.amount, self.subsidy, self.paid_on]


def public_notice(*, actor: Any, village: Village, benefit_year: int) -> list[NoticeRow]:
    """Everyone of ``village`` whose enrollment for ``benefit_year`` is paid now, by the day
    they paid; no ID number, nothing that identifies beyond the masked name."""
    require_village(actor, village)
    payments = (
        live_payments()
        .filter(enrollment__village=village, enrollment__benefit_year=benefit_year)
        .select_related("enrollment__person")
        .order_by("paid_at", "id")
    )
    return [
        NoticeRow(
            number=i,
            name=mask_name(p.enrollment.person.name),
            tier=TIERS.get(p.enrollment.tier, ""),
            amount=p.amount,
            subsidy=p.enrollment.subsidy,
            paid_on=timezone.localtime(p.paid_at).date(),
        )
        for i, p in enumerate(payments, start=1)
    ]


def notice_title(village: Village, benefit_year: int) -> str:
    return f"{village.township.name}{village.name}{benefit_year}年度城乡居民医保缴费信息公示"


def notice_workbook(*, actor: Any, village: Village, benefit_year: int) -> bytes:
    """The notice as .xlsx, the same columns as the printed page."""
    from yibao.transfer.workbook import table_workbook

    rows = public_notice(actor=actor, village=village, benefit_year=benefit_year)
    return table_workbook(
        title="缴费信息公示",
        headers=HEADERS,
        rows=[r.cells() for r in rows],
        heading=notice_title(village, benefit_year),
    )
