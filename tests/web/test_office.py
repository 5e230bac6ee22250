"""The township office's pages and who may open them."""

from __future__ import annotations

import re

import pytest

from tests.campaign.conftest import aikou  # noqa: F401  (fixture)
from tests.records import factories as f
from tests.web.conftest import client_for
from tests.web.test_desk import _post
from yibao.collection.services import enrollment_create

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize("path", ["/office/", "/households/new/", "/audit/"])
def test_a_village_collector_cannot_open_office_pages(sanhe, path):
    assert sanhe.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/desk/", "/desk/unpaid/", "/households/new/"])
def test_an_auditor_reads_but_cannot_open_the_desk(auditor, path):
    assert auditor.get(path).status_code == 403


def test_the_home_page_sends_each_role_to_its_first_screen(sanhe, office, auditor):
    assert sanhe.get("/")["Location"] == "/desk/"
    assert office.get("/")["Location"] == "/office/"
    assert auditor.get("/")["Location"] == "/audit/"


def test_signed_out_visitors_are_sent_to_sign_in(client, town):
    response = client.get("/desk/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_dashboard_counts_a_new_payment(office, sanhe, town):
    person = f.person(town.sanhe, name="孙缴费")
    before = _text(office.get("/office/"))
    assert "三河街社区" in before
    _post(sanhe, {person.pk: 1}, {person.pk: "350.00"}, "p" * 32)
    page = _text(office.get("/office/"))
    # one paid person in the township: the totals card and the village row say 1
    assert 'data-test="total-paid">1<' in page
    assert "现金" in page


def test_household_registration_keeps_what_was_typed_and_names_the_bad_number(office, town):
    data = {
        "village": town.sanhe.pk,
        "rows": 4,
        "head_name": "周户主",
        "head_id_number": f.id_number(),
        "head_phone": "13800001111",
        "m0_name": "周成员",
        "m0_id_number": "500222195001010000",
        "m0_relation": "子",
    }
    response = office.post("/households/new/", data)
    page = _text(response)
    assert response.status_code == 400
    assert 'value="周户主"' in page and 'value="周成员"' in page
    assert "校验码" in page or "无效" in page


def test_household_registration_registers_the_household_and_opens_the_head(office, town):
    head_number = f.id_number()
    data = {
        "village": town.sanhe.pk,
        "rows": 4,
        "head_name": "吴户主",
        "head_id_number": head_number,
        "m0_name": "吴女儿",
        "m0_id_number": f.id_number(female=True),
        "m0_relation": "女",
    }
    response = office.post("/households/new/", data)
    assert response.status_code == 302
    page = _text(office.get(response["Location"]))
    assert "吴户主" in page and "吴女儿" in page


def test_the_id_check_answers_as_the_clerk_types(office, town):
    good = f.id_number()
    assert "号码有效" in _text(office.get("/households/check-id/", {"head_id_number": good}))
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert "校验码" in _text(office.get("/households/check-id/", {"head_id_number": bad}))


def test_the_ledger_lists_the_village_and_exports_the_same_columns(office, town):
    f.person(town.sanhe, name="郑台账")
    page = _text(office.get("/ledger/", {"village": town.sanhe.pk}))
    assert "郑台账" in page
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(
        io.BytesIO(office.get("/ledger/export.xlsx", {"village": town.sanhe.pk}).content)
    ).active
    headers = list(next(sheet.iter_rows(min_row=2, max_row=2, values_only=True)))
    assert headers[:4] == ["姓名", "证件号码", "户", "状态"]


def test_the_audit_trail_shows_a_payment_for_the_person(office, sanhe, town, auditor):
    person = f.person(town.sanhe, name="冯审计")
    _post(sanhe, {person.pk: 1}, {person.pk: "350.00"}, "q" * 32)
    page = _text(auditor.get("/audit/", {"person": person.pk}))
    assert "缴费" in page
    assert "sanhe" in page


def test_the_audit_trail_shows_the_enrollment_a_payment_changed_before_and_after(
    office, sanhe, town, auditor
):
    person = f.person(town.sanhe, name="褚登记")
    enrollment_create(actor=town.sanhe_collector, person=person, policy_id=f.POLICY, tier=1)
    _post(sanhe, {person.pk: 1}, {person.pk: "350.00"}, "r" * 32)
    page = auditor.get("/audit/", {"person": person.pk}).content.decode()
    # One entry for the payment, showing the enrollment's status as it changed.
    assert "enrollment.status：<del>unpaid</del> → <ins>paid</ins>" in page
    assert "amount：<ins>350.00</ins>" in page


def test_the_audit_trail_is_paged_newest_first(sanhe, town, auditor):
    person = f.person(town.sanhe, name="卫联系")
    for _ in range(53):  # 53 contact entries by sanhe: pages of 50 and 3
        sanhe.post(f"/desk/unpaid/{person.pk}/contact/", {"outcome": "away"})
    first = auditor.get("/audit/", {"person": person.pk}).content.decode()
    second = auditor.get("/audit/", {"person": person.pk, "page": 2}).content.decode()
    ids = [int(i) for i in re.findall(r"collection\.contactattempt#(\d+)", first + second)]
    assert len(ids) == 53 and ids == sorted(ids, reverse=True) and len(set(ids)) == 53
    assert "第 1 页，共 2 页" in first and "第 2 页，共 2 页" in second
    assert f"person={person.pk}&amp;page=2" in first  # the filter is kept on the next page


def test_ten_wrong_passwords_lock_the_account(client, town, settings):
    user = town.sanhe_collector
    user.set_password("正确的密码Abc123")
    user.save()
    for _ in range(10):
        client.post("/login/", {"username": "sanhe", "password": "wrong-password"})
    response = client.post("/login/", {"username": "sanhe", "password": "正确的密码Abc123"})
    assert "账号已锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_right_password_signs_in(client, town):
    user = town.sanhe_collector
    user.set_password("正确的密码Abc123")
    user.save()
    response = client.post("/login/", {"username": "sanhe", "password": "正确的密码Abc123"})
    assert response.status_code == 302
    assert client.get("/desk/").status_code == 200


def test_the_admin_is_not_reachable_by_a_collector(town):
    response = client_for(town.sanhe_collector).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_phone_menu_lists_every_page_of_the_role_by_section(sanhe, office):
    collector = _text(sanhe.get("/menu/"))
    assert "查找参保人" in collector and "未缴名单" in collector and "台账" in collector
    assert "审计日志" not in collector
    clerk = _text(office.get("/menu/"))
    assert "审计日志" in clerk and "按户登记" in clerk


def test_the_ledger_filters_and_pages_in_the_database(office, sanhe, town):
    people = [f.person(town.sanhe, name=f"台账{i:02d}") for i in range(55)]
    _post(sanhe, {people[7].pk: 1}, {people[7].pk: "350.00"}, "l" * 32)
    first = _text(office.get("/ledger/", {"village": town.sanhe.pk, "sort": "name"}))
    assert "共 55 条，第 1/2 页" in first
    assert "台账00" in first and "台账54" not in first
    paid = _text(office.get("/ledger/", {"village": town.sanhe.pk, "status": "已缴费"}))
    assert "共 1 条" in paid and "台账07" in paid
    found = _text(office.get("/ledger/", {"village": town.sanhe.pk, "q": people[3].id_number[-6:]}))
    assert "共 1 条" in found and "台账03" in found


def test_the_dashboard_marks_villages_below_aikous_95_percent_floor(aikou, office):  # noqa: F811
    """隘口府发〔2022〕50号 一 (参保率达95%以上): nobody has paid in 隘口镇, so each of its 11
    villages is marked, with the document cited; 三江's document sets no floor."""
    page = client_for(aikou.office).get("/office/").content.decode()
    assert page.count('data-test="below-floor"') == 11
    assert "隘口府发〔2022〕50号 一" in page and 'data-test="floor"' in page
    sanjiang = office.get("/office/").content.decode()
    assert 'data-test="floor"' not in sanjiang and "below-floor" not in sanjiang
