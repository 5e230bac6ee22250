"""The age of the oldest cash a collector holds (双限报解's time limit), checked against the
rule written out lot by lot: every cash payment is a lot, a remittance takes the oldest lots,
a reversal hands back its own lot first. The ledger's answer (``held_since``, a walk over the
newest unreversed lots) must equal the queue's for any sequence of cash payments, reversals
and remittances the services accept."""

from __future__ import annotations

import datetime as dt
from collections import deque
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.records import factories as f
from yibao.collection.models import Payment, Remittance
from yibao.collection.selectors import collector_cash, held_since
from yibao.collection.services import payment_record, payment_reverse, remittance_record
from yibao.core import clock
from yibao.core.errors import ApplicationError

pytestmark = pytest.mark.django_db
START = dt.datetime(2022, 11, 1, 9, tzinfo=f.SHANGHAI)


def queue_held_since(collector_id: int, until: dt.datetime | None = None) -> dt.datetime | None:
    """First in, first out over the ledger's rows, read straight from the tables."""
    moves = [
        (p.paid_at, 0, p.pk, p.amount, p.reverses_id)
        for p in Payment.objects.filter(collector=collector_id, channel="cash")
    ] + [
        (r.remitted_at, 1, r.pk, r.amount, None)
        for r in Remittance.objects.filter(collector=collector_id)
    ]
    if until is not None:
        moves = [m for m in moves if m[0] < until]
    lots: deque[list] = deque()
    own: dict[int, list] = {}

    def consume(amount: Decimal) -> None:
        for lot in lots:
            used = min(lot[1], amount)
            lot[1] -= used
            amount -= used

    # time order; at one moment a payment before a remittance, a payment before its reversal
    for at, is_remittance, pk, amount, reverses in sorted(
        moves, key=lambda m: (m[0], m[1], m[4] is not None, m[2])
    ):
        if is_remittance:
            consume(amount)
        elif reverses is not None:
            rest = -amount
            lot = own.get(reverses)
            if lot is not None:
                used = min(lot[1], rest)
                lot[1] -= used
                rest -= used
            consume(rest)
        elif amount > 0:
            own[pk] = [at, amount]
            lots.append(own[pk])
        while lots and lots[0][1] <= 0:
            lots.popleft()
    return lots[0][0] if lots else None


# One step of a collector's days: take cash from a new person, reverse one of the payments
# (by its position among those taken), or remit a share of what is held.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(0, 0)),
        st.tuples(st.just("reverse"), st.integers(0, 30)),
        st.tuples(st.just("remit"), st.integers(1, 100)),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_the_oldest_cash_held_is_the_queues_answer(town, steps):
    with transaction.atomic():
        collector = town.sanhe_collector
        taken: list[Payment] = []
        at = START
        for n, (kind, arg) in enumerate(steps):
            at += dt.timedelta(hours=7)
            with clock.frozen(at):
                try:
                    if kind == "pay":
                        person = f.person(town.sanhe, name=f"现金{n}")
                        taken.append(
                            payment_record(
                                actor=collector, person=person, policy_id=f.POLICY,
                                tier=1, amount="350.00", channel="cash",
                            )
                        )  # fmt: skip
                    elif kind == "reverse" and taken:
                        payment = taken[arg % len(taken)]
                        payment_reverse(actor=town.office, payment=payment, reason="录错")
                    elif kind == "remit":
                        (row,) = collector_cash(actor=collector)
                        share = (row.held * arg / 100).quantize(Decimal("0.01"))
                        if share > 0:
                            remittance_record(
                                actor=collector, collector=collector.staff, amount=share
                            )
                except ApplicationError as refused:
                    # reversing twice, or reversing cash already remitted: refused, nothing written
                    assert refused.code in {"already_reversed", "cash_already_remitted"}
        staff = collector.staff.pk
        (row,) = collector_cash(actor=collector)
        assert row.held_since == (queue_held_since(staff) if row.held > 0 else None)
        # and at the end of every day along the way
        day = START.date()
        while day <= at.date():
            (row,) = collector_cash(actor=collector, on=day)
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=f.SHANGHAI)
            assert row.held_since == (queue_held_since(staff, end) if row.held > 0 else None)
            day += dt.timedelta(days=1)
        transaction.set_rollback(True)


def test_a_reversal_hands_back_its_own_payments_cash_first(town):
    collector = town.sanhe_collector
    day = dt.timedelta(days=1)
    taken = []
    for n in range(2):
        with clock.frozen(START + n * day):
            taken.append(
                payment_record(
                    actor=collector, person=f.person(town.sanhe, name=f"现金{n}"),
                    policy_id=f.POLICY, tier=1, amount="350.00", channel="cash",
                )
            )  # fmt: skip
    with clock.frozen(START + 2 * day):
        payment_reverse(actor=town.office, payment=taken[0], reason="录错")
    (row,) = collector_cash(actor=collector)
    assert (row.held, row.held_since) == (Decimal("350.00"), START + day)
    with clock.frozen(START + 3 * day):
        remittance_record(actor=collector, collector=collector.staff, amount="350.00")
    (row,) = collector_cash(actor=collector)
    assert (row.held, row.held_since) == (Decimal("0.00"), None)
    assert held_since({collector.staff.pk: Decimal("0")}) == {}
