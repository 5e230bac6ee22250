"""日结: a collector closes a day, the township acknowledges it, the day prints on A4 and
nothing dated on it can be written afterwards; a correction is a reversal on a later day."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from tests.records import factories as f
from yibao.collection.models import Payment
from yibao.collection.services import payment_record, payment_reverse, remittance_record
from yibao.core import clock
from yibao.core.errors import ApplicationError
from yibao.funds.models import DailyClose
from yibao.funds.services import daily_close, daily_close_acknowledge

pytestmark = pytest.mark.django_db
DAY = dt.date(2022, 12, 2)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _pay(actor, person, day, *, channel="cash", hour=10, amount="350.00", tier=1):
    # The server prices a payment on its own date: the clock stands on the day of the payment.
    with clock.frozen(f.aware(day, hour)):
        return _record(actor, person, channel=channel, amount=amount, tier=tier)


def _record(actor, person, *, channel, amount, tier):
    return payment_record(
        actor=actor,
        person=person,
        policy_id=f.POLICY,
        tier=tier,
        amount=amount,
        channel=channel,
    )


@pytest.fixture
def day(town):
    """On 12-02 sanhe took 350 in cash twice (one held since 12-01 before), reversed one of
    them, recorded a zero declaration and remitted 300."""
    actor = town.sanhe_collector
    _pay(actor, f.person(town.sanhe, name="前一日"), DAY - dt.timedelta(days=1))
    first = _pay(actor, f.person(town.sanhe, name="甲"), DAY, hour=9)
    _pay(actor, f.person(town.sanhe, name="乙"), DAY, hour=11)
    poor = f.person(town.sanhe, name="特困")
    f.tag(poor, "特困人员")
    _pay(actor, poor, DAY, channel="wechat", amount="0.00", hour=12)
    remittance_record(
        actor=actor,
        collector=actor.staff,
        amount="300.00",
        remitted_at=f.aware(DAY, 15),
        bank="农商行",
        slip_number="JK-9",
    )
    return first


def test_the_day_is_closed_with_its_figures(town, day, settings):
    close = daily_close(actor=town.sanhe_collector, collector=town.sanhe_collector.staff, day=DAY)
    # opening 350; taken 700 in 2 payments; one zero declaration; remitted 300; held 750
    assert (close.held_opening, close.cash_count, close.cash_taken) == (
        Decimal("350.00"), 2, Decimal("700.00")
    )  # fmt: skip
    assert (close.zero_declarations, close.reversal_count, close.remitted, close.held) == (
        1, 0, Decimal("300.00"), Decimal("750.00")
    )  # fmt: skip


def test_a_closed_day_refuses_payments_remittances_and_reversals_dated_on_it(town, day, settings):
    settings.YIBAO_TODAY = DAY.isoformat()
    actor = town.sanhe_collector
    daily_close(actor=actor, collector=actor.staff, day=DAY)
    for attempt in (
        lambda: _pay(actor, f.person(town.sanhe, name="补录"), DAY, hour=16),
        lambda: remittance_record(
            actor=actor, collector=actor.staff, amount="10", remitted_at=f.aware(DAY, 17)
        ),
        lambda: payment_reverse(actor=town.office, payment=day, reason="录错"),  # dated today
    ):
        with pytest.raises(ApplicationError) as refused:
            attempt()
        assert refused.value.code == "day_closed"
        assert "sanhe2022年12月2日已日结" in refused.value.message
    # the next day the correction is a reversal dated then
    settings.YIBAO_TODAY = (DAY + dt.timedelta(days=1)).isoformat()
    reversal = payment_reverse(actor=town.office, payment=day, reason="录错")
    assert reversal.paid_at.date() == DAY + dt.timedelta(days=1)
    assert DailyClose.objects.get(day=DAY).held == Decimal("750.00")


def test_only_the_collector_closes_and_only_the_office_acknowledges(town, day):
    collector = town.sanhe_collector.staff
    with pytest.raises(ApplicationError) as refused:
        daily_close(actor=town.office, collector=collector, day=DAY)
    assert refused.value.code == "collector_only"
    with pytest.raises(ApplicationError) as refused:
        daily_close(actor=town.dashan_collector, collector=collector, day=DAY)
    assert refused.value.code == "not_found"
    close = daily_close(actor=town.sanhe_collector, collector=collector, day=DAY)
    with pytest.raises(ApplicationError) as refused:
        daily_close(actor=town.sanhe_collector, collector=collector, day=DAY)
    assert refused.value.code == "day_closed"
    with pytest.raises(ApplicationError) as refused:
        daily_close_acknowledge(actor=town.sanhe_collector, close=close)
    assert refused.value.code == "office_required"
    close = daily_close_acknowledge(actor=town.office, close=close)
    assert close.acknowledged_by == town.office


def test_a_day_not_yet_come_cannot_be_closed(town):
    with pytest.raises(ApplicationError) as refused:
        daily_close(
            actor=town.sanhe_collector,
            collector=town.sanhe_collector.staff,
            day=f.CAMPAIGN_DAY + dt.timedelta(days=1),
        )
    assert refused.value.code == "day_not_over"


class TestPages:
    def test_the_collector_closes_the_day_and_it_prints_on_a4(self, sanhe, town, day):
        page = _text(sanhe.get("/funds/close/", {"day": DAY.isoformat()}))
        assert 'data-test="cash-taken">2 笔 · 700.00<' in page
        assert 'data-test="held-at-close">750.00<' in page
        response = sanhe.post("/funds/close/", {"day": DAY.isoformat()})
        assert response.status_code == 302
        sheet = _text(sanhe.get(response["Location"]))
        assert "城乡居民医保费现金日结单" in sheet and "web/sheet-a4.css" in sheet
        assert "2022年12月2日" in sheet and 'data-test="ack-state">待确认<' in sheet
        assert sheet.count("（零申报）") == 1 and "甲" in sheet and "乙" in sheet

    def test_the_office_acknowledges_and_the_sheet_says_who(self, sanhe, office, town, day):
        sanhe.post("/funds/close/", {"day": DAY.isoformat()})
        close = DailyClose.objects.get()
        listing = _text(office.get("/funds/close/"))
        assert 'data-test="ack"' in listing and "sanhe" in listing
        assert office.post(f"/funds/close/{close.pk}/ack/").status_code == 302
        sheet = _text(office.get(f"/funds/close/{close.pk}/"))
        assert 'data-test="ack-state">office ' in sheet

    def test_another_villages_collector_cannot_open_the_sheet(self, sanhe, dashan, day):
        sanhe.post("/funds/close/", {"day": DAY.isoformat()})
        close = DailyClose.objects.get()
        assert dashan.get(f"/funds/close/{close.pk}/").status_code == 404
        assert dashan.post(f"/funds/close/{close.pk}/ack/").status_code == 403

    def test_a_closed_day_cannot_be_edited_from_the_desk(self, sanhe, town, settings):
        person = f.person(town.sanhe, name="晚到")
        sanhe.post("/funds/close/", {"day": f.CAMPAIGN_DAY.isoformat()})
        data = {"m": [person.pk], f"tier_{person.pk}": 1, "key": "k" * 32, "channel": "cash"}
        data[f"amount_{person.pk}"] = "350.00"
        page = _text(sanhe.post("/desk/pay/", data))
        assert "已日结，不能再登记该日的缴费" in page
        assert not Payment.objects.filter(enrollment__person=person).exists()
