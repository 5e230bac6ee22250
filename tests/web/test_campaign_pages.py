"""The campaign pages: bulletins, targets (upload, findings, accept), reductions, assessment
and subsidy accounts, through the test client as the township office and others."""

from __future__ import annotations

import io
import re
import zlib

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.records import factories as f
from yibao.campaign.models import Bulletin, TargetReduction, TargetTable
from yibao.collection.services import payment_record

PAGES = [
    "/office/bulletins/",
    "/office/bulletins/bulletin.pdf",
    "/office/targets/",
    "/office/reductions/",
    "/office/assessment/",
    "/office/subsidy/",
]


def pdf_streams(data: bytes):
    """The PDF's compressed streams, inflated (its objects live in object streams)."""
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            yield zlib.decompress(match.group(1))
        except zlib.error:
            continue


@pytest.fixture
def paid(town):
    poor = f.person(town.sanhe, name="低保户", phone="13900000001")
    f.tag(poor, "低保对象", department="綦江区民政局")
    payment_record(actor=town.office, person=poor, policy_id=f.POLICY, tier=1, amount="35",
                   channel="cash")  # fmt: skip
    f.tag(f.person(town.dashan, name="未缴特困"), "特困人员")
    return poor


@pytest.mark.parametrize("path", PAGES)
def test_a_village_collector_cannot_open_the_campaign_pages(sanhe, path):
    assert sanhe.get(path).status_code == 403


def test_the_bulletin_page_shows_the_ranking_and_names_the_missing(office, paid):
    page = office.get("/office/bulletins/?on=2022-12-05")
    assert page.status_code == 200
    text = page.content.decode()
    assert "征缴进度通报" in text and "三河街社区" in text
    assert "未缴特困" in text and "低保户" not in text.split("困难群体未缴费名单")[1]
    assert 'data-test="bulletin-paid">1<' in text


def test_issuing_the_bulletin_from_the_page_keeps_it(office, paid):
    response = office.post("/office/bulletins/", {"on": "2022-12-05"})
    assert response.status_code == 302
    assert Bulletin.objects.get().on.isoformat() == "2022-12-05"
    assert "该日通报已发布" in office.get("/office/bulletins/?on=2022-12-05").content.decode()


def test_the_bulletin_exports_to_xlsx(office, paid):
    response = office.get("/office/bulletins/export.xlsx?on=2022-12-05")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["通报", "困难群体", "困难群体未参保名单"]


def test_the_bulletin_downloads_as_a_pdf_with_the_chinese_font_embedded(office, paid):
    response = office.get("/office/bulletins/bulletin.pdf?on=2022-12-05")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    data = response.content
    assert data.startswith(b"%PDF-")
    # The subset of Noto Sans CJK SC (Debian's fonts-noto-cjk) travels inside the file.
    objects = b"".join(pdf_streams(data))
    assert re.search(rb"/FontName /[A-Z]{6}\+Noto-Sans-CJK-SC", objects)
    assert b"/FontFile" in objects


def test_an_auditor_reads_bulletins_but_cannot_issue_one(auditor, paid):
    assert auditor.get("/office/bulletins/").status_code == 200
    assert auditor.post("/office/bulletins/", {"on": "2022-12-05"}).status_code == 403
    assert not Bulletin.objects.exists()


def sheet(rows) -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("任务表.xlsx", buffer.getvalue())


def test_a_target_table_is_uploaded_its_findings_shown_and_accepted(office, town):
    rows = [["村（社区）", "2023年目标任务数"], ["三河街社区", 1450], ["大山村", 1288], ["五里村", 896],
            ["合计", 3600]]  # fmt: skip
    response = office.post("/office/targets/", {"file": sheet(rows)})
    assert response.status_code == 302
    review = office.get(response["Location"]).content.decode()
    # 1450 + 1288 + 896 = 3634, printed 3600.
    assert "3634" in review and "3600" in review and "算术错误 1 处" in review
    table = TargetTable.objects.get()
    office.post(response["Location"], {"action": "accept"})
    table.refresh_from_db()
    assert table.status == "accepted"


def test_a_bad_upload_is_refused_beside_the_field(office, town):
    response = office.post("/office/targets/", {"file": sheet([["姓名", "电话"], ["张三", "1"]])})
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    assert not TargetTable.objects.exists()


def test_a_reduction_without_its_period_keeps_what_was_typed(office, town):
    person = f.person(town.sanhe, name="外地参保")
    data = {"id_number": person.id_number, "scope": "out_of_city", "insured_where": "贵州省遵义市",
            "evidence": "参保证明", "coverage_from": "", "coverage_to": ""}  # fmt: skip
    response = office.post("/office/reductions/", data)
    assert response.status_code == 400
    text = response.content.decode()
    assert "市外参保须填写参保期起止" in text and "贵州省遵义市" in text
    data.update(coverage_from="2023-01-01", coverage_to="2023-12-31")
    assert office.post("/office/reductions/", data).status_code == 302
    reduction = TargetReduction.objects.get()
    office.post("/office/reductions/", {"action": "revoke", "reduction_id": reduction.pk,
                                        "reason": "已回本地参保"})  # fmt: skip
    reduction.refresh_from_db()
    assert reduction.revoke_reason == "已回本地参保"


def test_assessment_and_subsidy_pages(office, paid):
    text = office.get("/office/assessment/").content.decode()
    assert "三江街发〔2022〕139号 四" in text and "合计" in text
    text = office.get("/office/subsidy/").content.decode()
    assert "綦江区民政局" in text and "315.00" in text
    book = office.get("/office/subsidy/?format=xlsx")
    assert openpyxl.load_workbook(io.BytesIO(book.content)).sheetnames == [
        "按部门和类别",
        "按村（社区）",
    ]
