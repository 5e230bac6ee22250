"""The office's entries that the policy needs, in Chromium at 360 px and 1366 px: the card of a
Tongnan hardship person while 潼南府办发〔2021〕77号 is missing (what is missing; the decision
is the office's), and the back-dated entry of a collector's paper receipt."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.records import factories as f
from yibao.collection.models import StaffMember
from yibao.registry.models import District, Township, Village

from .conftest import PASSWORD, PC, PHONE, screenshot, sign_in, width_at


def _tongnan(settings):
    settings.YIBAO_TODAY = "2022-11-15"
    district = District.objects.create(name="潼南区", code="500152")
    township = Township.objects.create(district=district, name="桂林街道")
    village = Village.objects.create(township=township, name="金佛社区", seq=1)
    person = f.person(village, name="刘桂兰")
    f.tag(person, "特困人员", department="区民政局")
    collector = f.user("jinfo", villages=(village,))
    office = f.user("guilin", role=StaffMember.Role.TOWNSHIP, township=township)
    for account in get_user_model().objects.filter(username__in=["jinfo", "guilin"]):
        account.set_password(PASSWORD)
        account.save(update_fields=["password"])
    return person, collector, office


def test_the_collector_sees_what_is_missing_and_the_office_decides_on_the_card(
    new_page, transactional_db, settings
):
    person, collector, office = _tongnan(settings)
    desk = new_page(viewport=PHONE)
    sign_in(desk, collector)
    desk.goto(f"/desk/person/{person.pk}/")
    expect(desk.get_by_test_id("missing-document")).to_contain_text("潼南府办发〔2021〕77号")
    expect(desk.get_by_test_id("office-only")).to_be_visible()
    expect(desk.get_by_test_id("fact-form")).to_have_count(0)
    screenshot(desk, "missing-document-collector")
    assert width_at(desk, PHONE) <= PHONE["width"]

    clerk = new_page()
    sign_in(clerk, office)
    clerk.goto(f"/desk/person/{person.pk}/")
    clerk.get_by_label("依据或原因（必填）").fill("77号文件未到，本人要求先参保")
    with clerk.expect_navigation():
        clerk.get_by_role("button", name="登记", exact=True).click()
    expect(clerk.get_by_test_id("fact")).to_contain_text("文件未收录期间不享受资助参保")
    expect(clerk.get_by_test_id(f"quote-{person.pk}-1")).to_contain_text("350.00")
    assert width_at(clerk, PHONE) <= PHONE["width"] and width_at(clerk, PC) <= PC["width"]
    screenshot(clerk, "missing-document-office")


def test_the_office_back_dates_a_paper_receipt_for_the_village_collector(page, town, settings):
    settings.YIBAO_TODAY = "2022-12-20"
    person = f.person(town.sanhe, name="停电户")
    sign_in(page, town.clerk)
    page.goto(f"/desk/person/{person.pk}/")
    page.get_by_test_id("backdate-link").click()
    page.get_by_label("票据上的缴费日期").fill("2022-12-10")
    page.get_by_label("收款征收员（现金、村POS等由征收员收取时选择）").select_option(label="陈晓燕")
    page.get_by_label("补录原因（必填）").fill("12月10日停电，开具纸质票据")
    page.get_by_label("纸质票据号").fill("ZP-001")
    page.get_by_role("button", name="按票据日期核定金额").click()
    expect(page.get_by_test_id("total")).to_have_text("¥350.00")
    assert width_at(page, PHONE) <= PHONE["width"] and width_at(page, PC) <= PC["width"]
    screenshot(page, "backdate")
    with page.expect_navigation():
        page.get_by_test_id("confirm").click()
    expect(page.get_by_text("陈晓燕").first).to_be_visible()
