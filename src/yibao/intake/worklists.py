"""Worklists per village: who the collector should reach next, and by when.

Selectors over the same definitions as the campaign's progress figures
(:mod:`yibao.collection.selectors`): "should enroll" (alive, not insured elsewhere that
year), "a hardship person" (an identity tag valid on the day), "paid" (a live payment for the
benefit year). So the hardship worklist of a village is empty exactly when its progress
figures give a hardship rate of 100%. The village is reached through ``access_village``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from yibao.collection.selectors import (
    end_of_day,
    hardship_tags,
    live_payments,
    should_enroll,
)
from yibao.core import clock
from yibao.core.access import require_village
from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number
from yibao.policy import get_policy
from yibao.registry.checks import phone_check
from yibao.registry.models import Household, Person, Village

WORKLISTS = {
    "hardship": "困难群体未申报",
    "lapsed": "近两年参保、本年未参保",
    "household_partial": "户内部分参保（户不漏人）",
    "newborn": "出生90日内未参保的新生儿",
    "residents": "居住在本村的外村（区）户籍人员未参保",
    "no_phone": "无有效联系电话",
    "ecard": "医保电子凭证未激活",
}


@dataclass(frozen=True, slots=True)
class Deadline:
    day: dt.date
    cite: str


# Declaration deadlines a document sets for hardship people, by policy and identity key
# ("*": every other identity). Where a policy has none here, its collection period's end.
DECLARATION_DEADLINES: dict[str, dict[str, Deadline]] = {
    "bishan-bicheng-2023": {
        "三、四级残疾人员": Deadline(dt.date(2022, 12, 25), "璧城街道办发〔2022〕36号 五（二）2"),
        "*": Deadline(dt.date(2022, 12, 20), "璧城街道办发〔2022〕36号 五（二）2"),
    },
}


@dataclass(frozen=True, slots=True)
class WorklistRow:
    person: Person
    reason: str
    deadline: dt.date | None = None
    deadline_cite: str = ""
    identities: list[str] = field(default_factory=list)
    household_head: str = ""
    shows_birth_date: bool = False

    @property
    def masked_id_number(self) -> str:
        """The ID number masked so that it cannot be rebuilt from the row (issue 9): no
        digit beside a birth date, two beside an age label such as 未成年 (four would leave
        a few hundred candidates)."""
        if self.shows_birth_date:
            return "（见参保人卡片）"
        return mask_id_number(self.person.id_number, keep_last=2)


def worklist_policy(actor: Any) -> str:
    """The policy of the actor's campaign (``campaign_policy``), or a refusal saying so."""
    from yibao.collection.selectors import campaign_policy

    policy_id = campaign_policy(actor=actor)
    if policy_id is None:
        raise ApplicationError("no_policy", "您负责的村（社区）没有适用的政策文件，请指定政策")
    return policy_id


def _deadline(policy_id: str, key: str) -> Deadline:
    table = DECLARATION_DEADLINES.get(policy_id, {})
    found = table.get(key) or table.get("*")
    if found is not None:
        return found
    collection = get_policy(policy_id).data.collection
    return Deadline(collection.period_end, collection.period_cite)


def unpaid_should_enroll(
    *, village: Village, benefit_year: int, on: dt.date | None = None
) -> QuerySet[Person]:
    """People registered in ``village`` who should enroll for ``benefit_year`` and have no
    live payment for it (as of the end of ``on``)."""
    paid = live_payments(until=end_of_day(on)).filter(
        enrollment__person=OuterRef("pk"), enrollment__benefit_year=benefit_year
    )
    return (
        should_enroll(benefit_year=benefit_year, on=on)
        .filter(hukou_village=village)
        .exclude(Exists(paid))
        .select_related("household__head")
    )


