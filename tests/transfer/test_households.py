"""Households from any roster a clerk has (issue 12, point 1).

The rosters name heads by 户主姓名 and 与户主关系, with the rows of one household scattered
through the file (clerks sort by name or village). Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

from yibao.registry.idcrypto import id_digest
from yibao.registry.models import Household, Person
from yibao.transfer.imports import persons_import

from .conftest import write_csv, write_xlsx
from .sheets import resident_id

ROSTER_HEADER = ["姓名", "身份证号", "户主姓名", "与户主关系", "联系电话", "村社区"]
BY_HEAD_NAME = "户主姓名与“与户主关系”（同村）"


def roster() -> list[list[object]]:
    """Four households, sorted by name so that no household's rows are adjacent.

    Two heads are called 王德明, in different villages: two households, not one.
    """
    return [
        ROSTER_HEADER,
        ["陈玉兰", resident_id(101), "王德明", "妻", "13800000101", "大山村"],
        ["李秀英", resident_id(102), "王德明", "配偶", "13800000102", "三河街社区"],
        ["刘大贵", resident_id(103), "刘大贵", "户主", "13800000103", "五里村"],
        ["刘小红", resident_id(104), "刘大贵", "女", "", "五里村"],
        ["王德明", resident_id(105), "王德明", "户主", "13800000105", "三河街社区"],
        ["王德明", resident_id(106), "", "户主", "13800000106", "大山村"],
        ["王小军", resident_id(107), "王德明", "子", "", "三河街社区"],
        ["张桂芳", resident_id(108), "", "本人", "13800000108", "五里村"],
        ["赵强", resident_id(109), "刘大贵", "孙子", "", "五里村"],
    ]


# ID number -> the ID number of the head of their household, typed from roster() above.
EXPECTED_HEADS = {
    resident_id(101): resident_id(106),
    resident_id(102): resident_id(105),
    resident_id(103): resident_id(103),
    resident_id(104): resident_id(103),
    resident_id(105): resident_id(105),
    resident_id(106): resident_id(106),
    resident_id(107): resident_id(105),
    resident_id(108): resident_id(108),
    resident_id(109): resident_id(103),
}


def write(kind: str, tmp_path, rows):
    if kind == "gbk-csv":
        return write_csv(tmp_path / "花名册.csv", rows, encoding="gbk")
    return write_xlsx(tmp_path / "花名册.xlsx", rows)


@pytest.mark.parametrize("kind", ["gbk-csv", "xlsx"])
def test_a_roster_naming_heads_by_name_and_relation_forms_households_from_scattered_rows(
    town, tmp_path, kind
):
    report = persons_import(actor=town.office, path=write(kind, tmp_path, roster()))

    assert report.ok, report.to_dict()["rejected"]
    assert report.persons_created == 9
    assert report.households_created == 4
    assert report.households_formed == {BY_HEAD_NAME: 4}
    assert "分户依据：户主姓名与“与户主关系”（同村）4户" in report.summary()
    heads = {
        p.id_number: p.household.head.id_number
        for p in Person.objects.select_related("household__head")
    }
    assert heads == EXPECTED_HEADS
    assert not Person.objects.filter(household__isnull=True).exists()
    liu = Household.objects.get(head__id_digest=id_digest(resident_id(103)))
    assert liu.village == town.wuli and liu.members.count() == 3


def test_two_heads_of_one_name_in_one_village_are_reported_and_not_merged(town, tmp_path):
    rows = [
        ROSTER_HEADER,
        ["王德明", resident_id(111), "", "户主", "", "大山村"],
        ["陈玉兰", resident_id(112), "王德明", "妻", "", "大山村"],
        ["王德明", resident_id(113), "", "户主", "", "大山村"],
        ["刘大贵", resident_id(114), "", "户主", "", "大山村"],
    ]
    path = write_xlsx(tmp_path / "同名.xlsx", rows)

    report = persons_import(actor=town.office, path=path, import_good_rows=True)

    assert [(r.row, r.code) for r in report.rejected] == [
        (2, "several_heads"),
        (3, "several_heads"),
        (4, "several_heads"),
    ]
    assert "大山村有2位户主都叫“王德明”（第2、4行）" in report.rejected[0].reason
    assert "未合并" in report.rejected[0].reason
    assert list(Person.objects.values_list("name", flat=True)) == ["刘大贵"]


def test_a_row_that_no_household_takes_is_a_bad_row_and_nothing_loose_is_written(town, tmp_path):
    rows = [
        ROSTER_HEADER,
        ["刘大贵", resident_id(121), "", "户主", "", "五里村"],
        ["陈玉兰", resident_id(122), "王老五", "妻", "", "五里村"],  # no such head
        ["刘小红", resident_id(123), "刘大贵", "女", "", "大山村"],  # head is in 五里村
        ["张三", resident_id(124), "", "", "", "五里村"],  # nothing to go by
    ]
    path = write_csv(tmp_path / "散户.csv", rows, encoding="gbk")

    report = persons_import(actor=town.office, path=path)

    assert not report.committed
    assert [(r.row, r.code) for r in report.rejected] == [
        (3, "head_missing"),
        (4, "head_missing"),
        (5, "household_unknown"),
    ]
    assert "户主“王老五”" in report.rejected[0].reason
    assert "大山村户主“刘大贵”的户没有户主行" in report.rejected[1].reason
    assert "请填写户号、户主身份证号，或户主姓名" in report.rejected[2].reason
    assert not Person.objects.exists()

    good = persons_import(actor=town.office, path=path, import_good_rows=True)

    assert good.persons_created == 1 and good.households_created == 1
    assert list(Person.objects.values_list("name", "household__head__name")) == [
        ("刘大贵", "刘大贵")
    ]


def test_a_later_roster_naming_a_registered_head_adds_members_to_that_household(town, tmp_path):
    persons_import(actor=town.office, path=write_xlsx(tmp_path / "a.xlsx", roster()))
    later = [
        ROSTER_HEADER,
        ["刘小宝", resident_id(131), "刘大贵", "孙子", "", "五里村"],
        ["王小花", resident_id(132), "王德明", "女", "", "大山村"],
    ]

    report = persons_import(actor=town.office, path=write_xlsx(tmp_path / "b.xlsx", later))

    assert report.ok and report.persons_created == 2 and report.households_created == 0
    assert Person.objects.get(name="刘小宝").household.head.id_number == resident_id(103)
    assert Person.objects.get(name="王小花").household.head.id_number == resident_id(106)


def test_reimporting_a_roster_says_what_is_already_there(town, tmp_path):
    path = write_xlsx(tmp_path / "花名册.xlsx", roster())
    persons_import(actor=town.office, path=path)

    again = persons_import(actor=town.office, path=path)

    assert again.ok and again.persons_created == 0
    assert len(again.already_present) == 9 and again.households_present == 4
    assert "9人此前已登记（4户），未重复导入" in again.summary()
    assert "未导入" not in again.summary().replace("未重复导入", "")
    assert Household.objects.count() == 4


def test_reimporting_with_one_bad_row_still_says_what_is_already_there(town, tmp_path):
    rows = roster()
    persons_import(actor=town.office, path=write_xlsx(tmp_path / "a.xlsx", rows))
    rows.append(["坏行", resident_id(141)[:-1] + "0", "刘大贵", "子", "", "五里村"])

    again = persons_import(actor=town.office, path=write_xlsx(tmp_path / "b.xlsx", rows))

    assert [r.code for r in again.rejected] == ["invalid_id_number"]
    assert again.summary() == (
        "b.xlsx：共10行，9人此前已登记（4户），未重复导入；1行有误，请改正后重新导入；"
        "分户依据：户主姓名与“与户主关系”（同村）4户"
    )


def test_without_head_names_consecutive_rows_after_a_head_form_one_household(town, tmp_path):
    rows = [
        ["姓名", "公民身份号码", "与户主关系", "村（社区）"],
        ["甲", resident_id(151), "子", "大山村"],  # no head above it
        ["乙", resident_id(152), "户主", "大山村"],
        ["丙", resident_id(153), "妻", "大山村"],
        ["丁", resident_id(154), "户主", "大山村"],
        ["戊", resident_id(155), "子", "大山村"],
        ["己", resident_id(156), "女", "大山村"],
    ]
    report = persons_import(
        actor=town.office, path=write_xlsx(tmp_path / "相邻.xlsx", rows), import_good_rows=True
    )

    assert [(r.row, r.code) for r in report.rejected] == [(2, "household_unknown")]
    assert report.households_created == 2
    assert report.households_formed == {"与户主关系（相邻行）": 2}
    members = {
        p.name: p.household.head.name for p in Person.objects.select_related("household__head")
    }
    assert members == {"乙": "乙", "丙": "乙", "丁": "丁", "戊": "丁", "己": "丁"}
