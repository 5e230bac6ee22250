from decimal import Decimal

import pytest

from yibao.collection.models import Remittance, StaffMember
from yibao.collection.selectors import collector_cash_on_hand
from yibao.collection.services import payment_record, payment_reverse, remittance_record
from yibao.core.errors import ApplicationError

from . import factories as f


def cash(actor, person, amount="350"):
    return payment_record(
        actor=actor,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal(amount),
        channel="cash",
    )


def test_cash_on_hand_is_cash_taken_minus_remitted(town):
    collector = StaffMember.objects.get(user=town.sanhe_collector)
    cash(town.sanhe_collector, f.person(town.sanhe))
    cash(town.sanhe_collector, f.person(town.sanhe))
    payment_record(
        actor=town.sanhe_collector,
        person=f.person(town.sanhe),
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="wechat",
    )
    assert collector_cash_on_hand(actor=town.sanhe_collector, collector=collector) == Decimal("700")
    remittance_record(
        actor=town.sanhe_collector, collector=collector, amount=Decimal("500"), bank="农商行"
    )
    assert collector_cash_on_hand(actor=town.office, collector=collector) == Decimal("200")


def test_a_reversed_cash_payment_leaves_the_collectors_custody(town):
    collector = StaffMember.objects.get(user=town.sanhe_collector)
    payment = cash(town.sanhe_collector, f.person(town.sanhe))
    payment_reverse(actor=town.office, payment=payment, reason="退款")
    assert collector_cash_on_hand(actor=town.office, collector=collector) == Decimal("0")


def test_remitting_more_than_the_cash_held_is_refused(town):
    collector = StaffMember.objects.get(user=town.sanhe_collector)
    cash(town.sanhe_collector, f.person(town.sanhe))
    with pytest.raises(ApplicationError) as error:
        remittance_record(actor=town.sanhe_collector, collector=collector, amount=Decimal("351"))
    assert error.value.code == "remittance_exceeds_cash"
    assert "350" in error.value.message
    assert not Remittance.objects.exists()


def test_the_same_slip_number_again_returns_the_first_remittance(town):
    collector = StaffMember.objects.get(user=town.sanhe_collector)
    cash(town.sanhe_collector, f.person(town.sanhe))
    first = remittance_record(
        actor=town.sanhe_collector, collector=collector, amount="350", slip_number="S1"
    )
    again = remittance_record(
        actor=town.sanhe_collector, collector=collector, amount="350", slip_number="S1"
    )
    assert again.pk == first.pk
    assert Remittance.objects.count() == 1


def test_another_villages_collector_cannot_record_a_remittance(town):
    collector = StaffMember.objects.get(user=town.sanhe_collector)
    cash(town.sanhe_collector, f.person(town.sanhe))
    with pytest.raises(ApplicationError) as error:
        remittance_record(actor=town.dashan_collector, collector=collector, amount="100")
    assert error.value.code == "not_found"
