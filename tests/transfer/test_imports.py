import json

import pytest

from tests.records import factories as f
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.idcrypto import id_digest
from yibao.registry.models import Household, IdentityTag, Person
from yibao.transfer.imports import persons_import

from .conftest import HEADERS, member, write_csv, write_xlsx
from .sheets import TITLE_ROWS, broken, register_conflicts, resident_id, thousand_rows

TITLE = "三江街道2023年度城乡居民医保新增参保人员花名册"


@pytest.fixture
def thousand(town, tmp_path):
    sheet = thousand_rows()
    register_conflicts(sheet)
    path = write_xlsx(tmp_path / "花名册.xlsx", sheet.rows, title=TITLE)
    assert TITLE_ROWS == 1
    return sheet, path


def test_a_thousand_row_sheet_with_fifty_bad_rows_reports_each_with_its_reason_and_imports_nothing(
    town, thousand
):
    sheet, path = thousand
    before = Person.objects.count()

    report = persons_import(actor=town.office, path=path)

    assert not report.committed
    assert report.header_row == 2 and report.rows_read == 1000
    assert {r.row: r.code for r in report.rejected} == sheet.bad
    assert all(r.reason for r in report.rejected)
    assert Person.objects.count() == before
    assert not Household.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="person.").exists()
    assert "50行有误，其余950行本次未导入" in report.summary()


def test_the_reasons_are_in_chinese_and_name_what_is_wrong(town, thousand):
    sheet, path = thousand
    reasons = {r.code: r.reason for r in persons_import(actor=town.office, path=path).rejected}
    assert "校验码不符" in reasons["invalid_id_number"]
    assert (
        reasons["duplicate_in_file"].startswith("证件号码与第")
        and "重复" in reasons["duplicate_in_file"]
    )
    assert "未知的村（社区）“不存在村”" in reasons["unknown_village"]
    assert reasons["name_required"] == "未填写姓名"
    assert "1999-09-09" in reasons["birth_date_mismatch"]
    assert "138000" in reasons["invalid_phone"]
    assert "已登记为“另一个人”（五里村）" in reasons["person_exists"]


def test_with_import_good_rows_the_950_good_rows_are_imported_and_the_50_reported(town, thousand):
    sheet, path = thousand

    report = persons_import(actor=town.office, path=path, import_good_rows=True)

    assert report.committed
    assert report.persons_created == 950
    assert report.households_created == 250
    assert {r.row: r.code for r in report.rejected} == sheet.bad
    assert {p.id_number for p in Person.objects.exclude(name="另一个人")} == set(sheet.good_ids)
    registered = AuditLog.objects.filter(action="household.register")
    assert registered.count() == 250
    assert sum(len(entry.after["members"]) for entry in registered) == 950
    assert AuditLog.objects.filter(action="transfer.persons_import").count() == 1
    head = Person.objects.get(id_digest=id_digest(sheet.rows[1][2]))
    assert head.household.head == head and head.household.number == "HH00000"
    assert head.household.members.count() == 4


def test_importing_the_same_sheet_twice_creates_no_duplicates(town, thousand):
    sheet, path = thousand
    persons_import(actor=town.office, path=path, import_good_rows=True)
    persons, households = Person.objects.count(), Household.objects.count()

    again = persons_import(actor=town.office, path=path, import_good_rows=True)

    assert again.persons_created == 0 and not again.committed
    assert len(again.already_present) == 950
    assert {r.code for r in again.already_present} == {"already_present"}
    assert {r.row: r.code for r in again.rejected} == sheet.bad
    assert (Person.objects.count(), Household.objects.count()) == (persons, households)


