"""Masking that holds: lists show the masked number without the birth date, pages are
capped, the full number is on one person's card only and reading it is audited; sign-ins
and failed sign-ins are in the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.records import factories as f
from yibao.core.models import AuditLog

from .conftest import API, error_of


def test_the_person_list_shows_the_masked_number_and_no_birth_date(sanhe, town):
    number = f.id_number()
    f.person(town.sanhe, name="列表", number=number)
    (item,) = sanhe.get(f"{API}/persons").json()["items"]
    assert item["masked_id_number"] == number[:6] + "********" + number[-4:]
    assert "birth_date" not in item and "id_number" not in item


@pytest.mark.parametrize(
    "query", ["limit=201", "limit=0", "limit=abc", "offset=-1", "offset=99999999999999999999"]
)
def test_bad_paging_parameters_are_a_400_not_a_500(sanhe, town, query):
    response = sanhe.get(f"{API}/persons?{query}")
    assert response.status_code == 400, response.content
    assert error_of(response)["code"] == "invalid_input"


def test_a_page_holds_at_most_200_people(sanhe, town):
    for i in range(205):
        f.person(town.sanhe, name=f"人{i}")
    page = sanhe.get(f"{API}/persons?limit=200").json()
    assert page["count"] == 205 and len(page["items"]) == 200
    assert len(sanhe.get(f"{API}/persons?limit=200&offset=200").json()["items"]) == 5


def test_a_person_s_card_shows_the_full_number_and_the_read_is_audited(sanhe, town):
    number = f.id_number()
    person = f.person(town.sanhe, name="卡片", number=number)
    card = sanhe.get(f"{API}/persons/{person.pk}").json()
    assert card["id_number"] == number
    assert card["birth_date"] == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    entry = AuditLog.objects.get(action="person.read_id_number")
    assert entry.actor == town.sanhe_collector and entry.object_id == str(person.pk)
    assert number not in str(entry.after)


def test_a_search_by_a_whole_id_number_is_audited_with_the_masked_number_only(sanhe, town):
    number = f.id_number()
    person = f.person(town.sanhe, name="整号", number=number)
    assert sanhe.get(f"{API}/persons", {"search": number}).json()["count"] == 1
    entry = AuditLog.objects.get(action="person.search_id_number")
    assert entry.actor == town.sanhe_collector and entry.object_id == str(person.pk)
    assert entry.after["found"] == [person.pk]
    assert number not in str(entry.after) and number[:6] + "********" in str(entry.after)


def test_a_search_by_the_last_six_digits_or_a_name_is_not_audited(sanhe, town):
    number = f.id_number()
    f.person(town.sanhe, name="六位", number=number)
    assert sanhe.get(f"{API}/persons", {"search": number[-6:]}).json()["count"] == 1
    assert sanhe.get(f"{API}/persons", {"search": "六位"}).json()["count"] == 1
    assert not AuditLog.objects.filter(action="person.search_id_number").exists()


def test_reading_a_village_ledger_as_json_is_audited_with_the_village_and_row_count(sanhe, town):
    for i in range(3):
        f.person(town.sanhe, name=f"台账{i}")
    response = sanhe.get(f"{API}/villages/{town.sanhe.pk}/ledger", {"benefit_year": 2023})
    assert response.status_code == 200 and len(response.json()["rows"]) == 3
    entry = AuditLog.objects.get(action="ledger.read")
    assert entry.actor == town.sanhe_collector and entry.object_id == str(town.sanhe.pk)
    assert entry.after == {"village": "三河街社区", "benefit_year": 2023, "rows": 3}


def test_searching_by_middle_digits_of_an_id_number_finds_nobody(sanhe, town):
    number = f.id_number()
    f.person(town.sanhe, name="搜索", number=number, phone="")

    def found(text: str) -> int:
        return sanhe.get(f"{API}/persons", {"search": text}).json()["count"]

    assert found(number[-6:]) == 1 and found(number) == 1
    assert found(number[-8:]) == 0  # birth month and day + the last four: no oracle


def test_sign_ins_failed_sign_ins_and_a_lock_out_are_audited(town, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = get_user_model().objects.get(username="sanhe")
    user.set_password("正确的密码Abc123")
    user.save()
    client = Client()
    assert (
        client.post("/login/", {"username": "sanhe", "password": "正确的密码Abc123"}).status_code
        == 302
    )
    stranger = Client()
    for _ in range(3):
        stranger.post("/login/", {"username": "sanhe", "password": "wrong"})
    actions = list(
        AuditLog.objects.filter(action__startswith="auth.")
        .order_by("id")
        .values_list("action", "actor_name")
    )
    assert actions[0] == ("auth.sign_in", "sanhe")
    assert ("auth.sign_in_failed", "sanhe") in actions
    assert ("auth.locked_out", "sanhe") in actions
