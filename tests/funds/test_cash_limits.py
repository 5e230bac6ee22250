"""双限报解: cash held and the age of the oldest unremitted cash against the township's limits,
on the cash page, the desk's confirmation and the township dashboard."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from tests.records import factories as f
from yibao.collection.models import Payment, StaffMember
from yibao.collection.selectors import collector_cash
from yibao.collection.services import payment_record, payment_reverse, remittance_record
from yibao.core import clock
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.funds.selectors import cash_status
from yibao.funds.services import cash_limit_set

pytestmark = pytest.mark.django_db
D = dt.date


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _sanhe(town):
    return next(r for r in cash_status(actor=town.office) if r.cash.username == "sanhe")


def _cash(actor, person, day, hour=10):
    # The server prices a payment on its own date: the clock stands on the day of the payment.
    with clock.frozen(f.aware(day, hour)):
        return payment_record(
            actor=actor,
            person=person,
            policy_id=f.POLICY,
            tier=1,
            amount="350.00",
            channel="cash",
        )


@pytest.fixture
def held(town):
    """sanhe took 350 in cash on 11-20, 11-28 and 12-05 and remitted 500 on 11-29: 550 held,
    the oldest of it (150 of the 11-28 payment) taken 7 days before the campaign day."""
    collector = town.sanhe_collector.staff
    for i, day in enumerate((D(2022, 11, 20), D(2022, 11, 28), D(2022, 12, 5))):
        _cash(town.sanhe_collector, f.person(town.sanhe, name=f"现金{i}"), day)
    remittance_record(
        actor=town.sanhe_collector,
        collector=collector,
        amount="500.00",
        remitted_at=f.aware(D(2022, 11, 29), 16),
        bank="重庆农商行三江支行",
        slip_number="JK-1",
    )
    return collector


def test_held_cash_is_taken_less_remitted_and_its_age_is_first_in_first_out(town, held):
    row = _sanhe(town)
    assert (row.cash.taken, row.cash.remitted, row.cash.held) == (
        Decimal("1050.00"), Decimal("500.00"), Decimal("550.00")
    )  # fmt: skip
    assert row.cash.held_since == f.aware(D(2022, 11, 28))
    assert row.age_days == 7
    # the defaults: 5,000 yuan and 7 days; exactly 7 days is not over 7 (超过 excludes it)
    assert (row.limits.amount, row.limits.days, row.limits.default) == (Decimal("5000"), 7, True)
    assert not row.over


def test_a_township_limit_flags_a_collector_over_either_limit(town, held):
    cash_limit_set(actor=town.office, township=town.township, amount="500.00", days=6)
    row = _sanhe(town)
    assert (row.over_amount, row.over_days, row.limits.default) == (True, True, False)
    cash_limit_set(actor=town.office, township=town.township, amount="550.00", days=30)
    row = _sanhe(town)
    assert (row.over_amount, row.over_days) == (False, False)  # 550 held is not over 550
    actions = list(
        AuditLog.objects.filter(action="cash_limit.set")
        .order_by("id")
        .values_list("after", flat=True)
    )
    assert [(a["amount"], a["days"]) for a in actions] == [("500.00", 6), ("550.00", 30)]


def test_cash_held_at_the_end_of_a_past_day(town, held):
    (row,) = collector_cash(actor=town.sanhe_collector, on=D(2022, 11, 28))
    assert (row.taken, row.remitted, row.held) == (Decimal("700"), Decimal("0"), Decimal("700"))
    assert row.held_since == f.aware(D(2022, 11, 20))


def test_a_collector_cannot_set_the_limits_and_an_auditor_only_reads(town):
    with pytest.raises(ApplicationError) as refused:
        cash_limit_set(actor=town.sanhe_collector, township=town.township, amount="1", days=1)
    assert refused.value.code == "not_found"  # a collector's scope is not the township
    with pytest.raises(ApplicationError) as refused:
        cash_limit_set(actor=town.auditor, township=town.township, amount="1", days=1)
    assert refused.value.code == "read_only"


def test_cash_already_remitted_cannot_be_reversed_so_cash_held_never_turns_negative(town):
    person = f.person(town.sanhe, name="已解缴")
    payment = _cash(town.sanhe_collector, person, D(2022, 12, 1))
    remittance_record(
        actor=town.sanhe_collector, collector=town.sanhe_collector.staff, amount="350.00"
    )
    with pytest.raises(ApplicationError) as refused:
        payment_reverse(actor=town.office, payment=payment, reason="录错")
    assert refused.value.code == "cash_already_remitted"
    assert Payment.objects.filter(reverses__isnull=False).count() == 0


class TestPages:
    def test_the_cash_page_shows_held_and_age_against_the_limits(self, sanhe, held):
        page = _text(sanhe.get("/desk/cash/"))
        assert 'data-test="cash-held">550.00<' in page
        assert 'data-test="cash-age">7天<' in page
        assert "限额 5,000.00" in page and "限时 7天" in page
        assert "系统默认值" in page

    def test_the_dashboard_flags_a_collector_past_the_time_limit(self, office, town, held):
        cash_limit_set(actor=town.office, township=town.township, amount="5000.00", days=3)
        page = _text(office.get("/office/"))
        assert 'data-test="cash-over"' in page
        assert "1名征收员手中现金超过双限" in page and "sanhe（7天）" in page
        assert 'data-test="over-days"' in page and 'data-test="over-amount"' not in page

    def test_the_dashboard_flags_a_collector_past_the_amount_limit(self, office, town, held):
        cash_limit_set(actor=town.office, township=town.township, amount="500.00", days=30)
        page = _text(office.get("/office/"))
        assert "sanhe（550.00元）" in page
        assert 'data-test="over-amount"' in page and 'data-test="over-days"' not in page

    def test_the_dashboard_flags_nobody_within_the_limits(self, office, held):
        page = _text(office.get("/office/"))
        assert 'data-test="cash-over"' not in page and 'data-test="over-limit"' not in page

    def test_the_desk_warns_before_taking_more_cash_over_the_limit(self, sanhe, town, held):
        cash_limit_set(actor=town.office, township=town.township, amount="600.00", days=30)
        person = f.person(town.sanhe, name="再缴费")
        page = _text(sanhe.get("/desk/pay/", {"m": person.pk, f"tier_{person.pk}": 1}))
        assert "再收现金350.00元后手中现金将达900.00元，超过限额600.00元" in page
        cash_limit_set(actor=town.office, township=town.township, amount="5000.00", days=30)
        page = _text(sanhe.get("/desk/pay/", {"m": person.pk, f"tier_{person.pk}": 1}))
        assert 'data-test="cash-warning"' not in page

    def test_remitting_from_the_cash_page_records_bank_and_slip(self, sanhe, town, held):
        data = {"collector": held.pk, "amount": "550.00", "bank": "", "slip_number": "JK-2"}
        response = sanhe.post("/desk/cash/remit/", data)
        page = _text(response)
        assert response.status_code == 400
        assert "请填写收款银行" in page and 'value="JK-2"' in page and 'value="550.00"' in page
        data["bank"] = "重庆农商行三江支行"
        response = sanhe.post("/desk/cash/remit/", data)
        assert response.status_code == 302
        page = _text(sanhe.get(response["Location"]))
        assert "已登记解缴550.00元（重庆农商行三江支行，凭证号JK-2）" in page
        assert 'data-test="cash-held">0.00<' in page

    def test_remitting_more_than_held_is_refused_beside_the_amount(self, sanhe, held):
        data = {"collector": held.pk, "amount": "600.00", "bank": "农商行", "slip_number": "JK-3"}
        page = _text(sanhe.post("/desk/cash/remit/", data))
        assert 'data-test="amount-error">征收员sanhe：解缴600.00元超过其持有的现金550.00元' in page

    def test_an_office_opens_a_collectors_cash_page_and_another_collector_cannot(
        self, office, dashan, held
    ):
        assert 'data-test="cash-held">550.00<' in _text(
            office.get("/desk/cash/", {"collector": held.pk})
        )
        assert dashan.get("/desk/cash/", {"collector": held.pk}).status_code == 404

    def test_the_office_sets_the_limits_on_its_page(self, office, sanhe, town):
        response = office.post("/funds/limits/", {"amount": "abc", "days": "3"})
        assert response.status_code == 400
        assert "须为大于0" in _text(response) and 'value="3"' in _text(response)
        response = office.post("/funds/limits/", {"amount": "3000", "days": "3"})
        assert response.status_code == 302
        page = re.sub(r"<[^>]+>", "", _text(office.get("/funds/limits/")))
        assert "当前：限额 3,000.00 元，限时 3 天（街道设定）" in page
        assert sanhe.get("/funds/limits/").status_code == 403
        assert StaffMember.objects.get(user=town.office).role == "township"
