"""Cash custody over the whole demo campaign: for every day, the cash taken by collectors
equals what they remitted plus what they hold, counted from the payment and remittance rows."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from yibao.collection.models import Payment, Remittance, StaffMember
from yibao.collection.selectors import collector_cash
from yibao.demo.summary import summary_actor
from yibao.funds.selectors import day_figures

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
FIRST_DAY, LAST_DAY = dt.date(2022, 10, 25), dt.date(2022, 12, 5)


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)


def _days():
    day = FIRST_DAY
    while day <= LAST_DAY:
        yield day
        day += dt.timedelta(days=1)


def test_cash_taken_equals_remitted_plus_held_on_every_day_of_the_campaign(demo):
    office = summary_actor()
    cash_rows = list(
        Payment.objects.filter(channel="cash", collector__role="collector").values_list(
            "paid_at", "amount"
        )
    )
    remittance_rows = list(Remittance.objects.values_list("remitted_at", "amount"))
    assert cash_rows and remittance_rows
    checked = 0
    for day in _days():
        end = _end_of(day)
        taken = sum((amount for at, amount in cash_rows if at < end), Decimal(0))
        remitted = sum((amount for at, amount in remittance_rows if at < end), Decimal(0))
        rows = collector_cash(actor=office, on=day)
        assert all(r.held >= 0 for r in rows), day
        assert sum((r.held for r in rows), Decimal(0)) + remitted == taken, day
        assert sum((r.remitted for r in rows), Decimal(0)) == remitted, day
        checked += 1
    assert checked == 42


def test_every_collectors_day_balances_opening_taken_reversed_remitted_and_held(demo):
    office = summary_actor()
    collectors = list(StaffMember.objects.filter(role="collector").select_related("user")[:4])
    for collector in collectors:
        for day in _days():
            figures = day_figures(actor=office, collector=collector, day=day)
            assert figures.balances, (collector, day)
