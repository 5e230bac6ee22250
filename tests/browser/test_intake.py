"""The intake pages in Chromium: roster upload and report, identity list review, worklists;
no sideways scrolling at 360 px; screenshots at both widths."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.records import factories as f
from tests.transfer.conftest import write_csv, write_xlsx
from tests.transfer.sheets import resident_id

from .conftest import PC, PHONE, screenshot, sign_in, width_at


def test_the_office_imports_a_roster_and_reviews_an_identity_list(new_page, town, tmp_path):
    roster = write_csv(
        tmp_path / "花名册.csv",
        [
            ["姓名", "身份证号", "户主姓名", "与户主关系", "联系电话", "村社区"],
            ["陈玉兰", resident_id(301), "王德明", "妻", "13800000301", "三河街社区"],
            ["王德明", resident_id(302), "", "户主", "13800000302", "三河街社区"],
            ["刘小红", resident_id(303), "刘大贵", "女", "", "三河街社区"],
        ],
        encoding="gbk",
    )
    page = new_page()
    sign_in(page, town.clerk)
    page.goto("/intake/roster/")
    page.get_by_label("花名册文件").set_input_files(str(roster))
    page.get_by_label("只导入无误的行").check()
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_test_id("summary")).to_contain_text("新登记2人（新建1户）")
    expect(page.get_by_test_id("rejected")).to_contain_text("刘小红")
    screenshot(page, "intake-roster")
    assert width_at(page, PHONE) <= PHONE["width"]

    wang = f.person(town.sanhe, name="王秀梅")
    f.tag(wang, "特困人员", department="区民政局")
    listing = write_xlsx(
        tmp_path / "民政.xlsx",
        [["姓名", "身份证号", "身份类别"], ["王秀梅", wang.id_number, "低保对象"]],
    )
    page.set_viewport_size(PC)
    page.goto("/intake/identity-lists/")
    page.get_by_label("认定部门").fill("区残联")
    page.get_by_label("名单文件").set_input_files(str(listing))
    page.get_by_role("button", name="上传并比对").click()
    expect(page.get_by_test_id("status")).to_have_text("待确认")
    expect(page.get_by_test_id("entries")).to_contain_text("新增")
    screenshot(page, "intake-identity-review")
    assert width_at(page, PHONE) <= PHONE["width"]
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("status")).to_have_text("已确认")


def test_a_collector_works_through_the_villages_worklist_on_a_phone(new_page, town):
    f.person(town.sanhe, name="李四", phone="")
    page = new_page(viewport=PHONE)
    sign_in(page, town.sanhe_collector)
    page.goto("/desk/worklists/?kind=no_phone")
    expect(page.get_by_test_id("worklist-row")).to_have_count(1)
    screenshot(page, "intake-worklist")
    assert width_at(page, PHONE) <= PHONE["width"]
