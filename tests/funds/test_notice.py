"""缴费信息公示: a village's payers with the name partly masked, no ID number, tier and
amount, as a printable page, an .xlsx, an API route and a command."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from tests.funds.conftest import client_for
from tests.records import factories as f
from yibao.collection.services import payment_record, payment_reverse
from yibao.core.masking import mask_name

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "shown"), [("王秀梅", "王*梅"), ("欧阳秀梅", "欧**梅"), ("王梅", "王*"), ("王", "王")]
)
def test_a_name_is_partly_masked(name, shown):
    assert mask_name(name) == shown


@pytest.fixture
def payers(town):
    sanhe = town.sanhe_collector
    wang = f.person(town.sanhe, name="王秀梅")
    li = f.person(town.sanhe, name="李大山")
    zhao = f.person(town.sanhe, name="赵退费")
    payment_record(
        actor=sanhe, person=wang, policy_id=f.POLICY, tier=2, amount="725", channel="cash"
    )
    payment_record(
        actor=sanhe, person=li, policy_id=f.POLICY, tier=1, amount="350", channel="wechat"
    )
    reversed_ = payment_record(
        actor=sanhe, person=zhao, policy_id=f.POLICY, tier=1, amount="350", channel="wechat"
    )
    payment_reverse(actor=town.office, payment=reversed_, reason="退费")
    payment_record(
        actor=town.dashan_collector, person=f.person(town.dashan, name="孙外村"),
        policy_id=f.POLICY, tier=1, amount="350", channel="wechat",
    )  # fmt: skip
    return wang, li


def test_the_notice_page_lists_this_years_payers_masked_without_id_numbers(town, payers):
    wang, li = payers
    page = re.sub(
        r"\s+", " ", client_for(town.sanhe_collector).get("/funds/notice/").content.decode()
    )
    assert "三江街道三河街社区2023年度城乡居民医保缴费信息公示" in page
    assert '<td>王*梅</td><td>二档</td><td class="num">725.00</td>' in page
    assert '<td>李*山</td><td>一档</td><td class="num">350.00</td>' in page
    assert "赵*费" not in page and "孙*村" not in page  # reversed; another village
    assert "王秀梅" not in page and wang.id_number not in page and wang.id_number[-4:] not in page
    assert "共2人" in page and "sheet-a4.css" in page


def test_the_notice_exports_the_same_rows_to_xlsx(town, payers):
    response = client_for(town.office).get(f"/funds/notice/export.xlsx?village={town.sanhe.pk}")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["三江街道三河街社区2023年度城乡居民医保缴费信息公示"] + [None] * 5
    assert rows[1] == ["序号", "姓名", "档次", "个人缴费（元）", "资助（元）", "缴费日期"]
    assert [r[1:4] for r in rows[2:]] == [["王*梅", "二档", 725], ["李*山", "一档", 350]]


def test_another_villages_notice_is_not_found(town, payers):
    assert (
        client_for(town.dashan_collector).get(f"/funds/notice/?village={town.sanhe.pk}").status_code
        == 404
    )


def test_the_api_and_the_command_give_the_same_notice(town, payers, tmp_path, capsys):
    from tests.api.conftest import ApiClient
    from yibao.api.tokens import api_token_issue
    from yibao.cli import main

    client = ApiClient(api_token_issue(actor=town.sanhe_collector, name="测试").secret)
    body = client.get(f"/api/v1/villages/{town.sanhe.pk}/notice?benefit_year=2023").json()
    assert [(r["name"], r["tier"], r["amount"]) for r in body["rows"]] == [
        ("王*梅", "二档", "725.00"), ("李*山", "一档", "350.00")
    ]  # fmt: skip
    out = tmp_path / "公示.xlsx"
    assert main(["notice", "--village", "三河街社区", "--out", str(out), "--user", "office"]) == 0
    assert "（2人）" in capsys.readouterr().out and out.stat().st_size > 0
