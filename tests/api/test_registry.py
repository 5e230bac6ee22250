import re

from tests.records import factories as f
from yibao.registry.idcrypto import id_digest
from yibao.registry.models import Household, IdentityTag, Person

from .conftest import API, YEAR, error_of, payment_body

MASKED = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")


def test_the_person_list_shows_masked_id_numbers_only(sanhe, town):
    people = [f.person(town.sanhe, name=n) for n in ("甲", "乙", "丙")]
    response = sanhe.get(f"{API}/persons")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    for item in body["items"]:
        assert MASKED.match(item["masked_id_number"]), item
        assert "id_number" not in item
    for person in people:
        assert person.id_number not in response.text


def test_the_person_list_filters_by_village(clerk, town):
    f.person(town.sanhe, name="三河人")
    f.person(town.binjiang, name="滨江人")
    names = [
        p["name"] for p in clerk.get(f"{API}/persons?village_id={town.binjiang.pk}").json()["items"]
    ]
    assert names == ["滨江人"]


def test_the_person_list_filters_paid_and_unpaid_for_a_benefit_year(sanhe, town):
    paid = f.person(town.sanhe, name="已缴")
    f.person(town.sanhe, name="未缴")
    sanhe.post_json(f"{API}/payments", payment_body(paid))

    def names(query):
        return [p["name"] for p in sanhe.get(f"{API}/persons?{query}").json()["items"]]

    assert names(f"benefit_year={YEAR}&paid=true") == ["已缴"]
    assert names(f"benefit_year={YEAR}&paid=false") == ["未缴"]
    assert names(f"benefit_year={YEAR + 1}&paid=true") == []


def test_filtering_by_payment_without_a_benefit_year_is_refused(sanhe, town):
    response = sanhe.get(f"{API}/persons?paid=false")
    assert response.status_code == 400
    assert error_of(response)["code"] == "benefit_year_required"


def test_the_person_list_is_paginated(sanhe, town):
    for i in range(5):
        f.person(town.sanhe, name=f"人{i}")
    body = sanhe.get(f"{API}/persons?limit=2&offset=4").json()
    assert body["count"] == 5 and [p["name"] for p in body["items"]] == ["人4"]


def test_the_person_detail_shows_the_full_id_number_tags_and_enrollments(sanhe, town):
    person = f.person(town.sanhe, name="王五")
    f.tag(person, "低保对象")
    sanhe.post_json(f"{API}/payments", payment_body(person, "35.00"))
    body = sanhe.get(f"{API}/persons/{person.pk}").json()
    assert body["id_number"] == person.id_number
    assert body["hukou_village"] == {"id": town.sanhe.pk, "name": "三河街社区"}
    assert [t["category_key"] for t in body["identity_tags"]] == ["低保对象"]
    (enrollment,) = body["enrollments"]
    assert enrollment["status"] == "paid"
    assert (enrollment["standard"], enrollment["subsidy"], enrollment["personal"]) == (
        "350.00",
        "315.00",
        "35.00",
    )


def test_a_person_is_registered_with_sex_and_birth_date_from_the_id_number(sanhe, town):
    number = f.id_number(female=True)
    response = sanhe.post_json(
        f"{API}/persons",
        {"village_id": town.sanhe.pk, "id_number": number, "name": "陈红", "phone": "13900000000"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["sex"] == "female"
    assert body["birth_date"] == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    assert Person.objects.get(pk=body["id"]).hukou_village == town.sanhe


def test_an_invalid_id_number_is_refused_with_a_chinese_message(sanhe, town):
    number = f.id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = sanhe.post_json(
        f"{API}/persons", {"village_id": town.sanhe.pk, "id_number": wrong, "name": "错号"}
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_id_number"
    assert "错号" in error["message"]
    assert not Person.objects.exists()


def test_registering_the_same_id_number_twice_is_a_conflict(sanhe, clerk, town):
    existing = f.person(town.sanhe, name="张三")
    response = clerk.post_json(
        f"{API}/persons",
        {"village_id": town.binjiang.pk, "id_number": existing.id_number, "name": "张三"},
    )
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "person_exists" and "三河街社区" in error["message"]


def test_a_missing_field_is_named_in_chinese(sanhe, town):
    response = sanhe.post_json(f"{API}/persons", {"village_id": town.sanhe.pk, "name": "无号"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_input"
    assert error["message"] == "请求数据有误：请求内容“id_number”必须填写"
    assert error["details"]["errors"][0]["type"] == "missing"


def test_a_body_that_is_not_json_is_refused_in_chinese(sanhe):
    response = sanhe.post(f"{API}/persons", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in error_of(response)["message"]


def test_a_wrong_type_in_the_query_is_named_in_chinese(sanhe):
    response = sanhe.get(f"{API}/persons?village_id=三河")
    assert response.status_code == 400
    assert error_of(response)["message"] == "请求数据有误：查询参数“village_id”应为整数"


def test_a_household_is_registered_with_its_members_all_or_nothing(sanhe, town):
    head, child = f.id_number(), f.id_number()
    body = {
        "village_id": town.sanhe.pk,
        "number": "500222-0001",
        "address": "三河街12号",
        "head": {"id_number": head, "name": "户主甲"},
        "members": [{"id_number": child, "name": "子女乙", "relation_to_head": "子"}],
    }
    response = sanhe.post_json(f"{API}/households", body)
    assert response.status_code == 201, response.json()
    household = response.json()
    assert household["head_id"] == Person.objects.get(id_digest=id_digest(head)).pk
    assert sorted(m["name"] for m in household["members"]) == ["子女乙", "户主甲"]
    assert head not in response.text  # members are listed masked

    bad = {**body, "number": "500222-0002", "members": [{"id_number": "123", "name": "坏号"}]}
    bad["head"] = {"id_number": f.id_number(), "name": "户主丙"}
    response = sanhe.post_json(f"{API}/households", bad)
    assert response.status_code == 400
    assert Household.objects.count() == 1 and Person.objects.count() == 2


def test_an_identity_tag_is_added_once_per_batch(clerk, town):
    person = f.person(town.sanhe)
    tag = {"category_key": "低保对象", "department": "民政局", "source_batch": "2022-11"}
    first = clerk.post_json(f"{API}/persons/{person.pk}/identity-tags", tag)
    again = clerk.post_json(f"{API}/persons/{person.pk}/identity-tags", tag)
    assert first.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert IdentityTag.objects.count() == 1


def test_an_identity_tag_with_a_reversed_window_is_refused(clerk, town):
    person = f.person(town.sanhe)
    tag = {
        "category_key": "低保对象",
        "department": "民政局",
        "valid_from": "2023-01-01",
        "valid_to": "2022-01-01",
    }
    response = clerk.post_json(f"{API}/persons/{person.pk}/identity-tags", tag)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_window"


def test_a_collector_cannot_tag_their_own_villager_and_an_unknown_category_is_refused(
    sanhe, clerk, town
):
    person = f.person(town.sanhe)
    tag = {"category_key": "特困人员", "department": "民政局"}
    response = sanhe.post_json(f"{API}/persons/{person.pk}/identity-tags", tag)
    assert response.status_code == 403 and error_of(response)["code"] == "office_required"
    unknown = {"category_key": "101", "department": "民政局"}
    response = clerk.post_json(f"{API}/persons/{person.pk}/identity-tags", unknown)
    assert response.status_code == 400 and error_of(response)["code"] == "unknown_identity"
    assert not IdentityTag.objects.exists()
