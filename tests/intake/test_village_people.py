"""The villages' kept should-enroll counts (``VillagePeople``) after every write path that adds
a person or changes a death or other insurance: each step leaves them as a rebuild from the
people writes them, and the bulletin's should-enroll counts for a day, read from them, are
those the story below gives.

Write paths: a person registered (one, a household, a register import), a death (one, and a
death list), other insurance (one, and an employee list); and deaths, other insurance and
registrations in one village at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from django.db import connection

from tests.records import factories as f
from tests.transfer.conftest import HEADERS, make_town, member, write_csv, write_xlsx
from yibao.cli import main
from yibao.collection.models import VillagePeople
from yibao.collection.selectors import should_enroll_counts
from yibao.collection.village_people import village_people_check, village_people_rebuild
from yibao.intake.people import person_list_import
from yibao.registry.models import Person
from yibao.registry.services import (
    PersonData,
    household_register,
    other_insurance_record,
    person_mark_deceased,
    person_register,
)
from yibao.transfer.imports import persons_import

D = dt.date


def kept() -> list[tuple]:
    return sorted(VillagePeople.objects.values_list("village_id", "benefit_year", "people"))


def assert_as_rebuilt() -> None:
    before = kept()
    assert village_people_check() == []
    village_people_rebuild()
    assert kept() == before


def test_every_write_path_keeps_the_counts_as_a_rebuild_writes_them(town, tmp_path, capsys):
    sanhe, dashan = town.sanhe.pk, town.dashan.pk
    ids = [sanhe, dashan, town.wuli.pk]

    def counts(year: int, on: dt.date | None) -> dict[int, int]:
        return should_enroll_counts(benefit_year=year, on=on, village_ids=ids)

    p = {name: f.person(town.sanhe, name=name) for name in "甲乙丙丁"}  # the tests' factory
    assert_as_rebuilt()
    person_register(actor=town.office, hukou_village=town.sanhe, id_number=f.id_number(), name="戊")
    assert_as_rebuilt()
    household_register(
        actor=town.office,
        village=town.dashan,
        head=PersonData(id_number=f.id_number(), name="己"),
        members=[PersonData(id_number=f.id_number(), name="庚", relation_to_head="子")],
    )
    assert_as_rebuilt()
    sheet = [list(HEADERS), member(household="", name="辛", number=f.id_number())]
    persons_import(
        actor=town.office, path=write_xlsx(tmp_path / "户籍.xlsx", sheet), policy_id=f.POLICY
    )
    assert_as_rebuilt()
    assert Person.objects.get(name="辛").hukou_village_id == sanhe
    assert counts(2023, f.CAMPAIGN_DAY) == {sanhe: 6, dashan: 2}

    person_mark_deceased(actor=town.office, person=p["甲"], died_on=D(2022, 11, 1))
    assert_as_rebuilt()
    # 五里村's only person dies: its counts go (a rebuild writes no row for an empty village).
    lone = f.person(town.wuli, name="壬")
    person_mark_deceased(actor=town.office, person=lone, died_on=D(2022, 12, 1))
    assert_as_rebuilt()
    assert not VillagePeople.objects.filter(village_id=town.wuli.pk).exists()
    deaths = write_csv(
        tmp_path / "死亡名单.csv",
        [["姓名", "身份证号", "死亡日期"], ["乙", p["乙"].id_number, "2022-11-20"]],
        encoding="gbk",
    )
    person_list_import(actor=town.office, path=deaths, kind="death", benefit_year=f.YEAR)
    assert_as_rebuilt()
    other_insurance_record(actor=town.office, person=p["丙"], kind="employee", benefit_year=2024)
    assert_as_rebuilt()
    employees = write_csv(
        tmp_path / "职工.csv",
        [["姓名", "身份证号", "参保单位"], ["丁", p["丁"].id_number, "綦江齿轮厂"]],
        encoding="gbk",
    )
    person_list_import(actor=town.office, path=employees, kind="employee", benefit_year=f.YEAR)
    assert_as_rebuilt()
    # A second kind of other insurance for the same year changes nothing.
    other_insurance_record(actor=town.office, person=p["丁"], kind="elsewhere", benefit_year=2023)
    assert_as_rebuilt()

    # 三河街社区: 甲 died on 1 November, 乙 on 20 November; 丁 is insured as an employee for
    # 2023 and 丙 for 2024; 戊 and 辛 remain. 大山村: 己 and 庚. 五里村: 壬 died on 1 December.
    assert kept() == sorted(
        [(sanhe, 2023, 3), (sanhe, 2024, 3), (dashan, 2023, 2), (dashan, 2024, 2)]
    )
    assert counts(2023, f.CAMPAIGN_DAY) == {sanhe: 3, dashan: 2}  # 丙 戊 辛
    assert counts(2023, None) == {sanhe: 3, dashan: 2}
    wuli = town.wuli.pk
    assert counts(2023, D(2022, 11, 10)) == {sanhe: 4, dashan: 2, wuli: 1}  # 乙 and 壬 alive
    assert counts(2023, D(2022, 10, 31)) == {sanhe: 5, dashan: 2, wuli: 1}  # and 甲
    assert counts(2024, D(2022, 10, 31)) == {sanhe: 5, dashan: 2, wuli: 1}  # 甲 乙 丁 戊 辛
    assert counts(2024, None) == {sanhe: 3, dashan: 2}  # 丁 戊 辛
    # A year whose counts are not kept is counted from the people.
    assert counts(2022, D(2022, 10, 31)) == {sanhe: 6, dashan: 2, wuli: 1}

    # The command compares and rewrites; a count out of step is found and put right.
    VillagePeople.objects.filter(village_id=sanhe, benefit_year=2023).update(people=7)
    assert main(["progress", "--user", "office", "--check"]) == 1
    assert "各村应参保人数表有1个村（年度）与人员记录不一致" in capsys.readouterr().out
    assert main(["progress", "--user", "office", "--rebuild-hardship"]) == 0
    assert main(["progress", "--user", "office", "--check"]) == 0
    assert "各村应参保人数表与人员、死亡和其他参保记录一致" in capsys.readouterr().out


def test_migrate_writes_the_counts_of_a_kept_year_that_has_none(town):
    """People registered before the table, or a policy of a new benefit year: the year has no
    count at all, and the next ``migrate`` writes them."""
    from django.core.management import call_command

    for name in "甲乙":
        f.person(town.sanhe, name=name)
    f.person(town.dashan, name="丙")
    written = kept()
    VillagePeople.objects.filter(benefit_year=2024).delete()
    assert set(village_people_check()) == {(town.sanhe.pk, 2024), (town.dashan.pk, 2024)}

    call_command("migrate", verbosity=0)

    assert kept() == written
    assert written == sorted(
        [
            (town.sanhe.pk, 2023, 2),
            (town.sanhe.pk, 2024, 2),
            (town.dashan.pk, 2023, 1),
            (town.dashan.pk, 2024, 1),
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_deaths_other_insurance_and_registrations_at_once_keep_the_counts_exact(settings):
    """Threads with their own connections record deaths, two kinds of other insurance for
    the same people, and new people of the same village, all at once: each person leaves a
    count once (a death and other insurance of one person are decided under its lock)."""
    settings.YIBAO_TODAY = f.CAMPAIGN_DAY.isoformat()
    town = make_town()
    people = [f.person(town.sanhe, name=f"居民{i}") for i in range(12)]
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def run(work) -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)
        finally:
            connection.close()

    def deaths() -> None:
        for person in people:
            person_mark_deceased(actor=town.office, person=person, died_on=D(2022, 11, 1))

    def insured(kind: str, order: list) -> Callable[[], None]:
        def work() -> None:
            for person in order:
                other_insurance_record(
                    actor=town.office, person=person, kind=kind, benefit_year=2023
                )

        return work

    def registrations() -> None:
        for i in range(6):
            person_register(
                actor=town.office, hukou_village=town.sanhe, id_number=f.id_number(), name=f"新{i}"
            )

    works = [deaths, insured("employee", people[::-1]), insured("elsewhere", people), registrations]
    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert village_people_check() == []
    # Every one of the twelve died (after or before their other insurance): the six new
    # people are counted, in both years.
    assert kept() == [(town.sanhe.pk, 2023, 6), (town.sanhe.pk, 2024, 6)]
