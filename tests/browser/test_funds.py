"""Fund safety in Chromium: a collector past the cash limits is flagged on the township
dashboard; a closed day prints on A4; the collector's cash page at phone width."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from playwright.sync_api import expect

from tests.records import factories as f
from yibao.collection.services import payment_record
from yibao.funds.services import cash_limit_set

from .conftest import PHONE, screenshot, sign_in, width_at


def _cash_on(town, day: dt.date, name: str) -> None:
    with override_settings(YIBAO_TODAY=day.isoformat()):
        payment_record(
            actor=town.sanhe_collector, person=f.person(town.sanhe, name=name),
            policy_id=f.POLICY, tier=1, amount="350.00", channel="cash",
        )  # fmt: skip


def test_a_collector_past_the_time_limit_is_flagged_on_the_dashboard(new_page, town):
    _cash_on(town, f.CAMPAIGN_DAY - dt.timedelta(days=9), "九天前")
    cash_limit_set(actor=town.clerk, township=town.township, amount="5000.00", days=7)
    office = new_page()
    sign_in(office, town.clerk)
    office.goto("/office/")
    expect(office.get_by_test_id("cash-over")).to_contain_text("陈晓燕（9天）")
    row = office.get_by_test_id("cash").get_by_role("row").filter(has_text="陈晓燕")
    expect(row.get_by_test_id("over-days")).to_have_text("超限时")
    expect(row.get_by_test_id("over-amount")).to_have_count(0)

    desk = new_page(viewport=PHONE)
    sign_in(desk, town.sanhe_collector)
    desk.goto("/desk/cash/")
    expect(desk.get_by_test_id("over-limit")).to_contain_text("超过限时7天")
    expect(desk.get_by_test_id("cash-age")).to_have_text("9天")
    assert width_at(desk, PHONE) <= PHONE["width"]
    screenshot(desk, "cash-over-limit")


def test_a_collector_past_the_amount_limit_is_flagged_on_the_dashboard(new_page, town):
    _cash_on(town, f.CAMPAIGN_DAY, "今天")
    cash_limit_set(actor=town.clerk, township=town.township, amount="300.00", days=7)
    office = new_page()
    sign_in(office, town.clerk)
    office.goto("/office/")
    expect(office.get_by_test_id("cash-over")).to_contain_text("陈晓燕（350.00元）")
    screenshot(office, "dashboard-cash-over")


def test_a_closed_day_prints_on_a4(new_page, town):
    _cash_on(town, f.CAMPAIGN_DAY, "今天")
    desk = new_page(viewport=PHONE)
    sign_in(desk, town.sanhe_collector)
    desk.goto("/funds/close/")
    desk.get_by_test_id("close-day").click()
    expect(desk.get_by_test_id("close-sheet")).to_contain_text("城乡居民医保费现金日结单")
    expect(desk.get_by_test_id("held-at-close")).to_have_text("350.00")
    desk.emulate_media(media="print")
    expect(desk.locator(".sidenav")).to_be_hidden()
    screenshot(desk, "daily-close-sheet")
