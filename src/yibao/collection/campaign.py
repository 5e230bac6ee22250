"""Which campaign a township is in, and what the desk shows about a person in it.

Reads only (selectors); every function takes ``actor`` and answers within its scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from yibao.core import clock
from yibao.core.access import villages_in_scope
from yibao.core.errors import ApplicationError
from yibao.policy import PolicyEngine, Quote
from yibao.registry.models import IdentityTag, Person

from .models import Enrollment, Payment
from .selectors import PRE_ENROLLED, employee_moves, live_payments

TIERS = (1, 2)


@dataclass(frozen=True, slots=True)
class TierQuote:
    """Tier 1 or 2 for one person today: the quote, or why it is refused."""

    tier: int
    quote: Quote | None
    refusal: ApplicationError | None


def tier_quotes(
    *, actor: Any, person: Person, engine: PolicyEngine, on: dt.date | None = None
) -> list[TierQuote]:
    """Both tiers side by side, priced on the campaign date (or ``on``, an office's
    back-dated entry) for ``person``'s identities."""
    from .services import _quote  # the one place that turns tags into an engine request

    result = []
    population = Enrollment.Population.RESIDENT
    for tier in TIERS:
        try:
            quote = _quote(
                person=person,
                policy=engine,
                tier=tier,
                population=population,
                on=on or clock.today(),
            )
            result.append(TierQuote(tier, quote, None))
        except ApplicationError as refusal:
            result.append(TierQuote(tier, None, refusal))
    return result


# --- status on the desk --------------------------------------------------------------------

STATUS_LABELS = {
    "deceased": "已死亡",
    "unregistered": "未参保",
    "unpaid": "已登记未缴费",
    "paid": "已缴费",
    "zero": "零申报",
    "pre_enrolled": "预参保",
    "employee": "已转职工医保",
}


@dataclass(frozen=True, slots=True)
class DeskStatus:
    """A person's standing for one benefit year, as a tag on the desk."""

    key: str  # deceased / unregistered / unpaid / paid / zero / pre_enrolled / employee
    tier: int | None
    enrollment: Enrollment | None
    payment: Payment | None = None  # the live payment that settles it

    @property
    def label(self) -> str:
        base = STATUS_LABELS[self.key]
        if self.key == "paid" and self.tier:
            return f"{base} {'一档' if self.tier == 1 else '二档'}"
        return base

    @property
    def settled(self) -> bool:
        return self.key in ("paid", "zero", "pre_enrolled", "employee")


def desk_statuses(persons: list[Person], benefit_year: int) -> dict[int, DeskStatus]:
    """Each person's :class:`DeskStatus` for ``benefit_year`` (one query for all)."""
    enrollments = {
        e.person_id: e
        for e in Enrollment.objects.filter(
            person_id__in=[p.pk for p in persons], benefit_year=benefit_year
        )
    }
    live = {
        p.enrollment_id: p
        for p in live_payments().filter(enrollment_id__in=[e.pk for e in enrollments.values()])
    }
    paid_ids = [e.person_id for e in enrollments.values() if e.status == Enrollment.Status.PAID]
    moves = employee_moves(paid_ids, benefit_year) if paid_ids else {}
    result = {}
    for person in persons:
        enrollment = enrollments.get(person.pk)
        if person.status == Person.Status.DECEASED:
            key = "deceased"
        elif enrollment is None:
            key = "unregistered"
        elif person.pk in moves:
            key = "pre_enrolled" if moves[person.pk] == PRE_ENROLLED else "employee"
        elif enrollment.status == Enrollment.Status.PAID:
            key = "zero" if enrollment.personal == 0 else "paid"
        else:
            key = "unpaid"
        result[person.pk] = DeskStatus(
            key,
            enrollment.tier if enrollment else None,
            enrollment,
            live.get(enrollment.pk) if enrollment else None,
        )
    return result


def age_group(birth_date: dt.date, on: dt.date | None = None) -> str:
    """新生儿 / 未成年 / 成年 / 老年 (60 and over): what the desk needs, not the birth date."""
    on = on or clock.today()
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    if years < 1:
        return "新生儿"
    if years < 18:
        return "未成年"
    if years < 60:
        return "成年"
    return "老年"


@dataclass(frozen=True, slots=True)
class PersonCard:
    person: Person
    members: list[Person]
    statuses: dict[int, DeskStatus]
    tags: list[IdentityTag]
    history: list[Enrollment]


