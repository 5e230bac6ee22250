from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from yibao.collection.models import Enrollment
from yibao.collection.services import enrollment_change_tier, enrollment_create, payment_record
from yibao.core.errors import ApplicationError
from yibao.registry.services import other_insurance_record, person_mark_deceased

from . import factories as f


def test_enrolling_freezes_the_amounts_the_policy_engine_quotes(town):
    person = f.person(town.sanhe)
    f.tag(person, "低保对象")
    enrollment = enrollment_create(
        actor=town.sanhe_collector, person=person, policy_id=f.POLICY, tier=1
    )
    assert enrollment.benefit_year == 2023
    assert enrollment.village == town.sanhe
    assert (enrollment.standard, enrollment.subsidy, enrollment.personal) == (
        Decimal("350"),
        Decimal("315"),
        Decimal("35"),
    )
    assert enrollment.identity_name == "低保对象"
    assert enrollment.status == Enrollment.Status.UNPAID
    assert enrollment.quote["policy"] == f.POLICY


def test_a_person_without_identity_pays_the_full_tier_two_standard(town):
    enrollment = enrollment_create(
        actor=town.sanhe_collector, person=f.person(town.sanhe), policy_id=f.POLICY, tier=2
    )
    assert enrollment.personal == Decimal("725")
    assert enrollment.subsidy == Decimal("0")


def test_a_person_enrolled_for_the_year_cannot_be_enrolled_again_from_another_village(town):
    person = f.person(town.dashan, residence_village=town.sanhe)
    enrollment_create(actor=town.dashan_collector, person=person, policy_id=f.POLICY, tier=1)
    with pytest.raises(ApplicationError) as error:
        enrollment_create(actor=town.sanhe_collector, person=person, policy_id=f.POLICY, tier=2)
    assert error.value.code == "already_enrolled"
    # 三河街社区's collector sees the resident, not 大山村's enrollment: the village is unnamed.
    assert person.name in error.value.message and "大山村" not in error.value.message
    assert "其他村（社区）" in error.value.message
    assert Enrollment.objects.filter(person=person).count() == 1
    with pytest.raises(ApplicationError) as office:
        enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=2)
    assert "大山村" in office.value.message


def test_the_database_refuses_a_second_enrollment_for_the_same_year(town):
    person = f.person(town.sanhe)
    first = enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrollment.objects.create(
            person=person,
            village=town.dashan,
            benefit_year=first.benefit_year,
            policy_id=f.POLICY,
            tier=2,
            standard=Decimal("725"),
            subsidy=Decimal("0"),
            personal=Decimal("725"),
            quoted_on=f.CAMPAIGN_DAY,
        )


def test_a_deceased_person_cannot_be_enrolled(town):
    person = f.person(town.sanhe)
    person_mark_deceased(actor=town.office, person=person, died_on=f.CAMPAIGN_DAY)
    with pytest.raises(ApplicationError) as error:
        enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    assert error.value.code == "person_deceased"
    assert person.name in error.value.message
    assert not Enrollment.objects.exists()


def test_a_person_with_employee_insurance_that_year_cannot_be_enrolled(town):
    person = f.person(town.sanhe)
    other_insurance_record(actor=town.office, person=person, kind="employee", benefit_year=2023)
    with pytest.raises(ApplicationError) as error:
        enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    assert error.value.code == "employee_insured"
    assert "职工基本医疗保险" in error.value.message and person.name in error.value.message


def test_employee_insurance_in_another_year_does_not_prevent_enrollment(town):
    person = f.person(town.sanhe)
    other_insurance_record(actor=town.office, person=person, kind="employee", benefit_year=2022)
    assert enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1).pk


def test_a_person_insured_in_another_place_cannot_be_enrolled(town):
    person = f.person(town.sanhe)
    other_insurance_record(
        actor=town.office, person=person, kind="elsewhere", benefit_year=2023, place="成都"
    )
    with pytest.raises(ApplicationError) as error:
        enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    assert error.value.code == "insured_elsewhere"


def test_a_tier_the_policy_marks_not_applicable_for_the_identity_is_refused(town):
    person = f.person(town.sanhe, name="老兵")
    f.tag(person, "民政在乡老复员军人", department="退役军人事务局")
    with pytest.raises(ApplicationError) as error:
        enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    assert error.value.code == "identity_not_applicable"
    assert "老兵" in error.value.message and "一档" in error.value.message
    assert not Enrollment.objects.exists()


def test_an_unknown_policy_is_refused(town):
    with pytest.raises(ApplicationError) as error:
        enrollment_create(
            actor=town.office, person=f.person(town.sanhe), policy_id="nowhere-1999", tier=1
        )
    assert error.value.code == "policy_not_found"


def test_a_collector_cannot_enroll_a_person_of_another_village(town):
    person = f.person(town.dashan)
    with pytest.raises(ApplicationError) as error:
        enrollment_create(actor=town.sanhe_collector, person=person, policy_id=f.POLICY, tier=1)
    assert error.value.code == "not_found"
    assert not Enrollment.objects.exists()


def test_the_tier_can_be_changed_before_payment(town):
    person = f.person(town.sanhe)
    f.tag(person, "低保对象")
    enrollment = enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    changed = enrollment_change_tier(actor=town.office, enrollment=enrollment, tier=2)
    changed.refresh_from_db()
    assert changed.tier == 2
    assert (changed.subsidy, changed.personal) == (Decimal("350"), Decimal("375"))


def test_the_tier_cannot_be_changed_after_payment(town):
    person = f.person(town.sanhe)
    payment_record(
        actor=town.sanhe_collector,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="cash",
    )
    enrollment = Enrollment.objects.get(person=person)
    with pytest.raises(ApplicationError) as error:
        enrollment_change_tier(actor=town.office, enrollment=enrollment, tier=2)
    assert error.value.code == "enrollment_paid"
    enrollment.refresh_from_db()
    assert enrollment.tier == 1