def test_a_second_import_without_the_flag_is_not_blocked_by_people_already_present(town, tmp_path):
    rows = [
        list(HEADERS),
        member(household="H1", name="王德明", number=resident_id(1)),
        member(household="H1", name="李秀英", number=resident_id(2), relation="配偶"),
    ]
    path = write_xlsx(tmp_path / "h1.xlsx", rows)
    assert persons_import(actor=town.office, path=path).persons_created == 2
    rows.append(member(household="H1", name="王小军", number=resident_id(3), relation="子女"))
    write_xlsx(path, rows)

    report = persons_import(actor=town.office, path=path)

    assert report.ok and report.committed
    assert report.persons_created == 1 and len(report.already_present) == 2
    newcomer = Person.objects.get(name="王小军")
    assert newcomer.household == Person.objects.get(name="王德明").household


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_a_csv_with_a_title_line_and_synonym_headers_imports_in_each_encoding(
    town, tmp_path, encoding
):
    rows = [
        ["綦江区三江街道新增参保人员名单"],
        ["户号", "姓名", "身份证号", "性别", "出生日期", "手机号码", "户籍村(社区)", "与户主关系"],
        ["D1", "谭秀兰", resident_id(10), "男", "1940/1/11", "13912345678", "大山村", "户主"],
        ["D1", "冉光琼", resident_id(11), "男", "19400112", "", "大山村", "妻"],
        [],
        ["制表人：张三"],
    ]
    path = write_csv(tmp_path / "名单.csv", rows, encoding=encoding)

    report = persons_import(actor=town.office, path=path)

    assert report.ok, report.to_dict()["rejected"]
    assert report.header_row == 2
    assert (
        report.encoding
        == {
            "gbk": "GBK",
            "gb18030": "GBK",
            "utf-8": "UTF-8",
            "utf-8-sig": "UTF-8 (BOM)",
        }[encoding]
    )
    assert report.persons_created == 2
    tan = Person.objects.get(name="谭秀兰")
    assert tan.hukou_village == town.dashan and tan.phone == "13912345678"
    assert tan.household.members.count() == 2
    assert report.rows_read == 2  # the blank line and the signature line are not persons


def test_a_row_with_a_name_but_no_id_number_is_rejected(town, tmp_path):
    rows = [list(HEADERS), member(household="", name="张三", number=resident_id(20))]
    rows.append(["", "李四"])
    path = write_csv(tmp_path / "a.csv", rows, encoding="gbk")
    report = persons_import(actor=town.office, path=path)
    assert [(r.row, r.code) for r in report.rejected] == [(3, "id_number_required")]
    assert not Person.objects.exists()


def test_an_id_number_typed_as_a_number_in_excel_is_rejected_as_mangled(town, tmp_path):
    row = member(household="", name="张三", number=resident_id(30))
    row[2] = int(row[2][:17] + "0")  # Excel keeps 15 significant digits of a number
    path = write_xlsx(tmp_path / "n.xlsx", [list(HEADERS), row])
    (rejected,) = persons_import(actor=town.office, path=path).rejected
    assert rejected.code == "id_number_mangled" and "设为文本" in rejected.reason


def test_a_collector_cannot_import_people_into_another_village(town, tmp_path):
    rows = [
        list(HEADERS),
        member(household="", name="张三", number=resident_id(40), village="三河街社区"),
        member(household="", name="李四", number=resident_id(41), village="大山村"),
    ]
    path = write_xlsx(tmp_path / "x.xlsx", rows)

    report = persons_import(actor=town.dashan_collector, path=path, import_good_rows=True)

    assert [(r.row, r.code) for r in report.rejected] == [(2, "unknown_village")]
    # The same answer as for a village that does not exist.
    assert report.rejected[0].reason == (
        "未知的村（社区）“三河街社区”：系统中没有这个村（社区）的名称或代码"
    )
    assert list(Person.objects.values_list("name", flat=True)) == ["李四"]


def test_the_village_option_fills_rows_without_a_village_and_rejects_rows_naming_another(
    town, tmp_path
):
    rows = [
        ["姓名", "公民身份号码", "户籍村（社区）", "与户主关系"],
        ["张三", resident_id(50), "", "户主"],
        ["李四", resident_id(51), "五里村", "户主"],
    ]
    path = write_xlsx(tmp_path / "v.xlsx", rows)
    report = persons_import(actor=town.office, path=path, village="大山村", import_good_rows=True)
    assert [(r.row, r.code) for r in report.rejected] == [(3, "village_mismatch")]
    assert Person.objects.get().hukou_village == town.dashan


def test_members_of_a_household_whose_head_is_rejected_are_rejected_with_the_head_named(
    town, tmp_path
):
    rows = [
        list(HEADERS),
        member(household="H9", name="户主甲", number=broken(resident_id(60))),
        member(household="H9", name="成员乙", number=resident_id(61), relation="子"),
        member(household="H8", name="单身丙", number=resident_id(62)),
    ]
    path = write_xlsx(tmp_path / "h.xlsx", rows)

    report = persons_import(actor=town.office, path=path, import_good_rows=True)

    assert [(r.row, r.code) for r in report.rejected] == [
        (2, "invalid_id_number"),
        (3, "head_rejected"),
    ]
    assert "第2行" in report.rejected[1].reason
    assert list(Person.objects.values_list("name", flat=True)) == ["单身丙"]