def person_card(*, actor: Any, person: Person, benefit_year: int) -> PersonCard:
    """The person (reached through ``access_person``), their household, identities and the
    last two years' enrollments. Household members outside ``actor``'s scope are left out."""
    scope = villages_in_scope(actor)
    if person.household_id:
        members = list(
            Person.objects.filter(household_id=person.household_id)
            .filter(hukou_village__in=scope)
            .order_by("pk")
        )
        head_id = person.household.head_id if person.household else None
        members.sort(key=lambda m: (m.pk != head_id, m.pk))
    else:
        members = [person]
    history = list(
        Enrollment.objects.filter(
            person=person, benefit_year__in=(benefit_year - 1, benefit_year - 2)
        ).order_by("-benefit_year")
    )
    return PersonCard(
        person=person,
        members=members,
        statuses=desk_statuses(members, benefit_year),
        tags=list(IdentityTag.objects.filter(person=person).order_by("valid_from", "id")),
        history=history,
    )


def payments_by_key(*, actor: Any, key: str) -> list[Payment]:
    """The payments recorded under one desk submission (``key``, or ``key:<person>`` for
    each member of a household paid together), within ``actor``'s scope."""
    from django.db.models import Q

    return list(
        Payment.objects.filter(
            Q(idempotency_key=key) | Q(idempotency_key__startswith=f"{key}:"),
            enrollment__village__in=villages_in_scope(actor),
            reverses__isnull=True,
        )
        .select_related("enrollment__person", "enrollment__village__township", "collector__user")
        .order_by("id")
    )


# --- who has not paid (未缴名单) -------------------------------------------------------------

UNPAID_GROUPS = {
    "hardship": "困难群体",
    "last_year": "上年已缴费",
    "other": "其他",
}


@dataclass(frozen=True, slots=True)
class UnpaidRow:
    person: Person
    group: str  # hardship / last_year / other
    identities: list[str]
    last_outcome: str  # the latest ContactAttempt's label, or ""
    enrolled: bool  # registered for the year but not paid

    @property
    def group_label(self) -> str:
        return UNPAID_GROUPS[self.group]


def unpaid_list(
    *, actor: Any, village: Any, benefit_year: int, group: str | None = None
) -> list[UnpaidRow]:
    """Everyone alive registered in ``village`` (reached through ``access_village``) who
    has not paid for ``benefit_year`` and is not insured elsewhere that year: hardship people
    first (a valid identity tag on the campaign date), then last year's payers, then the
    rest; by name within each group."""
    from django.db.models import Exists, OuterRef, Q

    from yibao.core.access import require_village
    from yibao.registry.models import OtherInsurance

    from .models import ContactAttempt

    require_village(actor, village)
    today = clock.today()
    paid = Enrollment.objects.filter(
        person=OuterRef("pk"), benefit_year=benefit_year, status=Enrollment.Status.PAID
    )
    other = OtherInsurance.objects.filter(person=OuterRef("pk"), benefit_year=benefit_year)
    persons = list(
        Person.objects.filter(hukou_village=village, status=Person.Status.ALIVE)
        .exclude(Exists(paid))
        .exclude(Exists(other))
        .order_by("name", "pk")
    )
    ids = [p.pk for p in persons]
    tags: dict[int, list[str]] = {}
    for tag in IdentityTag.objects.filter(person_id__in=ids).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=today),
        Q(valid_to__isnull=True) | Q(valid_to__gte=today),
    ):
        tags.setdefault(tag.person_id, []).append(tag.category_name or tag.category_key)
    last_year = set(
        Enrollment.objects.filter(
            person_id__in=ids, benefit_year=benefit_year - 1, status=Enrollment.Status.PAID
        ).values_list("person_id", flat=True)
    )
    enrolled = set(
        Enrollment.objects.filter(person_id__in=ids, benefit_year=benefit_year).values_list(
            "person_id", flat=True
        )
    )
    outcomes: dict[int, str] = {}
    labels = dict(ContactAttempt.Outcome.choices)
    for person_id, outcome in (
        ContactAttempt.objects.filter(person_id__in=ids, benefit_year=benefit_year)
        .order_by("id")
        .values_list("person_id", "outcome")
    ):
        outcomes[person_id] = labels[outcome]
    order = {"hardship": 0, "last_year": 1, "other": 2}
    rows = []
    for person in persons:
        key = (
            "hardship" if person.pk in tags else "last_year" if person.pk in last_year else "other"
        )
        if group and key != group:
            continue
        rows.append(
            UnpaidRow(
                person=person,
                group=key,
                identities=tags.get(person.pk, []),
                last_outcome=outcomes.get(person.pk, ""),
                enrolled=person.pk in enrolled,
            )
        )
    rows.sort(key=lambda r: order[r.group])  # stable: by name within a group
    return rows