def worklist(
    *, actor: Any, village: Village, policy_id: str, kind: str, on: dt.date | None = None
) -> list[WorklistRow]:
    """The worklist ``kind`` (a key of :data:`WORKLISTS`) of ``village`` for the policy's
    benefit year, as of ``on`` (default: today)."""
    require_village(actor, village)
    if kind not in WORKLISTS:
        raise ApplicationError("unknown_worklist", f"未知的工作清单“{kind}”", kind=kind)
    engine = get_policy(policy_id)
    year = engine.benefit_year
    day = on or clock.today()
    if kind == "residents":
        return _residents(village=village, year=year, on=on)
    if kind == "ecard":
        return _ecard(village=village)
    unpaid = unpaid_should_enroll(village=village, benefit_year=year, on=on)
    return _BUILDERS[kind](unpaid, policy_id=policy_id, year=year, day=day, on=on)


def _residents(*, village: Village, year: int, on: dt.date | None) -> list[WorklistRow]:
    """People living in ``village`` whose household register is elsewhere, not yet paid
    (Sanjiang 二（一）, Bishan 九（三）: 区外市外常住人员)."""
    paid = live_payments(until=end_of_day(on)).filter(
        enrollment__person=OuterRef("pk"), enrollment__benefit_year=year
    )
    people = (
        should_enroll(benefit_year=year, on=on)
        .filter(residence_village=village)
        .exclude(hukou_village=village)
        .exclude(Exists(paid))
        .select_related("hukou_village", "household__head")
        .order_by("name", "pk")
    )
    return [
        WorklistRow(
            person=p,
            reason=f"户籍在{p.hukou_village.name}，居住在本村（社区）",
            household_head=_head(p),
        )
        for p in people
    ]


def _head(person: Person) -> str:
    head = person.household.head if person.household_id and person.household else None
    return head.name if head is not None else ""


def _hardship(
    unpaid: QuerySet[Person], *, policy_id: str, year: int, day: dt.date, on: dt.date | None
) -> list[WorklistRow]:
    tags = hardship_tags(on=day)
    people = list(unpaid.filter(Exists(tags.filter(person=OuterRef("pk")))))
    held: dict[int, list[str]] = defaultdict(list)
    for tag in tags.filter(person__in=[p.pk for p in people]).order_by("id"):
        held[tag.person_id].append(tag.category_key)
    rows = []
    for person in people:
        keys = list(dict.fromkeys(held[person.pk]))
        deadline = min((_deadline(policy_id, k) for k in keys), key=lambda d: d.day)
        rows.append(
            WorklistRow(
                person=person,
                reason="困难群体，未申报（含零申报）",
                deadline=deadline.day,
                deadline_cite=deadline.cite,
                identities=keys,
                household_head=_head(person),
            )
        )
    return sorted(rows, key=lambda r: (r.deadline, r.person.name, r.person.pk))


def _lapsed(
    unpaid: QuerySet[Person], *, policy_id: str, year: int, day: dt.date, on: dt.date | None
) -> list[WorklistRow]:
    earlier = live_payments().filter(
        enrollment__person=OuterRef("pk"), enrollment__benefit_year__in=[year - 1, year - 2]
    )
    people = list(unpaid.filter(Exists(earlier)))
    years: dict[int, set[int]] = defaultdict(set)
    for person_id, paid_year in (
        live_payments()
        .filter(
            enrollment__person__in=[p.pk for p in people],
            enrollment__benefit_year__in=[year - 1, year - 2],
        )
        .values_list("enrollment__person_id", "enrollment__benefit_year")
    ):
        years[person_id].add(paid_year)
    return [
        WorklistRow(
            person=p,
            reason="、".join(f"{y}年度" for y in sorted(years[p.pk])) + f"已参保，{year}年度未参保",
            household_head=_head(p),
        )
        for p in sorted(people, key=lambda p: (p.name, p.pk))
    ]


