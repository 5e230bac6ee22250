"""Death, employee-insurance and university lists (issue 12, point 4), anomalies, patterns."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.records import factories as f
from tests.transfer.conftest import write_csv, write_xlsx
from yibao.collection.models import Enrollment
from yibao.collection.services import enrollment_create, payment_record
from yibao.core.errors import ApplicationError
from yibao.intake.people import anomaly_list, payer_patterns, person_list_import
from yibao.intake.worklists import worklist
from yibao.registry.models import Household, OtherInsurance, Person

POLICY = f.POLICY


def pay(town, person, amount="350"):
    return payment_record(
        actor=town.sanhe_collector, person=person, policy_id=POLICY, tier=1, amount=amount,
        channel="cash",
    )  # fmt: skip


def test_a_death_list_marks_people_deceased_flags_unpaid_enrollments_and_lists_payments_after_death(
    town, tmp_path
):
    unpaid, paid, stranger = (f.person(town.sanhe, name=n, phone="") for n in ("甲", "乙", "丙"))
    enrollment = enrollment_create(
        actor=town.sanhe_collector, person=unpaid, policy_id=POLICY, tier=1
    )
    pay(town, paid)  # on 2022-12-05
    rows = [
        ["姓名", "身份证号", "死亡日期"],
        ["甲", unpaid.id_number, "2022-11-20"],
        ["乙", paid.id_number, "2022-12-01"],
        ["外人", f.id_number(), "2022-11-01"],
        ["丙", stranger.id_number, ""],
    ]
    path = write_csv(tmp_path / "死亡名单.csv", rows, encoding="gbk")

    imported = person_list_import(actor=town.office, path=path, kind="death", benefit_year=2023)

    assert imported.counts == {"applied": 2, "unknown_person": 1, "invalid": 1}
    assert {e.name: e.outcome for e in imported.entries.all()} == {
        "甲": "applied",
        "乙": "applied",
        "外人": "unknown_person",
        "丙": "invalid",
    }
    assert Person.objects.get(pk=unpaid.pk).deceased_on == dt.date(2022, 11, 20)
    assert Enrollment.objects.get(pk=enrollment.pk).status == "deceased"
    anomalies = anomaly_list(actor=town.office, benefit_year=2023)
    assert [(a.kind, a.person.name) for a in anomalies] == [("death_before_payment", "乙")]
    assert anomalies[0].detail == "2022-12-01死亡，2022-12-05仍缴费350.00元"
    outreach = worklist(
        actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="no_phone"
    )
    assert [r.person.name for r in outreach] == ["丙"]


def test_employee_and_university_lists_take_people_out_of_outreach_and_flag_payments(
    town, tmp_path
):
    worker, student, paid_worker = (
        f.person(town.sanhe, name=n, phone="") for n in ("工", "学", "缴")
    )
    pay(town, paid_worker)
    employee = write_xlsx(
        tmp_path / "职工.xlsx",
        [["姓名", "身份证号", "参保单位"], ["工", worker.id_number, "綦江齿轮厂"],
         ["缴", paid_worker.id_number, "綦江区人民医院"]],
    )  # fmt: skip
    university = write_xlsx(
        tmp_path / "高校.xlsx",
        [["姓名", "身份证号", "学校"], ["学", student.id_number, "重庆大学"]],
    )

    person_list_import(actor=town.office, path=employee, kind="employee", benefit_year=2023)
    again = person_list_import(actor=town.office, path=employee, kind="employee", benefit_year=2023)
    person_list_import(actor=town.office, path=university, kind="university", benefit_year=2023)

    assert again.counts == {"already": 2}
    assert OtherInsurance.objects.get(person=worker).place == "綦江齿轮厂"
    assert OtherInsurance.objects.get(person=student).place == "重庆大学（在校大学生，随学校参保）"
    outreach = worklist(
        actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="no_phone"
    )
    assert outreach == []
    (anomaly,) = anomaly_list(actor=town.office, benefit_year=2023)
    assert anomaly.kind == "paid_insured_elsewhere" and anomaly.person == paid_worker
    assert "职工基本医疗保险（綦江区人民医院）" in anomaly.detail


def test_one_phone_for_paid_people_of_three_households_is_listed_for_review(town):
    def household(number, *names, phone):
        home = Household.objects.create(village=town.sanhe, number=number)
        people = [f.person(town.sanhe, name=n, phone=phone) for n in names]
        Person.objects.filter(pk__in=[p.pk for p in people]).update(household=home)
        for person in people:
            pay(town, person)

    household("H1", "张一", "张二", phone="13900000001")
    household("H2", "李一", phone="13900000001")
    household("H3", "王一", phone="13900000001")
    household("H4", "赵一", phone="13900000002")
    household("H5", "钱一", phone="13900000002")

    patterns = payer_patterns(actor=town.office, benefit_year=2023)

    assert [(p.phone, p.households, len(p.persons)) for p in patterns] == [("13900000001", 3, 4)]


def test_only_offices_import_lists_and_see_anomalies(town, tmp_path):
    path = write_xlsx(tmp_path / "d.xlsx", [["姓名", "身份证号", "死亡日期"]])
    for call in (
        lambda: person_list_import(
            actor=town.sanhe_collector, path=path, kind="death", benefit_year=2023
        ),
        lambda: anomaly_list(actor=town.sanhe_collector, benefit_year=2023),
    ):
        with pytest.raises(ApplicationError) as error:
            call()
        assert error.value.code == "office_required"


def test_the_commands_import_a_death_list_and_print_the_anomalies(town, tmp_path, capsys):
    from yibao.cli import main

    person = f.person(town.sanhe, name="乙")
    pay(town, person)
    path = write_xlsx(
        tmp_path / "死亡.xlsx",
        [["姓名", "身份证号", "死亡日期"], ["乙", person.id_number, "2022-12-01"]],
    )
    args = ["--year", "2023", "--user", "office"]
    assert main(["lists", "people", "death", str(path), "--quiet", *args]) == 0
    assert "死亡名单 2023 死亡.xlsx：已标记1" in capsys.readouterr().out
    assert main(["anomalies", *args]) == 0
    assert "死亡后仍有缴费\t三河街社区\t乙（500222********" in capsys.readouterr().out


def test_a_card_activation_list_leaves_the_rest_on_the_ecard_worklist_with_the_rate(town, tmp_path):
    from yibao.intake.worklists import card_activation_rate

    one, two, three = (f.person(town.sanhe, name=n) for n in ("甲", "乙", "丙"))
    path = write_xlsx(
        tmp_path / "激活.xlsx",
        [["姓名", "身份证号", "激活日期"], ["甲", one.id_number, "2022-11-02"],
         ["乙", two.id_number, "2022-11-03"]],
    )  # fmt: skip

    person_list_import(actor=town.office, path=path, kind="ecard", benefit_year=2023)

    rows = worklist(actor=town.sanhe_collector, village=town.sanhe, policy_id=POLICY, kind="ecard")
    assert [r.person for r in rows] == [three]
    assert card_activation_rate(actor=town.sanhe_collector, village=town.sanhe) == (2, 3)
