from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from yibao.collection.services import enrollment_create, payment_record
from yibao.core.access import (
    access_collector,
    access_enrollment,
    access_payment,
    access_person,
    access_village,
    scope_forget,
    scope_of,
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


ANSWERS = {
    "person": (access_person, "找不到编号为{}的参保人", "person_id"),
    "village": (access_village, "找不到编号为{}的村（社区）", "village_id"),
    "enrollment": (access_enrollment, "找不到编号为{}的参保登记", "enrollment_id"),
    "payment": (access_payment, "找不到编号为{}的缴费记录", "payment_id"),
    "collector": (access_collector, "找不到编号为{}的征收员", "collector_id"),
}


@pytest.mark.parametrize("access", sorted(ANSWERS))
def test_a_record_of_another_village_is_answered_exactly_as_a_missing_one(
    town, dashan_records, access
):
    person, enrollment, payment = dashan_records
    target_id = {
        "person": person.pk,
        "village": town.dashan.pk,
        "enrollment": enrollment.pk,
        "payment": payment.pk,
        "collector": town.dashan_collector.staff.pk,
    }[access]
    function, message, param = ANSWERS[access]
    with pytest.raises(ApplicationError) as refused:
        function(town.sanhe_collector, target_id)
    with pytest.raises(ApplicationError) as missing:
        function(town.sanhe_collector, 999_999)
    assert refused.value.to_dict() == {
        "code": "not_found",
        "message": message.format(target_id),
        "params": {param: target_id},
    }
    assert missing.value.to_dict() == {
        "code": "not_found",
        "message": message.format(999_999),
        "params": {param: 999_999},
    }
    assert "大山" not in refused.value.message


def test_a_collector_sees_themself_and_the_offices_see_every_collector_of_the_township(town):
    dashan = town.dashan_collector.staff
    assert access_collector(town.dashan_collector, dashan.pk) == dashan
    assert access_collector(town.office, dashan.pk) == dashan
    assert access_collector(town.bureau, dashan.pk) == dashan


def test_the_scope_is_computed_once_per_actor_and_answers_without_queries(
    town, django_assert_num_queries
):
    actor = town.sanhe_collector
    scope_forget(actor)
    with django_assert_num_queries(2):  # the collector profile and its villages
        scope = scope_of(actor)
    with django_assert_num_queries(0):
        assert scope_of(actor) is scope
        assert town.sanhe.pk in scope and town.dashan.pk not in scope
        assert scope.among([town.sanhe.pk, town.dashan.pk, None]) == {town.sanhe.pk}


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
    assert error.value.code == "not_found"
    with pytest.raises(ApplicationError):
        enrollment_create(actor=stranger, person=person, policy_id=f.POLICY, tier=1)


def test_a_missing_record_is_not_found(town):
    with pytest.raises(ApplicationError) as error:
        access_person(town.office, 999_999)
    assert error.value.code == "not_found"


def test_a_person_living_in_the_village_is_in_scope_of_its_collector(town):
    person = f.person(town.dashan, residence_village=town.sanhe)
    assert access_person(town.sanhe_collector, person.pk) == person
