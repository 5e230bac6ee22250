"""The bulletin's hardship read rows (``HardshipTag``) after every write path that changes a
fact they copy: each step leaves them as a rebuild from the source rows writes them, and the
hardship figures counted from the ledger's own rows agree with the selector's.

Write paths: a tag added (one, a batch, and by a household-register import), ended (one, and
by a department's next list), a payment (one, and a batch), a reversal, a death (one, and a
death list), other insurance (one, and an employee list)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from tests.records import factories as f
from tests.transfer.conftest import HEADERS, member, write_csv, write_xlsx
from yibao.cli import main
from yibao.collection.hardship import (
    ROW_FIELDS,
    hardship_tags_check,
    hardship_tags_rebuild,
)
from yibao.collection.models import Enrollment, HardshipTag
from yibao.collection.selectors import hardship_summary
from yibao.collection.services import (
    PaymentItem,
    payment_record,
    payment_record_many,
    payment_reverse,
)
from yibao.intake.people import person_list_import
from yibao.intake.services import ListHeader, identity_list_confirm, identity_list_stage
from yibao.registry.models import IdentityTag, OtherInsurance, Person
from yibao.registry.services import (
    IdentityTagData,
    identity_tag_add,
    identity_tag_end,
    identity_tags_add_many,
    other_insurance_record,
    person_mark_deceased,
)
from yibao.transfer.imports import persons_import

D = dt.date
HEADER = ["姓名", "身份证号", "身份类别", "有效期起", "有效期止"]


def kept() -> list[tuple]:
    return sorted(HardshipTag.objects.values_list(*ROW_FIELDS))


def assert_as_rebuilt() -> None:
    before = kept()
    assert hardship_tags_check() == []
    hardship_tags_rebuild()
    assert kept() == before


def row(person: Person, year: int = f.YEAR) -> dict:
    (values,) = HardshipTag.objects.filter(person=person, benefit_year=year).values(*ROW_FIELDS)
    return values


def counted_from_ledger(village_ids, on: dt.date) -> tuple[dict, dict]:
    """Hardship people and paid per village and per category, counted here from the tags,
    people, other insurance and enrollments themselves (no reversal in force at ``on``)."""
    until = f.aware(on + dt.timedelta(days=1), 0)
    other = set(
        OtherInsurance.objects.filter(benefit_year=f.YEAR).values_list("person_id", flat=True)
    )
    paid = {
        e.person_id
        for e in Enrollment.objects.filter(benefit_year=f.YEAR, status=Enrollment.Status.PAID)
        if e.paid_at < until
    }
    categories: dict[int, set[str]] = {}
    for tag in IdentityTag.objects.select_related("person").order_by("pk"):
        person = tag.person
        alive = person.deceased_on is None or person.deceased_on > on
        valid = (tag.valid_from is None or tag.valid_from <= on) and (
            tag.valid_to is None or tag.valid_to >= on
        )
        if alive and valid and person.pk not in other and person.hukou_village_id in village_ids:
            categories.setdefault(person.pk, set()).add(tag.category_key)
    villages: Counter = Counter()
    by_category: Counter = Counter()
    for person_id, keys in categories.items():
        village = Person.objects.get(pk=person_id).hukou_village_id
        villages[village, person_id in paid] += 1
        for key in keys:
            by_category[key, person_id in paid] += 1
    return (
        {v: (villages[v, True] + villages[v, False], villages[v, True]) for v, _ in villages},
        {
            c: (by_category[c, True] + by_category[c, False], by_category[c, True])
            for c, _ in by_category
        },
    )


@pytest.fixture
def people(town):
    return {name: f.person(town.sanhe, name=name) for name in "甲乙丙丁戊己庚辛"}


def pay(town, person, amount):
    return payment_record(
        actor=town.sanhe_collector, person=person, policy_id=f.POLICY, tier=1, amount=amount,
        channel="cash",
    )  # fmt: skip


def test_every_write_path_keeps_the_hardship_rows_as_a_rebuild_writes_them(
    town, people, tmp_path, capsys
):
    p = people
    tag = identity_tag_add(
        actor=town.office, person=p["甲"], category_key="低保对象", department="民政局"
    )
    assert_as_rebuilt()
    assert {r["benefit_year"] for r in HardshipTag.objects.values("benefit_year")} == {2023, 2024}
    assert row(p["甲"])["village_id"] == town.sanhe.pk

    identity_tags_add_many(
        actor=town.office,
        tags=[
            IdentityTagData(p["乙"].pk, "特困人员", "民政局"),
            IdentityTagData(p["丙"].pk, "低保对象", "民政局"),
            IdentityTagData(p["丁"].pk, "低保边缘户", "民政局"),
            IdentityTagData(p["戊"].pk, "低保对象", "民政局"),
            IdentityTagData(p["己"].pk, "低保对象", "民政局"),
        ],
    )
    assert_as_rebuilt()

    sheet = [
        list(HEADERS),
        member(
            household="", name="壬", number=f.id_number(), identity="低保对象", department="民政局"
        ),
    ]
    persons_import(
        actor=town.office, path=write_xlsx(tmp_path / "户籍.xlsx", sheet), policy_id=f.POLICY
    )
    assert_as_rebuilt()
    imported = Person.objects.get(name="壬")
    assert row(imported)["village_id"] == town.sanhe.pk

    paid = pay(town, p["甲"], "35")
    assert_as_rebuilt()
    assert row(p["甲"])["paid_at"] == paid.paid_at
    assert row(p["甲"], 2024)["paid_at"] is None

    payment_record_many(
        actor=town.sanhe_collector,
        items=[
            PaymentItem(p["乙"], f.POLICY, 1, "0", "wechat"),
            PaymentItem(p["丙"], f.POLICY, 1, "35", "cash"),
        ],
    )
    assert_as_rebuilt()
    assert row(p["乙"])["paid_at"] is not None

    payment_reverse(actor=town.office, payment=paid, reason="重复收费，退回")
    assert_as_rebuilt()
    assert row(p["甲"])["paid_at"] is None

    person_mark_deceased(actor=town.office, person=p["丁"], died_on=D(2022, 11, 1))
    assert_as_rebuilt()
    assert row(p["丁"])["deceased_on"] == D(2022, 11, 1)
    deaths = write_csv(
        tmp_path / "死亡名单.csv",
        [["姓名", "身份证号", "死亡日期"], ["戊", p["戊"].id_number, "2022-11-20"]],
        encoding="gbk",
    )
    person_list_import(actor=town.office, path=deaths, kind="death", benefit_year=f.YEAR)
    assert_as_rebuilt()
    assert row(p["戊"])["deceased_on"] == D(2022, 11, 20)

    other_insurance_record(actor=town.office, person=p["丙"], kind="employee", benefit_year=2024)
    assert_as_rebuilt()
    assert (row(p["丙"])["other_insured"], row(p["丙"], 2024)["other_insured"]) == (False, True)
    employees = write_csv(
        tmp_path / "职工.csv",
        [["姓名", "身份证号", "参保单位"], ["己", p["己"].id_number, "綦江齿轮厂"]],
        encoding="gbk",
    )
    person_list_import(actor=town.office, path=employees, kind="employee", benefit_year=f.YEAR)
    assert_as_rebuilt()
    assert row(p["己"])["other_insured"] is True

    identity_tag_end(actor=town.office, tag=tag, ended_on=D(2022, 11, 30), reason="退出低保")
    assert_as_rebuilt()
    assert row(p["甲"])["valid_to"] == D(2022, 11, 30)

    header = {"department": "区民政局", "policy_id": f.POLICY}
    first = [HEADER, ["庚", p["庚"].id_number, "低保对象", "", ""]]
    identity_list_confirm(
        actor=town.office,
        identity_list=identity_list_stage(
            actor=town.office,
            path=write_csv(tmp_path / "民政01.csv", first, encoding="gbk"),
            header=ListHeader(batch="2022-10", list_date=D(2022, 10, 5), **header),
        ),
    )
    assert_as_rebuilt()
    second = [HEADER, ["辛", p["辛"].id_number, "低保对象", "", ""]]  # 庚 no longer on it
    identity_list_confirm(
        actor=town.office,
        identity_list=identity_list_stage(
            actor=town.office,
            path=write_csv(tmp_path / "民政02.csv", second, encoding="gbk"),
            header=ListHeader(batch="2022-11", list_date=D(2022, 11, 5), **header),
        ),
    )
    assert_as_rebuilt()
    assert row(p["庚"])["valid_to"] == D(2022, 11, 4)

    # The figures from these rows are those counted from the ledger's own rows.
    ids = [town.sanhe.pk, town.dashan.pk, town.wuli.pk]
    summary = hardship_summary(village_ids=ids, benefit_year=f.YEAR, on=f.CAMPAIGN_DAY)
    villages, categories = counted_from_ledger(ids, f.CAMPAIGN_DAY)
    assert summary.villages == villages
    assert summary.categories == categories
    # 乙 (特困人员) and 丙 (低保对象) paid; 辛 (低保对象, from the second list) and 壬 (imported
    # with 低保对象) have not. 甲's tag ended, 丁 and 戊 died, 己 is insured as an employee, 庚
    # left the list before the day.
    assert villages == {town.sanhe.pk: (4, 2)}
    assert [u.person_id for u in summary.unpaid] == [p["辛"].pk, imported.pk]

    # The command compares and rewrites; a row out of step is found and put right.
    HardshipTag.objects.filter(person=p["乙"]).update(paid_at=None)
    assert main(["progress", "--user", "office", "--check"]) == 1
    assert "困难群体读取表有1个身份标识与原始记录不一致" in capsys.readouterr().out
    assert main(["progress", "--user", "office", "--rebuild-hardship"]) == 0
    assert main(["progress", "--user", "office", "--check"]) == 0
    assert "困难群体读取表与身份标识、死亡、其他参保和缴费记录一致" in capsys.readouterr().out


def test_migrate_writes_the_rows_of_a_kept_year_that_has_none(town, people):
    """A ledger whose tags predate the table, or a policy of a new benefit year: the year has
    no row at all, and the next ``migrate`` writes the rows."""
    from django.core.management import call_command

    identity_tag_add(
        actor=town.office, person=people["甲"], category_key="低保对象", department="民政局"
    )
    identity_tag_add(
        actor=town.office, person=people["乙"], category_key="特困人员", department="民政局"
    )
    written = kept()
    HardshipTag.objects.filter(benefit_year=2024).delete()
    assert hardship_tags_check() != []  # the missing year is reported

    call_command("migrate", verbosity=0)

    assert kept() == written
    assert sorted(HardshipTag.objects.values_list("benefit_year", flat=True)) == [
        2023, 2023, 2024, 2024
    ]  # fmt: skip
    assert hardship_tags_check() == []


def test_migrate_leaves_rows_that_have_every_year_alone(town, people):
    from django.core.management import call_command

    identity_tag_add(
        actor=town.office, person=people["甲"], category_key="低保对象", department="民政局"
    )
    HardshipTag.objects.filter(person=people["甲"], benefit_year=2023).update(other_tags=True)

    call_command("migrate", verbosity=0)

    assert row(people["甲"])["other_tags"] is True  # not rewritten: only a missing year heals
