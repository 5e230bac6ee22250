"""Worklists per village (issue 12, point 5), on 三河街社区 with people set up by hand.

Sanjiang 2023 (三江街发〔2022〕139号): tier 1 is 350 yuan, a 低保对象 pays 35 (annex 1).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.records import factories as f
from yibao.collection.models import Enrollment, Payment
from yibao.collection.services import payment_record
from yibao.core.errors import ApplicationError
from yibao.intake.worklists import worklist, worklist_table
from yibao.registry.models import Household, IdentityTag, OtherInsurance, Person

POLICY = f.POLICY  # qijiang-sanjiang-2023, benefit year 2023; today is 2022-12-05


def names(rows):
    return [r.person.name for r in rows]


def paid_in(person, year: int) -> None:
    """A paid enrollment of an earlier year, as the ledger holds it."""
    enrollment = Enrollment.objects.create(
        person=person,
        village=person.hukou_village,
        benefit_year=year,
        policy_id="earlier",
        tier=1,
        standard=320,
        subsidy=0,
        personal=320,
        quoted_on=dt.date(year - 1, 11, 1),
        status=Enrollment.Status.PAID,
    )
    Payment.objects.create(
        enrollment=enrollment, amount=320, channel="cash", paid_at=f.aware(dt.date(year - 1, 11, 1))
    )


def test_hardship_people_not_declared_are_listed_and_leave_the_list_when_declared(town):
    a, b = f.person(town.sanhe, name="阿低保"), f.person(town.sanhe, name="贝特困")
    expired = f.person(town.sanhe, name="过期")
    employee = f.person(town.sanhe, name="职工")
    dead = f.person(town.sanhe, name="已故")
    for person, key in (
        (a, "低保对象"),
        (b, "特困人员"),
        (employee, "低保对象"),
        (dead, "低保对象"),
    ):
        f.tag(person, key)
    IdentityTag.objects.create(
        person=expired, category_key="低保对象", department="民政局", valid_to=dt.date(2022, 11, 30)
    )
    OtherInsurance.objects.create(person=employee, kind="employee", benefit_year=2023)
    Person.objects.filter(pk=dead.pk).update(status="deceased", deceased_on=dt.date(2022, 10, 1))

    rows = worklist(
        actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="hardship"
    )

    # Both by the end of the collection period (三江街发〔2022〕139号), then by name.
    assert names(rows) == sorted(["阿低保", "贝特困"])
    assert {r.person.name: r.identities for r in rows} == {
        "阿低保": ["低保对象"],
        "贝特困": ["特困人员"],
    }
    assert {r.deadline for r in rows} == {dt.date(2022, 12, 15)}
    payment_record(
        actor=town.sanhe_collector, person=a, policy_id=POLICY, tier=1, amount="35", channel="cash"
    )
    after = worklist(
        actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="hardship"
    )
    assert names(after) == ["贝特困"]


def test_people_insured_in_either_of_the_last_two_years_but_not_this_one(town):
    last, before, both, never = (f.person(town.sanhe, name=n) for n in ("甲", "乙", "丙", "丁"))
    paid_in(last, 2022)
    paid_in(before, 2021)
    paid_in(both, 2021)
    paid_in(both, 2022)
    renewed = f.person(town.sanhe, name="戊")
    paid_in(renewed, 2022)
    payment_record(
        actor=town.sanhe_collector,
        person=renewed,
        policy_id=POLICY,
        tier=1,
        amount="350",
        channel="cash",
    )

    rows = worklist(actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="lapsed")

    assert {r.person.name: r.reason for r in rows} == {
        "甲": "2022年度已参保，2023年度未参保",
        "乙": "2021年度已参保，2023年度未参保",
        "丙": "2021年度、2022年度已参保，2023年度未参保",
    }
    assert never.name not in names(rows)


def test_households_with_some_members_enrolled_list_the_others(town):
    head, wife, son = (f.person(town.sanhe, name=n) for n in ("户主张", "妻李", "子张"))
    household = Household.objects.create(village=town.sanhe, number="H1", head=head)
    Person.objects.filter(pk__in=[head.pk, wife.pk, son.pk]).update(household=household)
    lonely = Household.objects.create(village=town.sanhe, number="H2")
    alone = f.person(town.sanhe, name="独户")
    Person.objects.filter(pk=alone.pk).update(household=lonely)
    payment_record(
        actor=town.sanhe_collector,
        person=head,
        policy_id=POLICY,
        tier=1,
        amount="350",
        channel="cash",
    )

    rows = worklist(
        actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="household_partial"
    )

    assert names(rows) == ["妻李", "子张"]
    assert rows[0].reason == "同户已有1人参保（户号H1）" and rows[0].household_head == "户主张"


def test_newborns_inside_their_ninety_days_are_listed_by_deadline(town):
    f.person(town.sanhe, name="新生甲", number=f.id_number(birth=dt.date(2022, 10, 1)))
    f.person(town.sanhe, name="新生乙", number=f.id_number(birth=dt.date(2022, 9, 6)))
    f.person(town.sanhe, name="较大", number=f.id_number(birth=dt.date(2022, 9, 5)))

    rows = worklist(
        actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="newborn"
    )

    # 2022-12-05 minus 90 days is 2022-09-06: born that day is still inside.
    assert [(r.person.name, r.deadline) for r in rows] == [
        ("新生乙", dt.date(2022, 12, 5)),
        ("新生甲", dt.date(2022, 12, 30)),
    ]


def test_people_without_a_reachable_phone(town):
    f.person(town.sanhe, name="无电话", phone="")
    f.person(town.sanhe, name="错号码", phone="123")
    f.person(town.sanhe, name="有电话", phone="13912345678")

    rows = worklist(
        actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="no_phone"
    )

    assert names(rows) == ["无电话", "错号码"]
    assert rows[0].reason == "未登记联系电话"


def test_a_collector_sees_only_their_own_villages_worklists(town):
    with pytest.raises(ApplicationError) as error:
        worklist(actor=town.sanhe_collector, village=town.dashan, policy_id=POLICY, kind="hardship")
    assert error.value.code == "not_found"


def test_the_worklist_command_prints_and_exports_to_xlsx(town, tmp_path, capsys):
    from openpyxl import load_workbook

    from yibao.cli import main

    f.person(town.sanhe, name="无电话", phone="")
    out = tmp_path / "清单.xlsx"
    args = ["worklist", "no_phone", "--village", "三河街社区", "--user", "sanhe"]
    assert main([*args, "--policy", POLICY]) == 0
    assert "三河街社区无有效联系电话（1人）" in capsys.readouterr().out
    assert main([*args, "--policy", POLICY, "--out", str(out)]) == 0
    sheet = load_workbook(out).active
    assert [c.value for c in sheet[2]] == [
        "序号",
        "姓名",
        "证件号码",
        "联系电话",
        "户主",
        "身份",
        "原因",
        "期限",
    ]
    assert sheet.cell(row=3, column=2).value == "无电话"
    assert sheet.cell(row=3, column=3).value.startswith("500222********")


def test_residents_registered_elsewhere_living_in_the_village_are_listed(town):
    f.person(town.dashan, name="外村住户", residence_village=town.sanhe)
    f.person(town.sanhe, name="本村人", residence_village=town.sanhe)

    rows = worklist(
        actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="residents"
    )

    assert [(r.person.name, r.reason) for r in rows] == [
        ("外村住户", "户籍在大山村，居住在本村（社区）")
    ]


def test_a_newborn_row_shows_the_birth_date_and_no_digit_of_the_id_number(town):
    number = f.id_number(birth=dt.date(2022, 10, 1))
    f.person(town.sanhe, name="新生丙", number=number)
    (row,) = worklist_table(
        worklist(actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="newborn")
    )
    # With the birth date shown, any digit of the number would narrow 1,000 candidates.
    assert "2022-10-01" in row[6]
    assert not any(number[-4:] in str(cell) for cell in row)
