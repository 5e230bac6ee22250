from tests.records import factories as f
from yibao.collection.models import Enrollment

from .conftest import API, POLICY, error_of, payment_body


def enroll(client, person, tier=1):
    return client.post_json(
        f"{API}/enrollments", {"person_id": person.pk, "policy": POLICY, "tier": tier}
    )


def test_an_enrollment_freezes_the_quoted_amounts(sanhe, town):
    person = f.person(town.sanhe)
    f.tag(person, "低保对象")
    response = enroll(sanhe, person)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["benefit_year"], body["tier"], body["status"]) == (2023, 1, "unpaid")
    assert (body["standard"], body["subsidy"], body["personal"]) == ("350.00", "315.00", "35.00")
    assert body["village"]["name"] == "三河街社区"
    assert body["policy"] == POLICY


def test_a_person_enrolled_in_another_village_cannot_be_enrolled_again(clerk, town):
    person = f.person(town.sanhe, name="重复", residence_village=town.binjiang)
    assert enroll(clerk, person).status_code == 201
    response = enroll(clerk, person)
    assert response.status_code == 409
    assert error_of(response)["code"] == "already_enrolled"
    assert Enrollment.objects.count() == 1


def test_a_tier_the_policy_marks_not_applicable_is_refused_with_the_engine_s_code(sanhe, town):
    person = f.person(town.sanhe, name="老兵")
    f.tag(person, "民政在乡老复员军人", department="退役军人事务局")
    response = enroll(sanhe, person, tier=1)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "identity_not_applicable"
    assert "老兵" in error["message"] and "一档" in error["message"]


def test_the_tier_is_changed_before_payment_and_re_quoted(sanhe, town):
    enrollment = enroll(sanhe, f.person(town.sanhe)).json()
    response = sanhe.post_json(f"{API}/enrollments/{enrollment['id']}/tier", {"tier": 2})
    assert response.status_code == 200
    assert (response.json()["tier"], response.json()["personal"]) == (2, "725.00")
    assert sanhe.get(f"{API}/enrollments/{enrollment['id']}").json()["tier"] == 2


def test_the_tier_cannot_be_changed_after_payment(sanhe, town):
    person = f.person(town.sanhe)
    payment = sanhe.post_json(f"{API}/payments", payment_body(person)).json()
    enrollment_id = Enrollment.objects.get(person=person).pk
    response = sanhe.post_json(f"{API}/enrollments/{enrollment_id}/tier", {"tier": 2})
    assert response.status_code == 409
    assert error_of(response)["code"] == "enrollment_paid"
    assert payment["amount"] == "350.00"


def test_a_tier_other_than_one_or_two_is_refused_in_chinese(sanhe, town):
    response = enroll(sanhe, f.person(town.sanhe), tier=3)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_input"
    assert "“tier”只能取以下值之一" in error["message"]
