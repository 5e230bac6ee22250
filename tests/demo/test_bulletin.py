"""A bulletin of the demo township for dates in its campaign, against counts this test makes
itself from the ledger's rows (payments, reversals, people, tags, the accepted targets)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest

from yibao.campaign.exports import bulletin_workbook, workbook_save
from yibao.campaign.models import TargetRow
from yibao.campaign.selectors import bulletin_compute
from yibao.collection.models import Payment
from yibao.demo.plan import POLICY_ID
from yibao.demo.summary import summary_actor
from yibao.registry.models import IdentityTag, OtherInsurance, Person

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def counted_from_rows(on: dt.date):
    """Paid per village and hardship (people, paid) per village at the end of ``on``."""
    end = dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)
    rows = list(
        Payment.objects.values(
            "pk", "reverses_id", "paid_at", "enrollment__village__name", "enrollment__person_id"
        )
    )
    reversed_by_end = {r["reverses_id"] for r in rows if r["reverses_id"] and r["paid_at"] < end}
    live = [
        r
        for r in rows
        if r["reverses_id"] is None and r["paid_at"] < end and r["pk"] not in reversed_by_end
    ]
    paid = Counter(r["enrollment__village__name"] for r in live)
    paid_people = {r["enrollment__person_id"] for r in live}
    insured_elsewhere = set(
        OtherInsurance.objects.filter(benefit_year=2023).values_list("person_id", flat=True)
    )
    tagged = {
        t.person_id
        for t in IdentityTag.objects.all()
        if (t.valid_from is None or t.valid_from <= on) and (t.valid_to is None or t.valid_to >= on)
    }
    hardship, hardship_paid = Counter(), Counter()
    for person in Person.objects.select_related("hukou_village"):
        alive = person.deceased_on is None or person.deceased_on > on
        if alive and person.pk not in insured_elsewhere and person.pk in tagged:
            hardship[person.hukou_village.name] += 1
            hardship_paid[person.hukou_village.name] += person.pk in paid_people
    return paid, hardship, hardship_paid


@pytest.mark.parametrize("on", [dt.date(2022, 11, 10), dt.date(2022, 11, 30), dt.date(2022, 12, 5)])
def test_a_bulletin_equals_the_counts_from_the_ledger_rows(demo, on, tmp_path):
    paid, hardship, hardship_paid = counted_from_rows(on)
    targets = {r.village.name: r.target for r in TargetRow.objects.select_related("village")}
    assert len(targets) == 24  # the small demo's accepted table (annex 2 scaled down)
    figures = bulletin_compute(actor=summary_actor(), policy_id=POLICY_ID, on=on)
    assert len(figures.rows) == 24
    for row in figures.rows:
        p = row.progress
        assert p.paid == paid[p.name], p.name
        assert p.target == targets[p.name]
        expected = (Decimal(paid[p.name]) * 100 / targets[p.name]).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert p.completion == expected
        assert (p.hardship, p.hardship_paid) == (hardship[p.name], hardship_paid[p.name])
    ordered = sorted(figures.rows, key=lambda r: r.progress.rank)
    rates = [r.progress.completion for r in ordered]
    assert rates == sorted(rates, reverse=True)
    assert [r.progress.bottom_three for r in ordered] == [False] * 21 + [True] * 3
    assert figures.totals.paid == sum(paid.values())
    assert len(figures.missing) == sum(hardship.values()) - sum(hardship_paid.values())

    book = openpyxl.load_workbook(workbook_save(bulletin_workbook(figures), tmp_path / "b.xlsx"))
    sheet = book["通报"]
    in_sheet = {
        sheet.cell(row=n, column=2).value: sheet.cell(row=n, column=5).value for n in range(4, 28)
    }
    assert in_sheet == {name: paid[name] for name in targets}
