"""The campaign pages in Chromium, at phone and PC widths: bulletin, targets, assessment,
subsidy accounts (tables scroll inside their frame; the page itself does not)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.records import factories as f
from yibao.collection.services import payment_record

from .conftest import PC, PHONE, screenshot, sign_in, width_at


@pytest.mark.parametrize(
    ("path", "heading", "name"),
    [
        ("/office/bulletins/", "征缴进度通报", "bulletin"),
        ("/office/targets/", "目标任务表", "targets"),
        ("/office/reductions/", "目标任务核减", "reductions"),
        ("/office/assessment/", "考核得分", "assessment"),
        ("/office/subsidy/", "资助参保资金", "subsidy"),
    ],
)
def test_the_campaign_pages_fit_a_phone_and_a_pc(page, town, path, heading, name):
    poor = f.person(town.sanhe, name="王秀梅", phone="13912345678")
    f.tag(poor, "低保对象", department="綦江区民政局")
    payment_record(actor=town.clerk, person=poor, policy_id=f.POLICY, tier=1, amount="35",
                   channel="cash")  # fmt: skip
    f.tag(f.person(town.binjiang, name="李小红"), "特困人员")
    sign_in(page, town.clerk)
    response = page.goto(path)
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    assert (width_at(page, PHONE), width_at(page, PC)) == (PHONE["width"], PC["width"])
    screenshot(page, name)
