"""The tax system's payment list: matched, recorded once through the payment service (the
same file twice, or the same list as .xlsx, records nothing new), discrepancies listed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from tests.records import factories as f
from yibao.collection.models import Enrollment, Payment
from yibao.collection.services import enrollment_create, payment_record
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.funds.models import TaxImport
from yibao.funds.tax import tax_payments_import

pytestmark = pytest.mark.django_db
HEADERS = ["序号", "姓名", "证件号码", "缴费金额", "缴费渠道", "缴费时间", "电子税票号码"]


@pytest.fixture
def ledger(town):
    sanhe = town.sanhe_collector
    people = {
        name: f.person(town.sanhe, name=name)
        for name in ("甲登记", "乙未登记", "丙少缴", "戊已缴", "己现金")
    }
    for name in ("甲登记", "丙少缴"):
        enrollment_create(actor=sanhe, person=people[name], policy_id=f.POLICY, tier=1)
    for name, channel in (("戊已缴", "wechat"), ("己现金", "cash")):
        payment_record(
            actor=sanhe, person=people[name], policy_id=f.POLICY, tier=1, amount="350",
            channel=channel,
        )  # fmt: skip
    return people


def _rows(people) -> list[list[str]]:
    unknown = f.id_number()
    return [
        ["1", "甲登记", people["甲登记"].id_number, "350.00", "微信", "2022-12-01 09:15:00", "SP001"],
        ["2", "乙未登记", people["乙未登记"].id_number, "725", "支付宝", "2022/12/02", "SP002"],
        ["3", "丙少缴", people["丙少缴"].id_number, "300.00", "渝快办", "2022-12-02 10:00", "SP003"],
        ["4", "丁外地", unknown, "350.00", "云闪付", "2022-12-03 11:00:00", "SP004"],
        ["5", "戊已缴", people["戊已缴"].id_number, "350.00", "农商行", "2022-12-03", "SP005"],
        ["6", "己现金", people["己现金"].id_number, "350.00", "电子税务局", "2022-12-04", "SP006"],
    ]  # fmt: skip


def _csv(tmp_path, rows, encoding="gbk"):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["国家税务总局重庆市綦江区税务局 城乡居民医保缴费明细"])
    writer.writerow(HEADERS)
    writer.writerows(rows)
    path = tmp_path / "税务缴费明细.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _xlsx(tmp_path, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    path = tmp_path / "税务缴费明细.xlsx"
    book.save(path)
    return path


def test_a_tax_file_imported_twice_records_each_payment_once_and_lists_every_discrepancy(
    town, ledger, tmp_path
):
    path = _csv(tmp_path, _rows(ledger))
    first = tax_payments_import(actor=town.office, path=path)
    assert (first.rows, first.recorded, first.already) == (6, 2, 0)
    kinds = {(d.row, d.kind) for d in first.discrepancies}
    assert kinds == {
        (4, "paid_not_registered"),  # 乙 (header on line 2, so 乙 is line 4)
        (5, "amount_mismatch"),
        (6, "unknown_id"),
        (7, "paid_twice"),
        (8, "cash_and_online"),
    }
    mismatch = next(d for d in first.discrepancies if d.kind == "amount_mismatch")
    assert mismatch.detail == "应缴一档350.00元或二档725.00元，实缴300.00元"
    assert mismatch.masked_id_number != ledger["丙少缴"].id_number  # masked

    second = tax_payments_import(actor=town.office, path=path)
    assert (second.recorded, second.already) == (0, 2)
    assert {d.kind for d in second.discrepancies} == {
        "amount_mismatch", "unknown_id", "paid_twice", "cash_and_online"
    }  # fmt: skip
    third = tax_payments_import(actor=town.office, path=_xlsx(tmp_path, _rows(ledger)))
    assert (third.recorded, third.already) == (0, 2)

    jia = Payment.objects.get(enrollment__person=ledger["甲登记"])
    assert (jia.amount, jia.channel, jia.receipt_number) == (Decimal("350.00"), "wechat", "SP001")
    assert jia.paid_at.date() == dt.date(2022, 12, 1)
    yi = Payment.objects.get(enrollment__person=ledger["乙未登记"])
    assert (yi.amount, yi.channel, yi.enrollment.tier) == (Decimal("725.00"), "alipay", 2)
    assert Enrollment.objects.get(person=ledger["乙未登记"]).status == "paid"
    assert Payment.objects.filter(enrollment__person=ledger["戊已缴"]).count() == 1
    assert Payment.objects.filter(enrollment__person=ledger["丙少缴"]).count() == 0
    assert (
        TaxImport.objects.count() == AuditLog.objects.filter(action="tax_import.run").count() == 3
    )
    backdated = AuditLog.objects.filter(action="payment.backdate")
    assert backdated.count() == 2
    assert all("税务缴费明细" in entry.after["backdate_reason"] for entry in backdated)


def test_a_utf8_file_reads_the_same(town, ledger, tmp_path):
    report = tax_payments_import(
        actor=town.office, path=_csv(tmp_path, _rows(ledger)[:1], encoding="utf-8-sig")
    )
    assert (report.recorded, report.discrepancies) == (1, [])


def test_a_village_collector_cannot_import_the_tax_list(town, ledger, tmp_path):
    with pytest.raises(ApplicationError) as refused:
        tax_payments_import(actor=town.sanhe_collector, path=_csv(tmp_path, _rows(ledger)))
    assert refused.value.code == "office_required"
    assert not TaxImport.objects.exists()


def test_the_office_uploads_the_list_on_its_page_and_sees_the_discrepancies(town, ledger, tmp_path):
    from tests.funds.conftest import client_for

    office = client_for(town.office)
    path = _csv(tmp_path, _rows(ledger))
    with path.open("rb") as handle:
        page = office.post("/funds/tax/", {"file": handle}).content.decode()
    assert "明细6行，新登记缴费2笔，此前已登记0笔" in page
    for label in ("已缴费但未参保登记", "缴费金额与核定金额不符", "身份证号不在本辖区参保人中",
                  "重复缴费", "已登记现金缴费，又在线上缴费"):  # fmt: skip
        assert label in page
    assert ledger["丙少缴"].id_number not in page
    assert client_for(town.sanhe_collector).get("/funds/tax/").status_code == 403


def test_the_clerk_scripts_the_import_and_the_api_takes_the_same_file(
    town, ledger, tmp_path, capsys
):
    from tests.api.conftest import ApiClient
    from yibao.api.tokens import api_token_issue
    from yibao.cli import main

    path = _csv(tmp_path, _rows(ledger))
    assert main(["tax", "import", str(path), "--user", "office"]) == 0
    out = capsys.readouterr().out
    assert "新登记缴费2笔" in out and "第6行\t身份证号不在本辖区参保人中" in out
    client = ApiClient(api_token_issue(actor=town.office, name="测试").secret)
    with path.open("rb") as handle:
        response = client.post("/api/v1/tax-imports", {"file": handle})
    assert response.status_code == 201
    body = response.json()
    assert (body["recorded"], body["already"]) == (0, 2)
    assert body["counts"] == {
        "amount_mismatch": 1, "unknown_id": 1, "paid_twice": 1, "cash_and_online": 1
    }  # fmt: skip
