"""Concurrent payment requests for the same people: every person paid once, totals exact.

Runs against the real database of the run (a file on SQLite, not :memory:; PostgreSQL with
DATABASE_URL), from threads with their own connections, through the public service.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from yibao.collection.models import Enrollment, Payment
from yibao.collection.services import payment_record
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog

from . import factories as f

WORKERS = 8
PERSONS = 24
DUE = {"": Decimal("350"), "低保对象": Decimal("35"), "特困人员": Decimal("0")}


@pytest.mark.django_db(transaction=True)
def test_concurrent_and_retried_payments_pay_every_person_exactly_once():
    villages = f.area()
    sanhe = villages["三河街社区"]
    collectors = [f.user(f"collector{i}", villages=(sanhe,)) for i in range(WORKERS)]
    identities = list(DUE)
    persons = []
    for i in range(PERSONS):
        person = f.person(sanhe, name=f"居民{i}")
        identity = identities[i % len(identities)]
        if identity:
            f.tag(person, identity)
        persons.append((person, DUE[identity]))

    barrier = threading.Barrier(WORKERS)
    results: dict[int, list[int]] = defaultdict(list)  # person -> payment ids returned
    refusals: Counter[str] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        rng = random.Random(index)
        order = persons[:]
        rng.shuffle(order)
        try:
            barrier.wait()
            for person, due in order:
                # Even workers replay one client request (same idempotency key, sent twice);
                # odd workers are other collectors with their own receipt for the same person.
                attempts = (
                    [{"idempotency_key": f"req-{person.pk}"}] * 2
                    if index % 2 == 0
                    else [{"receipt_number": f"R{index}-{person.pk}"}]
                )
                for keys in attempts:
                    try:
                        payment = payment_record(
                            actor=collectors[index],
                            person=person,
                            policy_id=f.POLICY,
                            tier=1,
                            amount=due,
                            channel="cash" if index % 2 else "wechat",
                            **keys,
                        )
                    except ApplicationError as refusal:
                        with lock:
                            refusals[refusal.code] += 1
                    else:
                        with lock:
                            results[person.pk].append(payment.pk)
        except BaseException as error:  # reported below, the test must not hang
            with lock:
                failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    # Only "already paid" refusals: nothing failed for another reason.
    assert set(refusals) == {"already_paid"}
    # Per person, at least the three losing receipt-holders (odd workers) were refused.
    assert refusals["already_paid"] >= PERSONS * (WORKERS // 2 - 1)
    for person, due in persons:
        payments = list(Payment.objects.filter(enrollment__person=person))
        assert len(payments) == 1, person.name
        assert payments[0].amount == due
        # Every successful call for this person returned that one payment.
        assert set(results[person.pk]) == {payments[0].pk}
        assert Enrollment.objects.filter(person=person).count() == 1
        assert Enrollment.objects.get(person=person).status == Enrollment.Status.PAID

    expected_total = sum((due for _, due in persons), Decimal("0"))
    assert Payment.objects.aggregate(total=Sum("amount"))["total"] == expected_total
    assert Payment.objects.count() == PERSONS
    assert Payment.objects.filter(amount=0).count() == PERSONS // len(DUE)  # zero declarations
    assert AuditLog.objects.filter(action="payment.record").count() == PERSONS
    # Requests that found the person paid by someone else, counted exactly.
    calls = sum(len(v) for v in results.values()) + sum(refusals.values())
    assert calls == PERSONS * (WORKERS // 2 * 2 + WORKERS // 2)
