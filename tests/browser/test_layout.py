"""Every page fits a 360 px phone and a 1366 px PC without sideways scrolling (UI.md)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.records import factories as f

from .conftest import PC, PHONE, sign_in, width_at
from .test_desk import to_confirmation

# (role fixture, page name, path; {person} is a resident of 三河街社区)
PAGES = [
    ("sanhe_collector", "search results", "/desk/?q=wxm"),
    ("sanhe_collector", "person card", "/desk/person/{person}/"),
    ("sanhe_collector", "unpaid list", "/desk/unpaid/"),
    ("sanhe_collector", "my cash", "/desk/cash/"),
    ("sanhe_collector", "ledger", "/ledger/"),
    ("clerk", "dashboard", "/office/"),
    ("clerk", "household registration", "/households/new/"),
    ("clerk", "ledger", "/ledger/"),
    ("auditor", "audit trail", "/audit/"),
    ("district", "dashboard", "/office/"),
]


@pytest.mark.parametrize(("who", "name", "path"), PAGES, ids=[f"{w}:{n}" for w, n, _ in PAGES])
def test_the_page_fits_a_phone_and_a_pc(page, town, who, name, path):
    wang = f.person(town.sanhe, name="王秀梅", phone="13912345678")
    sign_in(page, getattr(town, who))
    response = page.goto(path.format(person=wang.pk))
    assert response is not None and response.status == 200
    assert (width_at(page, PHONE), width_at(page, PC)) == (PHONE["width"], PC["width"])


def test_the_confirmation_fits_a_phone(page, town):
    wang = f.person(town.sanhe, name="王秀梅", phone="13912345678")
    sign_in(page, town.sanhe_collector)
    to_confirmation(page, wang, "选二档")
    assert width_at(page, PHONE) == PHONE["width"]


def test_the_receipt_fits_a_phone_and_a_pc(page, town):
    wang = f.person(town.sanhe, name="王秀梅", phone="13912345678")
    sign_in(page, town.sanhe_collector)
    to_confirmation(page, wang, "选二档")
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    assert (width_at(page, PHONE), width_at(page, PC)) == (PHONE["width"], PC["width"])
