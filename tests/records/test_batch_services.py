"""Batch services: every row checked as the one-at-a-time service checks it, all or nothing."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from yibao.collection.models import Enrollment, Payment, StaffMember
from yibao.collection.services import (
    PaymentItem,
    enrollment_create,
    payment_record,
    payment_record_many,
    payment_reverse,
    payment_submit,
)
from yibao.core.access import scope_of
from yibao.core.audit import snapshot
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.policy import IdentityClaim, QuoteRequest, get_policy
from yibao.registry.models import Household, IdentityTag, Person, Township
from yibao.registry.services import (
    HouseholdData,
    IdentityTagData,
    PersonData,
    household_register,
    household_register_many,
    identity_tag_add,
    identity_tags_add_many,
    other_insurance_record,
    person_mark_deceased,
)

from . import factories as f

PAID_ON = f.CAMPAIGN_DAY


def household(number: str | None, size: int = 3, *, bad: int | None = None) -> HouseholdData:
    members = [
        PersonData(
            id_number="500222199001011230" if i == bad else f.id_number(),
            name=f"{number or '无号'}成员{i}",
            relation_to_head="子女",
        )
        for i in range(1, size)
    ]
    return HouseholdData(
        head=PersonData(id_number=f.id_number(), name=f"{number or '无号'}户主"),
        members=members,
        number=number,
        address="三江大道1号",
    )


def item(person: Person, amount: str, **kwargs) -> PaymentItem:
    return PaymentItem(
        person=person,
        policy_id=kwargs.pop("policy_id", f.POLICY),
        tier=kwargs.pop("tier", 1),
        amount=Decimal(amount),
        channel=kwargs.pop("channel", "cash"),
        paid_at=kwargs.pop("paid_at", f.aware(PAID_ON)),
        **kwargs,
    )


def due(person: Person, *identities: str, tier: int = 1) -> Decimal:
    """What the policy engine itself says the person pays (not the service under test)."""
    request = QuoteRequest(
        paid_on=PAID_ON, tier=tier, identities=tuple(IdentityClaim(key) for key in identities)
    )
    return get_policy(f.POLICY).quote(request).personal


def counts() -> tuple[int, int, int, int, int]:
    return (
        Household.objects.count(),
        Person.objects.count(),
        Enrollment.objects.count(),
        Payment.objects.count(),
        AuditLog.objects.count(),
    )


# --- households ---------------------------------------------------------------------------


def test_a_batch_of_households_registers_each_with_its_head_members_and_audit(town):
    households = household_register_many(
        actor=town.sanhe_collector,
        village=town.sanhe,
        households=[household("H-1", 2), household("H-2", 4), household(None, 1)],
    )
    assert [h.number for h in households] == ["H-1", "H-2", None]
    for h, size in zip(households, (2, 4, 1), strict=True):
        h.refresh_from_db()
        assert h.head.relation_to_head == "户主"
        assert h.head.household_id == h.pk
        assert h.members.count() == size
        assert set(h.members.values_list("hukou_village", flat=True)) == {town.sanhe.pk}
    persons = Person.objects.all()
    assert persons.count() == 7
    # One audit entry per household, listing every member it registered.
    assert AuditLog.objects.count() == 3
    for h in households:
        entry = AuditLog.objects.get(action="household.register", object_id=str(h.pk))
        assert entry.actor == town.sanhe_collector
        assert entry.after["head_id"] == h.head_id
        members = {m["id"]: m for m in entry.after["members"]}
        assert set(members) == set(h.members.values_list("pk", flat=True))
        for person in h.members.all():
            assert members[person.pk]["id_number"] == person.masked_id_number
            # Each member as the single path's snapshot of the stored person shows it.
            stored = {"id": person.pk, **snapshot(person)}
            del stored["household_id"], stored["hukou_village_id"], stored["status"]
            assert members[person.pk] == stored
            # The household and its village are the entry's own, not repeated per member.
            assert "household_id" not in members[person.pk]
            assert "hukou_village_id" not in members[person.pk]
        assert entry.after["village_id"] == town.sanhe.pk


def test_a_household_batch_with_one_bad_row_writes_nothing_and_names_the_row(town):
    with pytest.raises(ApplicationError) as error:
        household_register_many(
            actor=town.sanhe_collector,
            village=town.sanhe,
            households=[household("H-1"), household("H-2"), household("H-3", bad=2)],
        )
    assert error.value.code == "invalid_id_number"
    assert error.value.params["row"] == 3
    assert error.value.message.startswith("第3户（户号H-3）：")
    assert "H-3成员2" in error.value.message
    assert counts() == (0, 0, 0, 0, 0)


def test_a_person_registered_before_refuses_the_household_batch(town):
    number = f.id_number()
    f.person(town.dashan, name="先登记", number=number)
    second = household("H-2")
    second = HouseholdData(
        head=second.head, members=[PersonData(id_number=number, name="后登记")], number="H-2"
    )
    before = counts()
    with pytest.raises(ApplicationError) as error:
        household_register_many(
            actor=town.office, village=town.sanhe, households=[household("H-1"), second]
        )
    assert error.value.code == "person_exists"
    assert error.value.params["row"] == 2
    assert "大山村" in error.value.message
    assert counts() == before


def test_a_person_registered_between_the_batch_check_and_its_insert_refuses_it_whole(town):
    number = f.id_number()
    f.person(town.dashan, name="先登记", number=number)
    last = household("H-3")
    last = HouseholdData(
        head=last.head, members=[PersonData(id_number=number, name="先登记")], number="H-3"
    )
    before = counts()
    # The batch's own check misses the person, as when another import registers them in
    # between: the unique index refuses the insert and the service names whom it refused.
    with (
        mock.patch("yibao.registry.services.present", return_value=set()),
        pytest.raises(ApplicationError) as error,
    ):
        household_register_many(
            actor=town.office,
            village=town.sanhe,
            households=[household("H-1"), household("H-2"), last],
        )
    assert error.value.code == "person_exists"
    assert "大山村" in error.value.message
    assert counts() == before


def test_an_id_number_twice_in_one_household_batch_is_refused(town):
    first = household("H-1")
    twice = HouseholdData(
        head=PersonData(id_number=f.id_number(), name="户主乙"),
        members=[PersonData(id_number=first.members[0].id_number, name="又一次")],
        number="H-2",
    )
    with pytest.raises(ApplicationError) as error:
        household_register_many(actor=town.office, village=town.sanhe, households=[first, twice])
    assert error.value.code == "person_exists"
    assert "本批第1户" in error.value.message
    assert counts() == (0, 0, 0, 0, 0)


def test_a_household_number_twice_or_already_registered_refuses_the_batch(town):
    household_register(
        actor=town.office, village=town.sanhe, head=household("H-0").head, number="H-0"
    )
    before = counts()
    for batch in ([household("H-1"), household("H-1")], [household("H-1"), household("H-0")]):
        with pytest.raises(ApplicationError) as error:
            household_register_many(actor=town.office, village=town.sanhe, households=batch)
        assert error.value.code == "household_exists"
        assert error.value.params["row"] == 2
    assert counts() == before


def test_a_collector_cannot_register_a_batch_in_another_village(town):
    with pytest.raises(ApplicationError) as error:
        household_register_many(
            actor=town.sanhe_collector, village=town.dashan, households=[household("H-1")]
        )
    assert error.value.code == "not_found"
    assert counts() == (0, 0, 0, 0, 0)


def test_registering_a_household_does_not_query_per_member(town):
    def queries(size: int, number: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            household_register(
                actor=town.office,
                village=town.sanhe,
                head=household(number).head,
                members=household(number, size).members,
                number=number,
            )
        return len(captured.captured_queries)

    scope_of(town.office)  # the actor's scope is looked up once and kept on the actor
    # 10, and the audit chain: its last hash, and on PostgreSQL the lock that serialises it
    assert queries(2, "H-1") == queries(6, "H-2") <= 12


# --- identity tags ------------------------------------------------------------------------


def test_a_tag_batch_adds_each_tag_once_with_one_audit_entry_each(town):
    first, second = f.person(town.sanhe, name="甲"), f.person(town.dashan, name="乙")
    identity_tag_add(
        actor=town.office, person=first, category_key="低保对象", department="区民政局",
        source_batch="2022-11",
    )  # fmt: skip
    tags = [
        IdentityTagData(first.pk, "低保对象", "区民政局", source_batch="2022-11"),  # already there
        IdentityTagData(first.pk, "特困人员", " 区民政局 ", source_batch="2022-11"),
        IdentityTagData(second.pk, "低保对象", "区民政局", source_batch="2022-11"),
        IdentityTagData(second.pk, "低保对象", "区民政局", source_batch="2022-11"),  # twice
    ]

    added = identity_tags_add_many(actor=town.office, tags=tags)

    assert added == 2
    assert sorted(
        IdentityTag.objects.values_list("person__name", "category_key", "department")
    ) == [
        ("乙", "低保对象", "区民政局"),
        ("甲", "低保对象", "区民政局"),
        ("甲", "特困人员", "区民政局"),
    ]
    entries = AuditLog.objects.filter(action="identity_tag.add").order_by("id")
    assert entries.count() == 3
    assert [e.after["category_key"] for e in entries] == ["低保对象", "特困人员", "低保对象"]
    assert [e.after["person_id"] for e in entries] == [first.pk, first.pk, second.pk]


def test_a_tag_batch_with_a_category_no_policy_knows_writes_nothing_and_names_the_person(town):
    first, second = f.person(town.sanhe, name="甲"), f.person(town.sanhe, name="乙")
    before = (IdentityTag.objects.count(), AuditLog.objects.count())
    with pytest.raises(ApplicationError) as error:
        identity_tags_add_many(
            actor=town.office,
            tags=[
                IdentityTagData(first.pk, "低保对象", "区民政局"),
                IdentityTagData(second.pk, "不存在的类别", "区民政局"),
            ],
        )
    assert error.value.code == "unknown_identity"
    assert error.value.message.startswith("乙（")
    assert (IdentityTag.objects.count(), AuditLog.objects.count()) == before


def test_a_tag_batch_is_refused_to_a_village_collector_and_outside_the_scope(town):
    mine, theirs = f.person(town.sanhe), f.person(town.dashan)
    with pytest.raises(ApplicationError) as error:
        identity_tags_add_many(
            actor=town.sanhe_collector, tags=[IdentityTagData(mine.pk, "低保对象", "区民政局")]
        )
    assert error.value.code == "office_required"
    other_town = Township.objects.create(district=town.sanhe.township.district, name="永新镇")
    elsewhere = f.user("elsewhere_office", role=StaffMember.Role.TOWNSHIP, township=other_town)
    with pytest.raises(ApplicationError) as error:
        identity_tags_add_many(
            actor=elsewhere, tags=[IdentityTagData(theirs.pk, "低保对象", "区民政局")]
        )
    assert error.value.code == "not_found"
    assert not IdentityTag.objects.exists()


# --- payments -----------------------------------------------------------------------------


def test_a_payment_batch_enrolls_and_pays_everyone_at_the_policy_engines_amounts(town):
    plain, low_income, destitute, tier2 = (f.person(town.sanhe, name=n) for n in "甲乙丙丁")
    f.tag(low_income, "低保对象")
    f.tag(destitute, "特困人员")
    expected = {
        plain.pk: due(plain),
        low_income.pk: due(low_income, "低保对象"),
        destitute.pk: due(destitute, "特困人员"),
        tier2.pk: due(tier2, tier=2),
    }
    assert expected[destitute.pk] == 0 and expected[low_income.pk] < expected[plain.pk]
    payments = payment_record_many(
        actor=town.sanhe_collector,
        items=[
            item(plain, str(expected[plain.pk]), receipt_number="R-1"),
            item(low_income, str(expected[low_income.pk]), receipt_number="R-2"),
            item(destitute, "0", channel="tax_bureau"),
            item(tier2, str(expected[tier2.pk]), tier=2, idempotency_key="K-4"),
        ],
    )
    assert [p.enrollment.person_id for p in payments] == [
        plain.pk,
        low_income.pk,
        destitute.pk,
        tier2.pk,
    ]
    for payment in payments:
        payment.refresh_from_db()
        enrollment = payment.enrollment
        assert payment.amount == enrollment.personal == expected[enrollment.person_id]
        assert enrollment.status == Enrollment.Status.PAID
        assert enrollment.paid_at == payment.paid_at
        assert enrollment.standard == enrollment.subsidy + enrollment.personal
        assert payment.collector.user == town.sanhe_collector
        assert payment.recorded_by == town.sanhe_collector
        assert payment.slot == 0
    assert payments[2].is_zero_declaration
    assert Enrollment.objects.get(person=low_income).identity_name


def test_every_write_of_a_payment_batch_is_audited(town):
    enrolled = f.person(town.sanhe, name="已登记")
    enrollment_create(actor=town.sanhe_collector, person=enrolled, policy_id=f.POLICY, tier=2)
    new = f.person(town.sanhe, name="新参保")
    before = AuditLog.objects.count()
    first, second = payment_record_many(
        actor=town.sanhe_collector, items=[item(enrolled, "725", tier=2), item(new, "350")]
    )
    entries = list(AuditLog.objects.order_by("id")[before:])
    assert [(e.action, e.object_id) for e in entries] == [
        ("payment.record", str(first.pk)),
        ("payment.record", str(second.pk)),
    ]
    for entry in entries:
        assert entry.actor == town.sanhe_collector
    # The enrollment registered before: its change (unpaid -> paid), not a copy of it, and
    # not when (the payment's paid_at).
    assert entries[0].before == {"enrollment": {"status": "unpaid"}}
    assert entries[0].after["enrollment"] == {"status": "paid"}
    assert entries[0].after["enrollment_id"] == first.enrollment_id
    # The enrollment the payment created: all of it but what the payment says.
    assert entries[1].before is None
    assert entries[1].after["enrollment_id"] == second.enrollment_id
    assert entries[1].after["enrollment"]["tier"] == 1
    assert "status" not in entries[1].after["enrollment"]
    assert Decimal(entries[1].after["amount"]) == Decimal("350")


def test_a_payment_batch_with_one_bad_row_writes_nothing_and_names_the_row(town):
    good, low_income, other = (f.person(town.sanhe, name=n) for n in ("好人", "刘一", "第三"))
    f.tag(low_income, "低保对象")
    before = counts()
    with pytest.raises(ApplicationError) as error:
        payment_record_many(
            actor=town.sanhe_collector,
            items=[
                item(good, "350", receipt_number="R-1"),
                item(low_income, "350", receipt_number="R-2"),  # owes 35
                item(other, "350", receipt_number="R-3"),
            ],
        )
    assert error.value.code == "amount_mismatch"
    assert error.value.params["row"] == 2
    assert error.value.message.startswith("第2行：刘一")
    assert counts() == before
    # Nothing half-written: the good rows go through on their own afterwards.
    assert len(payment_record_many(actor=town.sanhe_collector, items=[item(good, "350")])) == 1


@pytest.mark.parametrize("refusal", ["deceased", "employee", "out_of_scope", "channel", "late"])
def test_every_rule_of_payment_record_refuses_a_batch_row(town, refusal):
    good, person = f.person(town.sanhe, name="好人"), f.person(town.sanhe, name="某人")
    kwargs = {}
    if refusal == "deceased":
        person_mark_deceased(actor=town.office, person=person, died_on=f.CAMPAIGN_DAY)
    elif refusal == "employee":
        other_insurance_record(actor=town.office, person=person, kind="employee", benefit_year=2023)
    elif refusal == "out_of_scope":
        person = f.person(town.dashan, name="某人")
    elif refusal == "channel":
        kwargs["channel"] = "bitcoin"
    else:
        kwargs["paid_at"] = f.aware(f.CAMPAIGN_DAY + dt.timedelta(days=1))  # a future date
    before = counts()
    with pytest.raises(ApplicationError) as error:
        payment_record_many(
            actor=town.sanhe_collector, items=[item(good, "350"), item(person, "350", **kwargs)]
        )
    with pytest.raises(ApplicationError) as single:
        payment_record(
            actor=town.sanhe_collector,
            person=person,
            policy_id=f.POLICY,
            tier=1,
            amount=Decimal("350"),
            channel=kwargs.get("channel", "cash"),
            paid_at=kwargs.get("paid_at", f.aware(PAID_ON)),
        )
    assert error.value.code == single.value.code
    assert error.value.message == f"第2行：{single.value.message}"
    if refusal == "out_of_scope":  # answered as a person who does not exist, unnamed
        assert error.value.message == f"第2行：找不到编号为{person.pk}的参保人"
    else:
        assert "某人" in error.value.message
    assert counts() == before


def test_resubmitting_a_payment_batch_returns_the_first_payments_and_writes_nothing(town):
    persons = [f.person(town.sanhe, name=f"居民{i}") for i in range(3)]
    items = [
        item(persons[0], "350", receipt_number="R-1"),
        item(persons[1], "350", idempotency_key="K-2"),
        item(persons[2], "350", receipt_number="R-3", idempotency_key="K-3"),
    ]
    first = payment_record_many(actor=town.sanhe_collector, items=items)
    before = counts()
    again = payment_record_many(actor=town.sanhe_collector, items=items)
    assert [p.pk for p in again] == [p.pk for p in first]
    assert counts() == before


def test_a_batch_mixing_replays_and_new_payments_writes_only_the_new(town):
    old, new = f.person(town.sanhe, name="旧"), f.person(town.sanhe, name="新")
    [first] = payment_record_many(
        actor=town.sanhe_collector, items=[item(old, "350", receipt_number="R-1")]
    )
    replay, fresh = payment_record_many(
        actor=town.sanhe_collector,
        items=[item(old, "350", receipt_number="R-1"), item(new, "350", receipt_number="R-2")],
    )
    assert replay.pk == first.pk
    assert fresh.pk != first.pk
    assert Payment.objects.count() == 2
    assert AuditLog.objects.filter(action="payment.record").count() == 2


def test_a_receipt_used_before_for_someone_else_refuses_the_batch(town):
    one, two = f.person(town.sanhe, name="一"), f.person(town.sanhe, name="二")
    payment_record_many(actor=town.sanhe_collector, items=[item(one, "350", receipt_number="R-1")])
    before = counts()
    with pytest.raises(ApplicationError) as error:
        payment_record_many(
            actor=town.sanhe_collector, items=[item(two, "350", receipt_number="R-1")]
        )
    assert error.value.code == "receipt_conflict"
    assert error.value.params["row"] == 1
    assert counts() == before


def test_the_same_receipt_twice_in_a_batch_is_one_payment_or_a_conflict(town):
    one, two = f.person(town.sanhe, name="一"), f.person(town.sanhe, name="二")
    first, again = payment_record_many(
        actor=town.sanhe_collector,
        items=[item(one, "350", receipt_number="R-1"), item(one, "350", receipt_number="R-1")],
    )
    assert first.pk == again.pk
    assert Payment.objects.count() == 1
    with pytest.raises(ApplicationError) as error:
        payment_record_many(
            actor=town.sanhe_collector,
            items=[item(two, "350", receipt_number="R-2"), item(one, "350", receipt_number="R-2")],
        )
    assert error.value.code == "receipt_conflict"
    assert error.value.params["row"] == 2
    assert Payment.objects.count() == 1


def test_a_person_twice_in_one_batch_is_already_paid(town):
    person = f.person(town.sanhe, name="两次")
    with pytest.raises(ApplicationError) as error:
        payment_record_many(
            actor=town.sanhe_collector,
            items=[
                item(person, "350", receipt_number="R-1"),
                item(person, "350", receipt_number="R-2"),
            ],
        )
    assert error.value.code == "already_paid"
    assert error.value.params["row"] == 2
    assert "两次" in error.value.message and "350" in error.value.message
    assert counts()[2:] == (0, 0, 0)


def test_a_batch_pays_a_reversed_person_again_in_the_next_slot(town):
    person = f.person(town.sanhe)
    payment = payment_record(
        actor=town.sanhe_collector,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="cash",
    )
    payment_reverse(actor=town.office, payment=payment, reason="档次选错")
    [again] = payment_record_many(actor=town.sanhe_collector, items=[item(person, "725", tier=2)])
    assert again.slot == 1
    enrollment = Enrollment.objects.get(person=person)
    assert (enrollment.tier, enrollment.personal, enrollment.status) == (2, Decimal("725"), "paid")


def test_an_empty_batch_writes_nothing(town):
    assert payment_record_many(actor=town.sanhe_collector, items=[]) == []
    assert household_register_many(actor=town.office, village=town.sanhe, households=[]) == []
    assert counts() == (0, 0, 0, 0, 0)


def test_paying_costs_a_fixed_number_of_queries(town):
    person = f.person(town.sanhe)
    with CaptureQueriesContext(connection) as captured:
        payment_record(
            actor=town.sanhe_collector,
            person=person,
            policy_id=f.POLICY,
            tier=1,
            amount=Decimal("350"),
            channel="cash",
            receipt_number="R-1",
        )
    # 14 (the policy's supplement included), the audit chain (as above), finding or storing
    # the quote (3 statements when it is new, as here; 1 once stored), and the facts an
    # office recorded about the person's year (graduating, a decision: EnrollmentFact)
    assert len(captured.captured_queries) <= 20
    # The second payment compiles no read of its own: each is compiled once per process
    # (yibao.core.prepared); compiling a query cost more than running it.
    other = f.person(town.sanhe, name="李四")
    with mock.patch.object(
        SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql
    ) as compiled:
        payment_record(
            actor=town.sanhe_collector,
            person=other,
            policy_id=f.POLICY,
            tier=1,
            amount=Decimal("350"),
            channel="cash",
            receipt_number="R-2",
        )
    # (Its inserts go through Django's insert compiler, which is not this one.)
    assert compiled.call_count == 0
    persons = [f.person(town.sanhe, name=f"居民{i}") for i in range(20)]
    with CaptureQueriesContext(connection) as captured:
        payment_record_many(actor=town.sanhe_collector, items=[item(p, "350") for p in persons])
    assert len(captured.captured_queries) <= 15


# --- payment_submit -----------------------------------------------------------------------


def submit(actor, person, **keys):
    return payment_submit(
        actor=actor,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="wechat",
        **keys,
    )


@pytest.mark.parametrize("keys", [{"receipt_number": "R-9"}, {"idempotency_key": "client-9"}])
def test_payment_submit_says_whether_it_recorded_the_payment_or_replayed_the_first(town, keys):
    person = f.person(town.sanhe)
    first = submit(town.sanhe_collector, person, **keys)
    again = submit(town.sanhe_collector, person, **keys)
    assert first.created is True
    assert again.created is False
    assert again.payment.pk == first.payment.pk
    assert Payment.objects.count() == 1


def test_payment_record_returns_the_payment_of_payment_submit(town):
    person = f.person(town.sanhe)
    result = submit(town.sanhe_collector, person, receipt_number="R-1")
    replay = payment_record(
        actor=town.sanhe_collector,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="wechat",
        receipt_number="R-1",
    )
    assert isinstance(replay, Payment) and replay.pk == result.payment.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_request_report_created_exactly_once():
    sanhe = f.area()["三河街社区"]
    collector = f.user("replayer", villages=(sanhe,))
    person = f.person(sanhe)
    workers = 6
    barrier = threading.Barrier(workers)
    created: list[bool] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            result = submit(collector, person, idempotency_key="same-request")
            with lock:
                created.append(result.created)
        except BaseException as error:  # reported below, the test must not hang
            with lock:
                failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sorted(created) == [False] * (workers - 1) + [True]
    assert Payment.objects.count() == 1
