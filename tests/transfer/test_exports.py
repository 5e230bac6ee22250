from decimal import Decimal

import openpyxl
import pytest

from tests.records import factories as f
from yibao.collection.models import Payment
from yibao.collection.selectors import collection_totals
from yibao.collection.services import enrollment_create, payment_record, payment_reverse
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.transfer.exports import COLUMNS, ledger_export

HEADER_ROW = 3


def pay(actor, person, amount, **kwargs):
    return payment_record(
        actor=actor, person=person, policy_id=f.POLICY, tier=1, amount=Decimal(amount), **kwargs
    )


@pytest.fixture
def campaign(town):
    """三河街社区 mid-campaign: paid in cash, zero declaration, reversed, unpaid, not enrolled."""
    actor = town.sanhe_collector
    paid = f.person(town.sanhe, name="刘德明")
    pay(actor, paid, "350", channel="cash", receipt_number="R001", paid_at=f.aware(f.CAMPAIGN_DAY))
    low = f.person(town.sanhe, name="陈秀英")
    f.tag(low, "低保对象")
    pay(actor, low, "35", channel="wechat", receipt_number="R002")
    zero = f.person(town.sanhe, name="王光明")
    f.tag(zero, "特困人员")
    pay(actor, zero, "0", channel="village_pos", receipt_number="R003")
    undone = f.person(town.sanhe, name="李国华")
    mistake = pay(actor, undone, "350", channel="alipay", receipt_number="R004")
    payment_reverse(actor=actor, payment=mistake, reason="重复收费")
    unpaid = f.person(town.sanhe, name="张桂兰")
    enrollment_create(actor=actor, person=unpaid, policy_id=f.POLICY, tier=1)
    f.person(town.sanhe, name="赵长生")  # registered, not enrolled
    f.person(town.dashan, name="大山人")
    return town


def rows_of(path):
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    return sheet, rows


def test_the_ledger_export_opens_with_openpyxl_and_its_totals_match_the_database(
    campaign, tmp_path
):
    path = tmp_path / "台账.xlsx"
    result = ledger_export(
        actor=campaign.sanhe_collector, village="三河街社区", benefit_year=f.YEAR, path=path
    )

    sheet, rows = rows_of(path)
    assert "綦江区三江街道三河街社区" in rows[0][0] and "2023年度" in rows[0][0]
    assert list(rows[HEADER_ROW - 1]) == [header for header, _, _ in COLUMNS]
    body, total = rows[HEADER_ROW:-1], rows[-1]
    assert len(body) == result.rows == 6
    column = {header: i for i, (header, _, _) in enumerate(COLUMNS)}
    db = collection_totals(
        actor=campaign.sanhe_collector, benefit_year=f.YEAR, village=campaign.sanhe
    )
    paid_total = sum(Decimal(str(r[column["实缴金额"]])) for r in body)
    assert paid_total == db.amount == Decimal("385.00")
    assert Decimal(str(total[column["实缴金额"]])) == db.amount
    assert total[0] == "合计" and total[column["姓名"]] == "6人"
    for header in ("个人缴费标准", "资助金额", "个人应缴"):
        assert Decimal(str(total[column[header]])) == sum(
            (Decimal(str(r[column[header]])) for r in body if r[column[header]] is not None),
            Decimal("0"),
        )
    assert AuditLog.objects.filter(action="transfer.ledger_export").count() == 1


def test_money_is_written_as_numbers_with_two_decimals_and_times_in_chongqing(campaign, tmp_path):
    path = tmp_path / "l.xlsx"
    ledger_export(actor=campaign.office, village=campaign.sanhe, benefit_year=f.YEAR, path=path)
    sheet, rows = rows_of(path)
    column = {header: i + 1 for i, (header, _, _) in enumerate(COLUMNS)}
    liu = next(
        r for r in range(HEADER_ROW + 1, sheet.max_row) if sheet.cell(r, 3).value == "刘德明"
    )
    cell = sheet.cell(liu, column["实缴金额"])
    assert cell.data_type == "n" and cell.value == 350 and cell.number_format == "0.00"
    paid_at = sheet.cell(liu, column["缴费时间（北京时间）"]).value
    assert (paid_at.date(), paid_at.hour) == (f.CAMPAIGN_DAY, 10)  # 10:00 in Chongqing
    total = sheet.cell(sheet.max_row, column["实缴金额"])
    assert total.data_type == "n" and total.number_format == "0.00"


def test_each_person_has_the_status_of_their_payment_and_ids_are_masked(campaign, tmp_path):
    path = tmp_path / "l.xlsx"
    ledger_export(actor=campaign.office, village="三河街社区", benefit_year=f.YEAR, path=path)
    _, rows = rows_of(path)
    column = {header: i for i, (header, _, _) in enumerate(COLUMNS)}
    by_name = {r[column["姓名"]]: r for r in rows[HEADER_ROW:-1]}
    status = {name: r[column["状态"]] for name, r in by_name.items()}
    assert status == {
        "刘德明": "已缴",
        "陈秀英": "已缴",
        "王光明": "零申报",
        "李国华": "已冲正",
        "张桂兰": "未缴",
        "赵长生": "未缴",
    }
    assert by_name["刘德明"][column["票据号"]] == "R001"
    assert by_name["刘德明"][column["缴费渠道"]] == "现金"
    assert by_name["陈秀英"][column["资助身份"]] == "低保对象"
    assert by_name["李国华"][column["实缴金额"]] == 0
    assert "重复收费" in by_name["李国华"][column["备注"]]
    assert by_name["赵长生"][column["备注"]] == "未参保登记"
    assert "大山人" not in by_name
    ids = [r[column["公民身份号码"]] for r in by_name.values()]
    assert all(len(i) == 18 and i[6:14] == "********" for i in ids)


def test_a_collector_of_another_village_is_refused_and_no_file_is_written(campaign, tmp_path):
    path = tmp_path / "l.xlsx"
    with pytest.raises(ApplicationError) as error:
        ledger_export(
            actor=campaign.dashan_collector, village="三河街社区", benefit_year=f.YEAR, path=path
        )
    assert error.value.code == "unknown_village"
    assert not path.exists() and not list(tmp_path.iterdir())
    assert not AuditLog.objects.filter(action="transfer.ledger_export").exists()


def test_an_unknown_village_is_refused(campaign, tmp_path):
    with pytest.raises(ApplicationError) as error:
        ledger_export(
            actor=campaign.office, village="不存在村", benefit_year=f.YEAR, path=tmp_path / "x.xlsx"
        )
    assert error.value.code == "unknown_village"


def test_the_payments_table_is_untouched_by_an_export(campaign, tmp_path):
    count = Payment.objects.count()
    ledger_export(
        actor=campaign.office, village="三河街社区", benefit_year=f.YEAR, path=tmp_path / "l.xlsx"
    )
    assert Payment.objects.count() == count