def test_a_household_without_a_head_row_or_with_two_is_rejected(town, tmp_path):
    rows = [
        list(HEADERS),
        member(household="A", name="甲", number=resident_id(70), relation="子"),
        member(household="B", name="乙", number=resident_id(71)),
        member(household="B", name="丙", number=resident_id(72)),
    ]
    report = persons_import(actor=town.office, path=write_xlsx(tmp_path / "h.xlsx", rows))
    assert [(r.row, r.code) for r in report.rejected] == [
        (2, "head_missing"),
        (3, "several_heads"),
        (4, "several_heads"),
    ]


def test_households_can_be_keyed_by_the_head_id_number(town, tmp_path):
    head, wife = resident_id(80), resident_id(81)
    rows = [
        ["户主身份证号", "姓名", "公民身份号码", "与户主关系", "村（社区）"],
        ["", "向德华", head, "户主", "五里村"],
        [head, "母秀珍", wife, "妻子", "五里村"],
    ]
    report = persons_import(actor=town.office, path=write_xlsx(tmp_path / "k.xlsx", rows))
    assert report.ok and report.households_created == 1
    assert Person.objects.get(id_digest=id_digest(wife)).household.head.id_number == head


def test_identity_tags_are_added_and_unknown_identities_are_rejected_under_a_policy(town, tmp_path):
    rows = [
        list(HEADERS),
        member(
            household="",
            name="甲",
            number=resident_id(90),
            identity="低保对象",
            department="民政局",
        ),
        member(
            household="", name="乙", number=resident_id(91), identity="富豪", department="民政局"
        ),
        member(household="", name="丙", number=resident_id(92), identity="特困人员"),
    ]
    path = write_xlsx(tmp_path / "i.xlsx", rows)

    report = persons_import(actor=town.office, path=path, import_good_rows=True, policy_id=f.POLICY)

    assert [(r.row, r.code) for r in report.rejected] == [
        (3, "unknown_identity"),
        (4, "department_required"),
    ]
    tag = IdentityTag.objects.get()
    assert (tag.person.name, tag.category_key, tag.department) == ("甲", "低保对象", "民政局")
    assert tag.source_batch == "i.xlsx"


def test_the_report_never_shows_a_full_id_number(town, thousand):
    sheet, path = thousand
    text = json.dumps(persons_import(actor=town.office, path=path).to_dict(), ensure_ascii=False)
    assert not any(str(row[2]) in text for row in sheet.rows[1:] if len(str(row[2])) == 18)
    assert "500222********" in text


def test_a_file_without_a_recognisable_header_is_refused(town, tmp_path):
    path = write_xlsx(tmp_path / "bad.xlsx", [["名字", "号码"], ["张三", resident_id(99)]])
    with pytest.raises(ApplicationError) as error:
        persons_import(actor=town.office, path=path)
    assert error.value.code == "no_header" and "姓名" in error.value.message


def test_progress_is_reported_every_n_rows(town, thousand):
    _, path = thousand
    seen = []
    persons_import(
        actor=town.office,
        path=path,
        import_good_rows=True,
        progress=lambda stage, done, total: seen.append((stage, done, total)),
        progress_every=250,
    )
    assert [s for s in seen if s[0] == "校验"] == [("校验", n, 1000) for n in (250, 500, 750, 1000)]
    assert seen[-1] == ("导入", 950, 950)


def test_without_a_policy_an_unknown_category_is_rejected_by_the_tag_services_own_check(
    town, tmp_path
):
    rows = [
        list(HEADERS),
        member(
            household="", name="丁", number=resident_id(93), identity="富豪", department="民政局"
        ),
        member(
            household="",
            name="戊",
            number=resident_id(94),
            identity="低保对象",
            department="民政局",
        ),
    ]
    path = write_xlsx(tmp_path / "j.xlsx", rows)

    report = persons_import(actor=town.office, path=path)

    assert [(r.row, r.code) for r in report.rejected] == [(2, "unknown_identity")]
    [rejected] = report.rejected
    assert "三江街道的政策" in rejected.reason and "没有身份类别“富豪”" in rejected.reason
    assert not Person.objects.exists() and not IdentityTag.objects.exists()
