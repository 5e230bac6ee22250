"""The collector's desk in Chromium: find, pay tier 2 in cash, receipt, unpaid list, resends."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.records import factories as f
from yibao.collection.models import Payment

from .conftest import PHONE, screenshot, screenshot_print, sign_in

# 三江街发〔2022〕139号 二（一）: 2023 benefit year, tier 2 is 725 yuan, tier 1 350 yuan for a
# resident without a subsidised identity.
TIER2 = Decimal("725.00")
TIER1 = Decimal("350.00")


@pytest.fixture
def wang(town):
    return f.person(town.sanhe, name="王秀梅", phone="13912345678")


@pytest.fixture
def neighbour(town):
    return f.person(town.sanhe, name="刘德明", phone="13800000002")


def _unpaid_count(page: Page) -> str:
    page.goto("/desk/unpaid/")
    return re.sub(r"\s+", "", page.get_by_test_id("unpaid-count").inner_text())


def to_confirmation(page: Page, person, tier_label: str) -> None:
    """From the person's card, pick a tier and go on to the confirmation."""
    page.goto(f"/desk/person/{person.pk}/")
    page.get_by_label(tier_label).check()
    page.get_by_role("button", name="下一步：核对金额").click()
    expect(page.get_by_role("heading", name=re.compile("核对并收款"))).to_be_visible()


def test_a_collector_finds_a_resident_pays_tier_2_in_cash_and_the_unpaid_list_shrinks(
    new_page, town, wang, neighbour
):
    page = new_page(viewport=PHONE)
    sign_in(page, town.sanhe_collector)
    assert _unpaid_count(page).startswith("共2人未缴费")
    screenshot(page, "unpaid")

    page.goto("/desk/")
    page.get_by_role("searchbox", name="查找参保人").fill("wxm")
    result = page.get_by_test_id("result").filter(has_text="王秀梅")
    expect(result).to_have_count(1)
    expect(page.get_by_test_id("result")).to_have_count(1)  # 刘德明 is not wxm
    screenshot(page, "desk-search")
    result.click()

    expect(page.get_by_role("heading", name="王秀梅")).to_be_visible()
    screenshot(page, "desk-person")
    page.get_by_label("选二档").check()
    page.get_by_role("button", name="下一步：核对金额").click()

    expect(page.get_by_test_id("total")).to_have_text("¥725.00")
    expect(page.get_by_test_id("total-words")).to_contain_text("柒佰贰拾伍元整")
    expect(page.get_by_label("缴费渠道")).to_have_value("cash")
    screenshot(page, "desk-confirm")
    page.get_by_test_id("confirm").click()

    expect(page.get_by_test_id("paid-message")).to_have_text(
        re.compile(r"已为王秀梅缴纳2023年度二档725\.00元")
    )
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_contain_text("王秀梅")
    expect(receipt).to_contain_text("725.00 元")
    expect(receipt).to_contain_text("现金")
    screenshot(page, "receipt")
    page.get_by_test_id("print-58").click()
    expect(page.get_by_test_id("receipt")).to_contain_text("王秀梅")
    screenshot_print(page, "receipt-58mm")

    payment = Payment.objects.get()
    assert (payment.amount, payment.channel) == (TIER2, "cash")
    assert payment.enrollment.person == wang
    assert payment.enrollment.tier == 2

    assert _unpaid_count(page).startswith("共1人未缴费")
    rows = page.get_by_test_id("unpaid-row")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("刘德明")


def test_a_double_tap_without_javascript_records_one_payment(new_page, town, wang):
    # Without JavaScript nothing stops the second tap in the browser: only the server can.
    page = new_page(viewport=PHONE, java_script_enabled=False)
    sign_in(page, town.sanhe_collector)
    to_confirmation(page, wang, "选一档")
    expect(page.get_by_test_id("total")).to_have_text("¥350.00")
    page.get_by_test_id("confirm").dblclick()
    expect(page.get_by_test_id("receipt")).to_contain_text("350.00 元")
    assert Payment.objects.count() == 1
    assert Payment.objects.get().amount == TIER1


def test_the_same_confirmation_sent_again_returns_the_first_receipt(page, town, wang):
    """As when the network drops after the server recorded the payment and the phone sends
    the same request again: same body, same idempotency key."""
    sign_in(page, town.sanhe_collector)
    to_confirmation(page, wang, "选二档")
    with page.expect_request(lambda r: r.method == "POST" and "/desk/pay/" in r.url) as sent:
        page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("receipt")).to_contain_text("725.00 元")
    receipt_path = urlsplit(page.url).path
    request = sent.value

    again = page.request.post(
        request.url,
        data=request.post_data,
        headers={"Content-Type": request.headers["content-type"], "Referer": request.url},
        max_redirects=0,
    )
    assert again.status == 302
    assert urlsplit(again.headers["location"]).path == receipt_path
    assert Payment.objects.count() == 1

    # Going back re-renders the confirmation with a new key: the server still takes no
    # second payment for the same person and year.
    page.go_back()
    page.get_by_test_id("confirm").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert Payment.objects.count() == 1


def test_a_double_click_with_javascript_records_one_payment(new_page, town, wang):
    page = new_page()
    sign_in(page, town.sanhe_collector)
    to_confirmation(page, wang, "选二档")
    page.get_by_test_id("confirm").dblclick()
    expect(page.get_by_test_id("receipt")).to_contain_text("725.00 元")
    assert Payment.objects.count() == 1


def test_a_collector_cannot_open_another_villages_person_by_url(page, town, wang):
    stranger = f.person(town.binjiang, name="赵滨江", phone="13700000009")
    sign_in(page, town.sanhe_collector)
    absent = page.goto("/desk/person/999999/")
    assert absent is not None and absent.status == 404
    absent_page = page.get_by_role("main").inner_text()

    # Another village's person answers exactly as a person who does not exist.
    response = page.goto(f"/desk/person/{stranger.pk}/")
    assert response is not None and response.status == 404
    assert page.get_by_role("main").inner_text() == absent_page
    expect(page.get_by_role("alert")).to_contain_text("不在您负责的村（社区）范围内")
    assert "赵滨江" not in page.content()
    assert stranger.masked_id_number not in page.content()
    screenshot(page, "refused")

    response = page.goto(f"/desk/pay/?m={stranger.pk}&tier_{stranger.pk}=1")
    assert response is not None and response.status == 404
    assert "赵滨江" not in page.content()
    assert Payment.objects.count() == 0


def test_the_first_slip_printed_after_paying_is_not_marked_reprint(page, town, wang):
    sign_in(page, town.sanhe_collector)
    to_confirmation(page, wang, "选一档")
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("receipt")).not_to_contain_text("补打")
    page.get_by_test_id("print-58").click()
    expect(page.get_by_test_id("receipt")).not_to_contain_text("补打")
