"""The intake pages through HTTP: roster upload with its report, identity list upload →
review → confirm, death lists with anomalies, worklists per village (a collector sees only
their own villages)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from tests.records import factories as f
from tests.transfer.conftest import write_csv, write_xlsx
from tests.transfer.sheets import resident_id
from yibao.intake.models import IdentityList
from yibao.registry.models import IdentityTag, Person


def upload(path):
    return SimpleUploadedFile(path.name, path.read_bytes())


def test_the_roster_page_imports_households_by_head_name_and_shows_the_report(
    town, office, tmp_path
):
    rows = [
        ["姓名", "身份证号", "户主姓名", "与户主关系", "村社区"],
        ["陈玉兰", resident_id(201), "王德明", "妻", "大山村"],
        ["王德明", resident_id(202), "", "户主", "大山村"],
        ["张三", resident_id(203), "李四", "子", "大山村"],
    ]
    path = write_csv(tmp_path / "花名册.csv", rows, encoding="gbk")

    page = office.post("/intake/roster/", {"file": upload(path), "good": "1"})

    text = page.content.decode()
    assert page.status_code == 200
    assert "新登记2人（新建1户）" in text and "户主姓名与“与户主关系”（同村） 1 户" in text
    assert "大山村户主“李四”的户没有户主行" in text
    assert Person.objects.get(name="陈玉兰").household.head.name == "王德明"


def test_a_roster_without_a_file_keeps_the_choices_and_says_why(town, office):
    page = office.post("/intake/roster/", {"village": town.dashan.pk, "good": "1"})
    text = page.content.decode()
    assert "请选择要上传的文件" in text
    assert f'<option value="{town.dashan.pk}" selected>' in text and "checked" in text


def test_an_identity_list_is_uploaded_reviewed_and_confirmed_on_its_pages(town, office, tmp_path):
    person = f.person(town.sanhe, name="甲")
    path = write_xlsx(
        tmp_path / "民政.xlsx",
        [["姓名", "身份证号", "身份类别"], ["甲", person.id_number, "低保对象"]],
    )
    form = {"department": "区民政局", "batch": "2022-12", "list_date": "2022-12-05"}

    staged = office.post("/intake/identity-lists/", {**form, "file": upload(path)})

    identity_list = IdentityList.objects.get()
    assert staged.status_code == 302
    assert staged["Location"] == f"/intake/identity-lists/{identity_list.pk}/"
    review = office.get(staged["Location"]).content.decode()
    assert "待确认" in review and "低保对象" in review and "新增" in review
    assert not IdentityTag.objects.exists()
    office.post(f"/intake/identity-lists/{identity_list.pk}/decide/", {"decision": "confirm"})
    assert IdentityTag.objects.get().person == person
    again = office.post("/intake/identity-lists/", {**form, "file": upload(path)})
    assert "区民政局2022-12批次的名单已导入（已确认）" in again.content.decode()


def test_collectors_cannot_open_the_office_intake_pages(town, sanhe):
    for url in ("/intake/roster/", "/intake/identity-lists/", "/intake/person-lists/"):
        assert sanhe.get(url).status_code == 403


def test_a_death_list_on_its_page_shows_the_payment_after_death(town, office, sanhe, tmp_path):
    from yibao.collection.services import payment_record

    person = f.person(town.sanhe, name="乙")
    payment_record(
        actor=town.sanhe_collector, person=person, policy_id=f.POLICY, tier=1, amount="350",
        channel="cash",
    )  # fmt: skip
    path = write_xlsx(
        tmp_path / "死亡.xlsx",
        [["姓名", "身份证号", "死亡日期"], ["乙", person.id_number, "2022-12-01"]],
    )
    page = office.post("/intake/person-lists/", {"kind": "death", "file": upload(path)})
    text = page.content.decode()
    assert "已标记" in text and "死亡后仍有缴费" in text
    assert "2022-12-01死亡，2022-12-05仍缴费350.00元" in text


def test_a_collector_sees_and_exports_their_villages_worklist_only(town, sanhe):
    f.person(town.sanhe, name="无电话", phone="")
    f.person(town.dashan, name="别村人", phone="")

    page = sanhe.get("/desk/worklists/?kind=no_phone").content.decode()
    assert "无电话" in page and "别村人" not in page
    assert sanhe.get(f"/desk/worklists/?kind=no_phone&village={town.dashan.pk}").status_code == 404
    export = sanhe.get("/desk/worklists/export.xlsx?kind=no_phone")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.cell(row=3, column=2).value == "无电话"


def test_the_areas_page_refuses_a_township_office_and_sets_up_for_the_district(town, office):
    from yibao.collection.models import StaffMember

    from .conftest import client_for

    refused = office.post("/intake/areas/", {"action": "load"})
    assert "载入统计用区划代码须由区医保局办理" in refused.content.decode()
    bureau = client_for(
        f.user("bureau", role=StaffMember.Role.DISTRICT, district=town.township.district)
    )
    assert bureau.post("/intake/areas/", {"action": "load"}).status_code == 302
    found = bureau.get("/intake/areas/?q=三江").content.decode()
    assert "500110003" in found
    page = bureau.post("/intake/areas/", {"action": "setup", "code": "500110003"}).content.decode()
    assert "綦江区三江街道（500110003）" in page


def test_the_ecard_worklist_shows_the_villages_activation_rate(town, sanhe):
    f.person(town.sanhe, name="未激活")
    page = sanhe.get("/desk/worklists/?kind=ecard").content.decode()
    assert "本村（社区）医保电子凭证激活率 0.00%（0/1人）" in page


def test_a_district_office_chooses_the_township_of_a_list(town, tmp_path):
    from yibao.collection.models import StaffMember
    from yibao.registry.models import Township, Village

    from .conftest import client_for

    other = Township.objects.create(district=town.township.district, name="古南街道")
    Village.objects.create(township=other, name="桥河社区")
    bureau = client_for(
        f.user("bureau", role=StaffMember.Role.DISTRICT, district=town.township.district)
    )
    person = f.person(town.sanhe, name="甲")
    path = write_xlsx(
        tmp_path / "民政.xlsx",
        [["姓名", "身份证号", "身份类别"], ["甲", person.id_number, "低保对象"]],
    )
    form = {"department": "区民政局", "batch": "2022-12", "list_date": "2022-12-05"}

    missing = bureau.post("/intake/identity-lists/", {**form, "file": upload(path)})
    assert "请选择名单所属的街道（镇）" in missing.content.decode()
    chosen = {**form, "township": town.township.pk, "file": upload(path)}
    assert bureau.post("/intake/identity-lists/", chosen).status_code == 302
    assert IdentityList.objects.get().township == town.township
