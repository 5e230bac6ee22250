"""Payments that threads of one process ask for at the same moment are written as one group
(``yibao.core.grouping``), and each is answered as if it had come alone.

The group is formed on purpose: a first payment's write is held back until the other threads
have queued behind it, so the next writer takes all of them as one group. Runs on the real
database of the run, from threads with their own connections.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from yibao.collection import services
from yibao.collection.models import Enrollment, Payment, StaffMember
from yibao.core.chain import chain_verify
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.services import person_mark_deceased

from . import factories as f


def _pay(actor, person, amount, **keys) -> services.PaymentResult:
    return services.payment_submit(
        actor=actor,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal(amount),
        channel="wechat",
        **keys,
    )


def _in_one_group(monkeypatch, calls: list) -> tuple[list, list[int]]:
    """Run ``calls`` (functions of no argument) each in its own thread, all of them queued in
    order behind one held-back payment so that they are written as one group; return each call's
    outcome (its result or the exception it raised), in order, and the sizes of the groups
    written."""
    groups: list[int] = []
    held, release = threading.Event(), threading.Event()
    write = services._PAYMENT_GROUPS._write

    def counted(jobs):
        groups.append(len(jobs))
        if len(groups) == 1:  # the first write waits until the others have queued
            held.set()
            assert release.wait(timeout=30)
        return write(jobs)

    monkeypatch.setattr(services._PAYMENT_GROUPS, "_write", counted)
    outcomes: list = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int | None, call) -> None:
        try:
            outcome = call()
        except BaseException as error:  # the outcome under test
            outcome = error
        finally:
            connection.close()
        if index is None:
            if isinstance(outcome, BaseException):
                failures.append(outcome)
        else:
            outcomes[index] = outcome

    village = f.area()["三河街社区"]
    opener = f.user("opener", villages=(village,))
    first = f.person(village, name="开门")
    leader = threading.Thread(target=run, args=(None, lambda: _pay(opener, first, "350")))
    leader.start()
    assert held.wait(timeout=30)
    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    deadline = time.monotonic() + 30
    for queued, thread in enumerate(threads, start=1):
        thread.start()  # and queued before the next one starts: the group keeps this order
        while len(services._PAYMENT_GROUPS._queue) < queued and time.monotonic() < deadline:
            time.sleep(0.002)
    release.set()
    for thread in (leader, *threads):
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in (leader, *threads))
    assert failures == []
    return outcomes, groups


@pytest.mark.django_db(transaction=True)
def test_a_refused_payment_in_a_group_is_answered_alone_and_the_others_land(monkeypatch):
    sanhe = f.area()["三河街社区"]
    collector = f.user("collector", villages=(sanhe,))
    office = f.user("office", role=StaffMember.Role.TOWNSHIP, township=sanhe.township)
    payers = [f.person(sanhe, name=f"居民{i}") for i in range(3)]
    wrong_amount = f.person(sanhe, name="刘一")
    f.tag(wrong_amount, "低保对象")  # owes 35, not 350
    deceased = f.person(sanhe, name="王五")
    person_mark_deceased(actor=office, person=deceased, died_on=dt.date(2022, 12, 1))

    calls = [
        lambda: _pay(collector, payers[0], "350", idempotency_key="k-0"),
        lambda: _pay(collector, wrong_amount, "350", idempotency_key="k-1"),
        lambda: _pay(collector, payers[1], "350", receipt_number="R-2"),
        lambda: _pay(collector, deceased, "350", idempotency_key="k-3"),
        lambda: _pay(office, payers[2], "350", idempotency_key="k-4"),
    ]
    outcomes, groups = _in_one_group(monkeypatch, calls)

    assert groups == [1, 5]  # the held-back payment, then all five as one group
    refused = {i: o for i, o in enumerate(outcomes) if isinstance(o, BaseException)}
    assert sorted(refused) == [1, 3]
    assert isinstance(refused[1], ApplicationError) and refused[1].code == "amount_mismatch"
    assert "刘一" in refused[1].message and "35" in refused[1].message
    assert not refused[1].message.startswith("第")  # its own refusal, not a batch row's
    assert isinstance(refused[3], ApplicationError) and refused[3].code == "person_deceased"
    assert "王五" in refused[3].message
    for index, person in ((0, payers[0]), (2, payers[1]), (4, payers[2])):
        result = outcomes[index]
        assert result.created
        assert result.payment.enrollment.person_id == person.pk
        assert Enrollment.objects.get(person=person).status == Enrollment.Status.PAID
    assert not Enrollment.objects.filter(person__in=[wrong_amount, deceased]).exists()
    assert Payment.objects.count() == 4  # the held-back one and three of the group
    # written in one transaction: one moment for the group's payments and their entries
    assert len({outcomes[i].payment.paid_at for i in (0, 2, 4)}) == 1
    # One entry per payment, each naming its own actor, and the chain is one line.
    entries = AuditLog.objects.filter(action="payment.record").select_related("actor")
    actors = sorted(e.actor.username for e in entries.order_by("id"))
    assert actors == ["collector", "collector", "office", "opener"]
    assert len({e.at for e in entries if e.actor.username != "opener"}) == 1
    assert chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_replayed_request_in_a_group_gets_the_first_payment(monkeypatch):
    sanhe = f.area()["三河街社区"]
    collector = f.user("collector", villages=(sanhe,))
    earlier = f.person(sanhe, name="早缴")
    first = _pay(collector, earlier, "350", idempotency_key="tablet-1").payment
    twice = f.person(sanhe, name="重发")
    other = f.person(sanhe, name="另一人")

    calls = [
        lambda: _pay(collector, twice, "350", idempotency_key="tablet-2"),
        lambda: _pay(collector, earlier, "350", idempotency_key="tablet-1"),  # paid before
        lambda: _pay(collector, twice, "350", idempotency_key="tablet-2"),  # the same request
        lambda: _pay(collector, other, "350", idempotency_key="tablet-2"),  # the key, reused
    ]
    outcomes, groups = _in_one_group(monkeypatch, calls)

    assert groups == [1, 4]
    assert (outcomes[1].payment.pk, outcomes[1].created) == (first.pk, False)
    # the same request twice in one group: the first creates the payment, the second gets it
    assert outcomes[0].created and not outcomes[2].created
    assert outcomes[2].payment.pk == outcomes[0].payment.pk
    assert isinstance(outcomes[3], ApplicationError)
    assert outcomes[3].code == "idempotency_key_reused"
    assert Payment.objects.filter(enrollment__person=twice).count() == 1
    assert not Payment.objects.filter(enrollment__person=other).exists()
    assert Payment.objects.count() == 3  # earlier, the held-back one, and twice's
    assert chain_verify().ok