def _household_partial(
    unpaid: QuerySet[Person], *, policy_id: str, year: int, day: dt.date, on: dt.date | None
) -> list[WorklistRow]:
    paid_member = live_payments(until=end_of_day(on)).filter(
        enrollment__person__household=OuterRef("household"), enrollment__benefit_year=year
    )
    people = list(unpaid.filter(household__isnull=False).filter(Exists(paid_member)))
    households = {p.household_id for p in people}
    paid_counts: dict[int, int] = defaultdict(int)
    for household_id in (
        live_payments(until=end_of_day(on))
        .filter(enrollment__person__household__in=households, enrollment__benefit_year=year)
        .values_list("enrollment__person__household", flat=True)
    ):
        paid_counts[household_id] += 1
    numbers = dict(Household.objects.filter(pk__in=households).values_list("pk", "number"))
    return [
        WorklistRow(
            person=p,
            reason=f"同户已有{paid_counts[p.household_id]}人参保"
            + (f"（户号{numbers[p.household_id]}）" if numbers.get(p.household_id) else "")
            + ("；未成年（学生、儿童）" if _age(p.birth_date, day) < 18 else ""),
            household_head=_head(p),
        )
        for p in sorted(people, key=lambda p: (p.household_id, p.name, p.pk))
    ]


def _ecard(*, village: Village) -> list[WorklistRow]:
    """Alive people of ``village`` whose electronic card the district's list does not show
    as activated (Aikou tracks the rate: :func:`card_activation_rate`)."""
    from .models import CardActivation

    activated = CardActivation.objects.filter(person=OuterRef("pk"))
    people = (
        Person.objects.filter(hukou_village=village, status=Person.Status.ALIVE)
        .exclude(Exists(activated))
        .select_related("household__head")
        .order_by("name", "pk")
    )
    return [
        WorklistRow(person=p, reason="医保电子凭证未激活", household_head=_head(p)) for p in people
    ]


def card_activation_rate(*, actor: Any, village: Village) -> tuple[int, int]:
    """(activated, alive registered) in ``village``: the activation rate's two numbers."""
    from .models import CardActivation

    require_village(actor, village)
    alive = Person.objects.filter(hukou_village=village, status=Person.Status.ALIVE)
    activated = CardActivation.objects.filter(person__in=alive).count()
    return activated, alive.count()


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _newborn(
    unpaid: QuerySet[Person], *, policy_id: str, year: int, day: dt.date, on: dt.date | None
) -> list[WorklistRow]:
    collection = get_policy(policy_id).data.collection
    days = collection.newborn_days or 90
    people = unpaid.filter(birth_date__gte=day - dt.timedelta(days=days), birth_date__lte=day)
    rows = [
        WorklistRow(
            person=p,
            reason=f"出生于{p.birth_date}，{days}日内参保免等待期、免补缴财政补助",
            deadline=p.birth_date + dt.timedelta(days=days),
            deadline_cite=collection.newborn_cite or "",
            household_head=_head(p),
            shows_birth_date=True,
        )
        for p in people
    ]
    return sorted(rows, key=lambda r: (r.deadline, r.person.name, r.person.pk))


def _no_phone(
    unpaid: QuerySet[Person], *, policy_id: str, year: int, day: dt.date, on: dt.date | None
) -> list[WorklistRow]:
    rows = []
    for person in unpaid.order_by("name", "pk"):
        reason = ""
        if not person.phone.strip():
            reason = "未登记联系电话"
        else:
            try:
                phone_check(person.phone)
            except ApplicationError as error:
                reason = str(error.params.get("reason") or error.message)
        if reason:
            rows.append(WorklistRow(person=person, reason=reason, household_head=_head(person)))
    return rows


_BUILDERS = {
    "hardship": _hardship,
    "lapsed": _lapsed,
    "household_partial": _household_partial,
    "newborn": _newborn,
    "no_phone": _no_phone,
}


WORKLIST_HEADERS = ["序号", "姓名", "证件号码", "联系电话", "户主", "身份", "原因", "期限"]


def worklist_table(rows: list[WorklistRow]) -> list[list[Any]]:
    """The rows as the page and the .xlsx show them (ID numbers masked)."""
    return [
        [
            n,
            r.person.name,
            r.masked_id_number,
            r.person.phone,
            r.household_head,
            "、".join(r.identities),
            r.reason,
            r.deadline.isoformat() if r.deadline else "",
        ]
        for n, r in enumerate(rows, start=1)
    ]
