import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from yibao.collection.services import payment_record, payment_reverse
from yibao.core.models import AppendOnlyError, AuditLog
from yibao.registry.models import Person
from yibao.registry.services import person_register

from . import factories as f


@pytest.fixture
def entry(town):
    person = person_register(
        actor=town.sanhe_collector, hukou_village=town.sanhe, id_number=f.id_number(), name="审计"
    )
    return AuditLog.objects.get(action="person.register", object_id=str(person.pk))


def test_every_write_records_who_what_and_the_record_before_and_after(town):
    person = f.person(town.sanhe)
    payment = payment_record(
        actor=town.sanhe_collector,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="cash",
    )
    payment_reverse(actor=town.office, payment=payment, reason="收错")
    entries = list(AuditLog.objects.order_by("id"))
    assert [e.action for e in entries] == ["payment.record", "payment.reverse", "enrollment.unpay"]
    pay_entry = entries[0]
    assert pay_entry.actor == town.sanhe_collector and pay_entry.actor_name == "sanhe"
    # One entry for the payment, carrying the enrollment it created; what the payment itself
    # says (paid, when, the personal amount, the day of the quote) is not written twice.
    assert pay_entry.before is None
    assert Decimal(pay_entry.after["amount"]) == Decimal("350")
    assert pay_entry.after["enrollment"]["tier"] == 1
    assert pay_entry.after["enrollment"]["standard"] == "350.00"
    assert not {"status", "paid_at", "personal", "quoted_on"} & set(pay_entry.after["enrollment"])
    assert "recorded_by_id" not in pay_entry.after  # the entry's actor
    assert entries[1].actor == town.office
    assert Decimal(entries[1].before["amount"]) == Decimal("350")
    assert Decimal(entries[1].after["amount"]) == Decimal("-350")


def test_audit_records_mask_id_numbers(town, entry):
    assert "********" in entry.after["id_number"]
    full = f.id_number()
    person_register(actor=town.office, hukou_village=town.sanhe, id_number=full, name="全号")
    latest = AuditLog.objects.latest("id")
    assert full not in str(latest.after)
    assert latest.after["id_number"] == full[:6] + "********" + full[-4:]


def test_an_audit_record_cannot_be_changed_through_the_model(entry):
    entry.action = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_an_audit_record_cannot_be_changed_through_a_queryset(entry):
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get(pk=entry.pk).action == "person.register"


def test_the_database_refuses_a_raw_update_of_the_audit_table(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditlog SET action = %s WHERE id = %s", ["x", entry.pk])
    assert AuditLog.objects.get(pk=entry.pk).action == "person.register"


def test_the_database_refuses_a_raw_delete_from_the_audit_table(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [entry.pk])
    assert AuditLog.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_append_only_triggers_hold_outside_a_test_transaction_too():
    villages = f.area()
    office = f.admin()
    person_register(
        actor=office, hukou_village=villages["大山村"], id_number=f.id_number(), name="提交"
    )
    entry = AuditLog.objects.latest("id")
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditlog WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditlog SET after = NULL WHERE id = %s", [entry.pk])
    assert AuditLog.objects.filter(pk=entry.pk, after__isnull=False).exists()


def test_audit_entries_are_stored_as_utf8_json_without_escapes(town, entry):
    with connection.cursor() as cursor:
        cursor.execute("SELECT after FROM core_auditlog WHERE id = %s", [entry.pk])
        (raw,) = cursor.fetchone()
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
    assert "审计" in text and "\\u" not in text
    if connection.vendor == "sqlite":  # the text as written (PostgreSQL's jsonb is binary)
        assert '": ' not in text and ', "' not in text


def test_enrollments_quoted_alike_share_one_stored_quote(town):
    from yibao.collection.models import Enrollment, QuoteRecord

    for name in ("甲", "乙", "丙"):
        payment_record(
            actor=town.sanhe_collector,
            person=f.person(town.sanhe, name=name),
            policy_id=f.POLICY,
            tier=1,
            amount=Decimal("350"),
            channel="cash",
        )
    enrollments = list(Enrollment.objects.order_by("id"))
    assert len(enrollments) == 3 and QuoteRecord.objects.count() == 1
    assert {e.quote_record_id for e in enrollments} == {QuoteRecord.objects.get().pk}
    assert enrollments[0].quote["personal"] == "350.00"
    assert enrollments[0].quote["policy"] == f.POLICY


def _snapshot_as_before(model, values):
    """snapshot_values as it was written before its shortcuts for dates and choices."""
    from yibao.core.audit import _jsonable, _snapshot_fields
    from yibao.core.masking import mask_id_number

    data = {}
    for name, masked in _snapshot_fields(model):
        value = values.get(name)
        if type(value) is str or type(value) is int:
            if value == "":
                continue
            data[name] = mask_id_number(value) if masked else value
        elif value is None or value == [] or value == {}:
            continue
        else:
            data[name] = _jsonable(mask_id_number(value) if masked else value)
    return data


@pytest.mark.parametrize(
    "values",
    [
        {
            "id_type": Person.IdType.RESIDENT_ID,
            "id_number": "500222199001011234",
            "name": "张三",
            "sex": Person.Sex.FEMALE,
            "birth_date": dt.date(1990, 1, 1),
            "phone": "",
            "household_id": 3,
            "relation_to_head": "户主",
            "residence_village_id": None,
            "status": Person.Status.DECEASED,
            "deceased_on": dt.date(2022, 12, 5),
            "id_warnings": [],
        },
        {
            "id_type": "residence_permit",
            "id_number": "",
            "name": "",
            "sex": "male",
            "birth_date": None,
            "phone": "13800138000",
            "household_id": 0,
            "residence_village_id": 7,
            "status": "alive",
            "id_warnings": ["地区码有误"],
        },
    ],
)
def test_a_snapshot_is_what_it_was_before_its_shortcuts(values):
    from yibao.core.audit import snapshot_values

    new = snapshot_values(Person, values)
    assert new == _snapshot_as_before(Person, values)
    assert json.dumps(new, sort_keys=True) == json.dumps(
        _snapshot_as_before(Person, values), sort_keys=True
    )
