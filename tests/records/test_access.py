from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from yibao.collection.services import enrollment_create, payment_record
from yibao.core.access import (
    access_enrollment,
    access_payment,
    access_person,
    access_village,
    villages_in_scope,
)
from yibao.core.errors import ApplicationError

from . import factories as f


@pytest.fixture
def dashan_records(town):
    person = f.person(town.dashan, name="大山人")
    payment = payment_record(
        actor=town.dashan_collector,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="village_pos",
    )
    return person, payment.enrollment, payment


def test_a_collector_reaches_the_records_of_their_own_village(town, dashan_records):
    person, enrollment, payment = dashan_records
    actor = town.dashan_collector
    assert access_person(actor, person.pk) == person
    assert access_village(actor, town.dashan.pk) == town.dashan
    assert access_enrollment(actor, enrollment.pk) == enrollment
    assert access_payment(actor, payment.pk) == payment


@pytest.mark.parametrize("access", ["person", "village", "enrollment", "payment"])
def test_a_collector_of_another_village_is_refused_every_record(town, dashan_records, access):
    person, enrollment, payment = dashan_records
    target = {
        "person": (access_person, person.pk),
        "village": (access_village, town.dashan.pk),
        "enrollment": (access_enrollment, enrollment.pk),
        "payment": (access_payment, payment.pk),
    }[access]
    with pytest.raises(ApplicationError) as error:
        target[0](town.sanhe_collector, target[1])
    assert error.value.code == "out_of_scope"
    assert "sanhe" in error.value.message


def test_the_township_office_and_the_district_bureau_reach_every_village(town, dashan_records):
    person, enrollment, payment = dashan_records
    for actor in (town.office, town.bureau):
        assert access_person(actor, person.pk) == person
        assert access_payment(actor, payment.pk) == payment
        assert set(villages_in_scope(actor)) == {town.sanhe, town.dashan, town.wuli}


def test_a_user_without_a_collector_profile_reaches_nothing(town, dashan_records):
    person, _, _ = dashan_records
    stranger = get_user_model().objects.create_user(username="stranger", password=None)
    with pytest.raises(ApplicationError) as error:
        access_person(stranger, person.pk)
    assert error.value.code == "out_of_scope"
    with pytest.raises(ApplicationError):
        enrollment_create(actor=stranger, person=person, policy_id=f.POLICY, tier=1)


def test_a_missing_record_is_not_found(town):
    with pytest.raises(ApplicationError) as error:
        access_person(town.office, 999_999)
    assert error.value.code == "not_found"


def test_a_person_living_in_the_village_is_in_scope_of_its_collector(town):
    person = f.person(town.dashan, residence_village=town.sanhe)
    assert access_person(town.sanhe_collector, person.pk) == person
