"""The township office in Chromium: the dashboard sees the desk's payment; each role's pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.records import factories as f

from .conftest import PHONE, screenshot, sign_in
from .test_desk import to_confirmation


def test_the_township_dashboard_shows_a_payment_taken_at_a_village_desk(new_page, town):
    wang = f.person(town.sanhe, name="王秀梅", phone="13912345678")
    office = new_page()
    sign_in(office, town.clerk)
    office.goto("/office/")
    expect(office.get_by_test_id("total-paid")).to_have_text("0")

    desk = new_page(viewport=PHONE)
    sign_in(desk, town.sanhe_collector)
    to_confirmation(desk, wang, "选二档")
    desk.get_by_test_id("confirm").click()
    expect(desk.get_by_test_id("paid-message")).to_be_visible()

    office.reload()
    expect(office.get_by_test_id("total-paid")).to_have_text("1")
    sanhe_row = office.get_by_test_id("villages").get_by_role("row").filter(has_text="三河街社区")
    expect(sanhe_row).to_have_count(1)
    # Today's and this week's channel tables: one cash payment of 725.00 yuan (tier 2);
    # the collector holds it.
    expect(office.get_by_role("row", name="现金 1 0 0 725.00")).to_have_count(2)
    expect(office.get_by_role("row", name="陈晓燕 三河街社区 725.00 0.00 725.00")).to_have_count(1)
    # The daily progress chart is drawn by the vendored ECharts (SVG renderer).
    expect(office.locator("#progress-chart svg")).to_have_count(1)
    screenshot(office, "dashboard")


@pytest.mark.parametrize(
    ("who", "path", "heading", "name"),
    [
        ("sanhe_collector", "/desk/cash/", "我的现金", "cash"),
        ("sanhe_collector", "/ledger/", "台账", "ledger-collector"),
        ("clerk", "/ledger/", "台账", "ledger"),
        ("clerk", "/households/new/", "按户登记", "household-new"),
        ("clerk", "/desk/unpaid/", "未缴名单", "unpaid-township"),
        ("auditor", "/audit/", "审计", "audit"),
        ("district", "/office/", "征缴进度", "dashboard-district"),
        ("clerk", "/policy/", "政策", "policy"),
        ("district", "/policy/supplements/", "载入政策补充文件", "policy-supplement"),
    ],
)
def test_each_role_opens_its_pages_with_their_styles_and_scripts(
    page, town, who, path, heading, name
):
    f.person(town.sanhe, name="王秀梅", phone="13912345678")
    sign_in(page, getattr(town, who))
    response = page.goto(path)
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    screenshot(page, name)
