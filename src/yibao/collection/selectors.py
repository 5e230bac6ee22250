"""Reads from the collection ledger, always filtered by the actor's village scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest, TruncDate
from django.utils import timezone

from yibao.campaign.models import TargetReduction, TargetRow, TargetTable
from yibao.core import clock
from yibao.core.access import require_collector, require_village, villages_in_scope
from yibao.policy import get_policy, list_policies
from yibao.registry.idcrypto import last6_digest
from yibao.registry.models import IdentityTag, OtherInsurance, Person, Village

from .models import Collector, Enrollment, Payment, Remittance

ZERO = Decimal("0")


def live_q(*, until: dt.datetime | None = None, prefix: str = "") -> Q:
    """A live payment: a payment (not a reversal) made before ``until`` and not reversed
    before ``until`` (``None``: now). An enrollment has at most one live payment at a time,
    and it is paid exactly while it has one; every figure that says "paid" counts these.

    ``prefix`` reaches the payment through a relation (``"payments__"`` from an enrollment).
    """
    if until is None:
        return Q(**{f"{prefix}reverses__isnull": True, f"{prefix}reversal__isnull": True})
    return Q(**{f"{prefix}reverses__isnull": True, f"{prefix}paid_at__lt": until}) & (
        Q(**{f"{prefix}reversal__isnull": True}) | Q(**{f"{prefix}reversal__paid_at__gte": until})
    )


def live_payments(*, until: dt.datetime | None = None) -> QuerySet[Payment]:
    """The live payments (:func:`live_q`) at ``until``."""
    return Payment.objects.filter(live_q(until=until))


def enrollment_list(
    *,
    actor: Any,
    benefit_year: int,
    village: Village | None = None,
    status: str | None = None,
) -> QuerySet[Enrollment]:
    queryset = Enrollment.objects.filter(
        benefit_year=benefit_year, village__in=villages_in_scope(actor)
    ).select_related("person", "village")
    if village is not None:
        queryset = queryset.filter(village=village)
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset.order_by("village_id", "id")


def payment_list(
    *, actor: Any, benefit_year: int, village: Village | None = None
) -> QuerySet[Payment]:
    queryset = Payment.objects.filter(
        enrollment__benefit_year=benefit_year,
        enrollment__village__in=villages_in_scope(actor),
    ).select_related("enrollment__person", "enrollment__village", "collector__user")
    if village is not None:
        queryset = queryset.filter(enrollment__village=village)
    return queryset.order_by("id")


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One line of a village's ledger (台账): a person and their enrollment, if any."""

    person_id: int
    name: str
    masked_id_number: str
    phone: str
    household: str
    status: str  # 未登记 / 未缴费 / 已缴费 / 已死亡（待核）
    tier: int | None
    identity: str
    standard: Decimal | None
    subsidy: Decimal | None
    personal: Decimal | None
    paid: Decimal  # net of reversals
    channel: str
    paid_at: dt.datetime | None
    coverage_start: dt.date | None
    coverage_end: dt.date | None
    zero_declaration: bool


def village_ledger(*, actor: Any, village: Village, benefit_year: int) -> list[LedgerRow]:
    """The ledger of ``village`` for ``benefit_year``: everyone registered there (alive or
    enrolled) and everyone enrolled there, with what they owe and paid; ID numbers masked."""
    people = ledger_people(actor=actor, village=village, benefit_year=benefit_year)
    return ledger_rows(persons=list(people), village=village, benefit_year=benefit_year)


LEDGER_STATUSES = {
    "未登记": None,
    "未缴费": Enrollment.Status.UNPAID,
    "已缴费": Enrollment.Status.PAID,
    "已死亡（待核）": Enrollment.Status.DECEASED,
}


def ledger_people(
    *,
    actor: Any,
    village: Village,
    benefit_year: int,
    status: str = "",
    search: str = "",
    order: str = "",
) -> QuerySet[Person]:
    """The persons of ``village``'s ledger as a query, filtered and ordered in the database
    so that a page of 50 reads 50 rows: ``status`` one of :data:`LEDGER_STATUSES`, ``search``
    a name or the last digits of an ID number, ``order`` ``name`` / ``paid_at`` / by
    household."""
    require_village(actor, village)
    here = Enrollment.objects.filter(benefit_year=benefit_year, village=village)
    people = Person.objects.filter(
        Q(hukou_village=village, status=Person.Status.ALIVE) | Q(pk__in=here.values("person_id"))
    ).select_related("household")
    if status == "未登记":
        people = people.exclude(pk__in=here.values("person_id"))
    elif status in LEDGER_STATUSES:
        people = people.filter(
            pk__in=here.filter(status=LEDGER_STATUSES[status]).values("person_id")
        )
    search = search.strip()
    if search.isdigit() or (search[:-1].isdigit() and search[-1:].upper() == "X"):
        # ID numbers are encrypted: their end is found through the blind index of the last
        # six; fewer digits are the end of a phone number.
        if len(search) >= 6:
            people = people.filter(id_last6_digest=last6_digest(search))
        else:
            people = people.filter(phone__endswith=search)
    elif search:
        people = people.filter(name__contains=search)
    if order == "name":
        return people.order_by("name", "pk")
    if order == "paid_at":
        paid_at = Subquery(here.filter(person=OuterRef("pk")).values("paid_at")[:1])
        return people.annotate(ledger_paid_at=paid_at).order_by(
            F("ledger_paid_at").asc(nulls_last=True), "pk"
        )
    return people.order_by("household_id", "pk")


def ledger_rows(
    *, persons: Sequence[Person], village: Village, benefit_year: int
) -> list[LedgerRow]:
    """:class:`LedgerRow` of each of ``persons`` (from :func:`ledger_people`, in order)."""
    ids = [p.pk for p in persons]
    enrollments = {
        e.person_id: e
        for e in Enrollment.objects.filter(
            benefit_year=benefit_year, village=village, person_id__in=ids
        )
    }
    payments: dict[int, list[Payment]] = {}
    for payment in Payment.objects.filter(enrollment__in=enrollments.values()).order_by("id"):
        payments.setdefault(payment.enrollment_id, []).append(payment)
    live_ids = set(
        live_payments().filter(enrollment__in=enrollments.values()).values_list("pk", flat=True)
    )
    rows = []
    for person in persons:
        enrollment = enrollments.get(person.pk)
        entries = payments.get(enrollment.pk, []) if enrollment else []
        live = [p for p in entries if p.pk in live_ids]
        last = live[-1] if live else None
        rows.append(
            LedgerRow(
                person_id=person.pk,
                name=person.name,
                masked_id_number=person.masked_id_number,
                phone=person.phone,
                household=str(person.household) if person.household else "",
                status=enrollment.get_status_display() if enrollment else "未登记",
                tier=enrollment.tier if enrollment else None,
                identity=enrollment.identity_name if enrollment else "",
                standard=enrollment.standard if enrollment else None,
                subsidy=enrollment.subsidy if enrollment else None,
                personal=enrollment.personal if enrollment else None,
                paid=sum((p.amount for p in entries), ZERO),
                channel=last.get_channel_display() if last else "",
                paid_at=last.paid_at if last else None,
                coverage_start=enrollment.coverage_start if enrollment else None,
                coverage_end=enrollment.coverage_end if enrollment else None,
                zero_declaration=bool(last and last.is_zero_declaration),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class CollectionTotals:
    enrolled: int
    paid: int
    zero_declarations: int
    amount: Decimal  # net of reversals


def collection_totals(
    *, actor: Any, benefit_year: int, village: Village | None = None
) -> CollectionTotals:
    """Counts and money for ``benefit_year`` within ``actor``'s scope (or one village)."""
    enrollments = enrollment_list(actor=actor, benefit_year=benefit_year, village=village)
    counts = enrollments.aggregate(
        enrolled=Count("id"),
        paid=Count("id", filter=Q(status=Enrollment.Status.PAID)),
        zero=Count("id", filter=Q(status=Enrollment.Status.PAID, personal=ZERO)),
    )
    amount = payment_list(actor=actor, benefit_year=benefit_year, village=village).aggregate(
        total=Sum("amount")
    )["total"]
    return CollectionTotals(
        enrolled=counts["enrolled"],
        paid=counts["paid"],
        zero_declarations=counts["zero"],
        amount=amount or ZERO,
    )


def collector_cash_on_hand(*, actor: Any, collector: Collector) -> Decimal:
    """Cash ``collector`` holds now: cash taken net of reversals, minus remittances."""
    require_collector(actor, collector)
    return cash_on_hand(collector)


def cash_on_hand(collector: Collector) -> Decimal:
    """Cash taken by ``collector`` (net of reversals) minus what they remitted to the bank.

    No scope check: for services that have checked it (:func:`collector_cash_on_hand` and
    :func:`collector_cash` are the scoped reads)."""
    taken = (
        Payment.objects.filter(collector=collector, channel=Payment.Channel.CASH).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )
    remitted = (
        Remittance.objects.filter(collector=collector).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return (taken - remitted).quantize(Decimal("0.01"))


# --- campaign progress -----------------------------------------------------------------
#
# The figures of the township dashboard, the bulletins, ``yibao progress``, the demo's summary
# and ``/api/v1/progress``: each is computed here once, within the actor's village scope.

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
PERSON_CHUNK = 2000  # ids per IN list (SQLite's limit on query parameters)
BOTTOM_NAMED = 3  # DOMAIN: the bottom three villages are named, unless a policy says otherwise


def end_of_day(on: dt.date | None) -> dt.datetime | None:
    """The end of day ``on`` in Asia/Shanghai (the start of the next day), or ``None``."""
    if on is None:
        return None
    return timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=1), dt.time.min))


def _day_bounds(since: dt.date | None, until: dt.date | None) -> Q:
    bounds = Q()
    if since is not None:
        bounds &= Q(paid_at__gte=end_of_day(since - dt.timedelta(days=1)))
    if until is not None:
        bounds &= Q(paid_at__lt=end_of_day(until))
    return bounds


def percent(part: int, whole: int) -> Decimal:
    """``part`` as a percentage of ``whole``, to two decimals (half up); 0 of nothing is 0."""
    if not whole:
        return ZERO
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP)


def should_enroll_q(*, benefit_year: int, on: dt.date | None = None, prefix: str = "") -> Q:
    """Who should enroll (应参保): alive (on ``on``), without other insurance for the year
    (employee insurance or resident insurance elsewhere). ``prefix`` reaches the person
    through a relation (``"person__"`` from an identity tag)."""
    alive = Q(**{f"{prefix}status": Person.Status.ALIVE})
    if on is not None:
        alive |= Q(**{f"{prefix}deceased_on__gt": on})
    other = OtherInsurance.objects.filter(benefit_year=benefit_year).values("person_id")
    return alive & ~Q(**{f"{prefix}pk__in": other})


def should_enroll(*, benefit_year: int, on: dt.date | None = None) -> QuerySet[Person]:
    """The people of :func:`should_enroll_q`."""
    return Person.objects.filter(should_enroll_q(benefit_year=benefit_year, on=on))


def hardship_tags(*, on: dt.date) -> QuerySet[IdentityTag]:
    """Identity tags valid on ``on`` (an open end of the window counts as valid)."""
    return IdentityTag.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
    )


def policy_villages(*, actor: Any, policy_id: str) -> QuerySet[Village]:
    """The villages in ``actor``'s scope that the policy governs (its township, or else its
    district), in the order of their sequence numbers."""
    policy = get_policy(policy_id).data
    villages = villages_in_scope(actor).filter(township__district__name=policy.district)
    if policy.township:
        villages = villages.filter(township__name=policy.township)
    return villages.order_by("seq", "id")


@dataclass(frozen=True, slots=True)
class VillageTarget:
    target: int
    period_target: int | None
    should_enroll: int | None  # the published should-enroll population, where a table has one


def village_targets(*, policy_id: str, villages: Sequence[Village]) -> dict[int, VillageTarget]:
    """Each village's target: from the township's accepted target table (``yibao.campaign``)
    when there is one, else from the policy's published table by village name."""
    accepted = {
        row.village_id: VillageTarget(row.target, row.period_target, row.should_enroll)
        for row in TargetRow.objects.filter(
            table__policy_id=policy_id,
            table__status=TargetTable.Status.ACCEPTED,
            village__in=[v.pk for v in villages],
        )
    }
    townships = set(
        TargetTable.objects.filter(
            policy_id=policy_id, status=TargetTable.Status.ACCEPTED
        ).values_list("township_id", flat=True)
    )
    published = get_policy(policy_id).targets
    by_name = {row.village: row.values for row in published.rows} if published else {}
    result = {}
    for village in villages:
        if village.township_id in townships:
            result[village.pk] = accepted.get(village.pk, VillageTarget(0, None, None))
            continue
        values = by_name.get(village.name, {})
        result[village.pk] = VillageTarget(
            values.get("target", 0), values.get("period_target"), values.get("should_enroll")
        )
    return result


def live_reductions(*, benefit_year: int, until: dt.datetime | None = None) -> QuerySet[Any]:
    """Target reductions (核减) in force: recorded before ``until`` and not revoked by then."""
    reductions = TargetReduction.objects.filter(benefit_year=benefit_year)
    if until is None:
        return reductions.filter(revoked_at__isnull=True)
    return reductions.filter(recorded_at__lt=until).exclude(revoked_at__lt=until)


@dataclass(frozen=True, slots=True)
class VillageProgress:
    """One village's campaign figures; rates are percentages to two decimals."""

    seq: int
    village_id: int
    name: str
    target: int  # the target in force: the published figure less reductions (核减)
    period_target: int | None  # the centralized-period target, where the table has one
    should_enroll: int  # alive, without other insurance for the year, registered here
    enrolled: int
    paid: int
    completion: Decimal  # paid / target
    period_completion: Decimal | None  # paid / period target
    hardship: int  # should-enroll people with a valid identity tag
    hardship_paid: int
    hardship_rate: Decimal  # hardship_paid / hardship (100 when there are none)
    rank: int  # by completion, highest first; ties by sequence number
    bottom_three: bool
    target_published: int  # the target table's figure; ``target`` is it less the reductions
    reductions: int  # target reductions (核减) in force
    should_enroll_published: int | None  # the target table's should-enroll figure, if printed


@dataclass(frozen=True, slots=True)
class ProgressTotals:
    """The sum of :class:`VillageProgress` rows, with the rates recomputed from the sums."""

    villages: int
    target: int
    period_target: int | None
    should_enroll: int
    enrolled: int
    paid: int
    completion: Decimal
    period_completion: Decimal | None
    hardship: int
    hardship_paid: int
    hardship_rate: Decimal
    target_published: int
    reductions: int


def _count_by(queryset: QuerySet[Any], field: str) -> dict[int, int]:
    return dict(queryset.values(field).annotate(n=Count("pk")).values_list(field, "n"))


def village_progress(
    *,
    actor: Any,
    policy_id: str,
    on: dt.date | None = None,
) -> list[VillageProgress]:
    """Progress per village of the policy within ``actor``'s scope, as of the end of day ``on``
    (``None``: now; payments and reversals after ``on`` are not counted), in sequence order.

    Enrolled and paid count enrollments of the policy's benefit year by the village they were
    made in; should-enroll and hardship count people by their household-register village.
    """
    return progress_with_history(actor=actor, policy_id=policy_id, on=on)[0]


@dataclass(frozen=True, slots=True)
class VillageStanding:
    """A village's paid count, target, completion and rank at the end of an earlier day."""

    village_id: int
    target: int
    paid: int
    completion: Decimal
    rank: int
    bottom_three: bool


def _ranked(rows: Sequence[Any], named: int) -> tuple[dict[int, int], set[int]]:
    """Rank by completion (highest first; ties by sequence number) and the bottom ``named``."""
    ordered = sorted(rows, key=lambda r: (-r["completion"], r["seq"], r["village_id"]))
    bottom = {r["village_id"] for r in ordered[-named:]} if len(ordered) > named else set()
    return {r["village_id"]: i for i, r in enumerate(ordered, start=1)}, bottom


def progress_with_history(
    *,
    actor: Any,
    policy_id: str,
    on: dt.date | None = None,
    earlier: Sequence[dt.date] = (),
    hardship_found: list[HardshipPerson] | None = None,
) -> tuple[list[VillageProgress], dict[dt.date, list[VillageStanding]]]:
    """:func:`village_progress` at ``on``, and each village's standing at the end of each
    of the ``earlier`` days (for a bulletin's change and pace), from the same pass; the
    hardship people found are appended to ``hardship_found`` when given."""
    engine = get_policy(policy_id)
    year = engine.benefit_year
    named = (engine.data.reporting.bottom_named if engine.data.reporting else None) or BOTTOM_NAMED
    villages = list(policy_villages(actor=actor, policy_id=policy_id))
    ids = [v.pk for v in villages]
    targets = village_targets(policy_id=policy_id, villages=villages)
    days: list[dt.date | None] = [on, *earlier]
    reductions = [
        _count_by(
            live_reductions(benefit_year=year, until=end_of_day(day)).filter(village__in=ids),
            "village",
        )
        for day in days
    ]
    registered = _count_by(
        should_enroll(benefit_year=year, on=on).filter(hukou_village__in=ids), "hukou_village"
    )
    hardship: dict[int, int] = {}
    hardship_paid: dict[int, int] = {}
    people = hardship_people(village_ids=ids, benefit_year=year, on=on)
    if hardship_found is not None:
        hardship_found.extend(people)
    for person in people:
        hardship[person.village_id] = hardship.get(person.village_id, 0) + 1
        hardship_paid[person.village_id] = hardship_paid.get(person.village_id, 0) + person.paid
    enrolled, paid = ledger_counts(village_ids=ids, benefit_year=year, on=on, days=days)

    rows = []
    for village in villages:
        published = targets[village.pk]
        n_reduced = reductions[0].get(village.pk, 0)
        target = max(published.target - n_reduced, 0)
        n_paid = paid[0].get(village.pk, 0)
        n_hardship = hardship.get(village.pk, 0)
        n_hardship_paid = hardship_paid.get(village.pk, 0)
        rows.append(
            dict(
                seq=village.seq or 0,
                village_id=village.pk,
                name=village.name,
                target=target,
                period_target=published.period_target,
                should_enroll=registered.get(village.pk, 0),
                enrolled=enrolled.get(village.pk, 0),
                paid=n_paid,
                completion=percent(n_paid, target),
                period_completion=(
                    None
                    if published.period_target is None
                    else percent(n_paid, published.period_target)
                ),
                hardship=n_hardship,
                hardship_paid=n_hardship_paid,
                hardship_rate=percent(n_hardship_paid, n_hardship) if n_hardship else HUNDRED,
                target_published=published.target,
                reductions=n_reduced,
                should_enroll_published=published.should_enroll,
            )
        )
    ranks, bottom = _ranked(rows, named)
    progress = [
        VillageProgress(**r, rank=ranks[r["village_id"]], bottom_three=r["village_id"] in bottom)
        for r in rows
    ]
    history: dict[dt.date, list[VillageStanding]] = {}
    for index, day in enumerate(earlier, start=1):
        then = []
        for village in villages:
            target = max(targets[village.pk].target - reductions[index].get(village.pk, 0), 0)
            n_paid = paid[index].get(village.pk, 0)
            then.append(
                dict(
                    village_id=village.pk,
                    seq=village.seq or 0,
                    target=target,
                    paid=n_paid,
                    completion=percent(n_paid, target),
                )
            )
        ranks, bottom = _ranked(then, named)
        history[day] = [
            VillageStanding(
                village_id=r["village_id"],
                target=r["target"],
                paid=r["paid"],
                completion=r["completion"],
                rank=ranks[r["village_id"]],
                bottom_three=r["village_id"] in bottom,
            )
            for r in then
        ]
    return progress, history


def ledger_counts(
    *,
    village_ids: Sequence[int],
    benefit_year: int,
    on: dt.date | None,
    days: Sequence[dt.date | None],
) -> tuple[dict[int, int], list[dict[int, int]]]:
    """Enrolled per village at the end of ``on``, and paid per village at the end of each of
    ``days``.

    Enrolled by the end of a day: written before it, quoted on or before it (the campaign
    date, which differs from the time of the write in a demo), or paid before it (the
    enrollment's ``paid_at`` is its live payment's time).

    Paid is the count of live payments (:func:`live_q`), computed as payments made before
    the day's end less those of them reversed before it: the same set, without joining
    every payment to its (rare) reversal, so that one pass over the payments serves every
    day asked for."""
    until = end_of_day(on)
    enrollments = Enrollment.objects.filter(benefit_year=benefit_year, village__in=village_ids)
    if until is not None:
        enrollments = enrollments.filter(
            Q(created_at__lt=until) | Q(quoted_on__lte=on) | Q(paid_at__lt=until)
        )
    enrolled = _count_by(enrollments, "village")
    cutoffs = [end_of_day(day) for day in days]

    def before(cutoff: dt.datetime | None, field: str = "paid_at") -> Q:
        return Q() if cutoff is None else Q(**{f"{field}__lt": cutoff})

    in_scope = {"enrollment__benefit_year": benefit_year, "enrollment__village__in": village_ids}
    made = (
        Payment.objects.filter(reverses__isnull=True, **in_scope)
        .values("enrollment__village")
        .annotate(**{f"n{i}": Count("pk", filter=before(c)) for i, c in enumerate(cutoffs)})
    )
    undone = (
        Payment.objects.filter(reverses__isnull=False, **in_scope)
        .values("enrollment__village")
        .annotate(
            **{
                f"n{i}": Count("pk", filter=before(c) & before(c, "reverses__paid_at"))
                for i, c in enumerate(cutoffs)
            }
        )
    )
    counts: list[dict[int, int]] = [{} for _ in days]
    for rows, sign in ((made, 1), (undone, -1)):
        for row in rows:
            for i in range(len(days)):
                village = row["enrollment__village"]
                counts[i][village] = counts[i].get(village, 0) + sign * row[f"n{i}"]
    return enrolled, counts


@dataclass(frozen=True, slots=True)
class HardshipPerson:
    """A person who should enroll and holds a valid identity tag (one line per category)."""

    person_id: int
    village_id: int
    categories: tuple[str, ...]
    paid: bool  # has a live payment for the benefit year at the end of the day


def hardship_people(
    *, village_ids: Sequence[int], benefit_year: int, on: dt.date | None
) -> list[HardshipPerson]:
    """Hardship people (should enroll, valid tag on ``on``) registered in ``village_ids``."""
    # One level of subquery only, and the payments looked up for lists of people: on tables
    # without statistics (a fresh import, a test transaction) PostgreSQL plans nested IN
    # subqueries badly enough to take minutes on a small township.
    tags = hardship_tags(on=on or clock.today()).filter(
        should_enroll_q(benefit_year=benefit_year, on=on, prefix="person__"),
        person__hukou_village__in=village_ids,
    )
    listed = list(
        tags.values_list("person_id", "person__hukou_village_id", "category_key").order_by(
            "person_id", "category_key"
        )
    )
    people = sorted({person_id for person_id, _, _ in listed})
    paid: set[int] = set()
    until = end_of_day(on)
    for start in range(0, len(people), PERSON_CHUNK):
        # Read from the enrollments of these people (an index lookup), then apply live_q's
        # rule to their payments: made before the cut-off, not reversed before it.
        made: dict[int, int] = {}
        undone: set[int] = set()
        for person_id, payment_id, reverses_id, paid_at in Enrollment.objects.filter(
            benefit_year=benefit_year,
            person_id__in=people[start : start + PERSON_CHUNK],
            payments__isnull=False,
        ).values_list("person_id", "payments__id", "payments__reverses_id", "payments__paid_at"):
            if until is not None and paid_at >= until:
                continue
            if reverses_id is None:
                made[payment_id] = person_id
            else:
                undone.add(reverses_id)
        paid.update(person for payment, person in made.items() if payment not in undone)
    rows = [(p, village, category, p in paid) for p, village, category in listed]
    found: dict[int, HardshipPerson] = {}
    for person_id, village_id, category, is_paid in rows:
        before = found.get(person_id)
        categories = (*before.categories, category) if before else (category,)
        if before and category in before.categories:
            continue
        found[person_id] = HardshipPerson(person_id, village_id, categories, bool(is_paid))
    return list(found.values())


def progress_totals(rows: Sequence[VillageProgress]) -> ProgressTotals:
    """The totals row of :func:`village_progress`'s rows."""
    target = sum(r.target for r in rows)
    period = [r.period_target for r in rows if r.period_target is not None]
    period_target = sum(period) if period else None
    paid = sum(r.paid for r in rows)
    hardship = sum(r.hardship for r in rows)
    hardship_paid = sum(r.hardship_paid for r in rows)
    return ProgressTotals(
        villages=len(rows),
        target=target,
        period_target=period_target,
        should_enroll=sum(r.should_enroll for r in rows),
        enrolled=sum(r.enrolled for r in rows),
        paid=paid,
        completion=percent(paid, target),
        period_completion=None if period_target is None else percent(paid, period_target),
        hardship=hardship,
        hardship_paid=hardship_paid,
        hardship_rate=percent(hardship_paid, hardship) if hardship else HUNDRED,
        target_published=sum(r.target_published for r in rows),
        reductions=sum(r.reductions for r in rows),
    )


def township_totals(
    *,
    actor: Any,
    policy_id: str,
    on: dt.date | None = None,
) -> ProgressTotals:
    """The totals of :func:`village_progress` over the villages in ``actor``'s scope."""
    return progress_totals(village_progress(actor=actor, policy_id=policy_id, on=on))


@dataclass(frozen=True, slots=True)
class ChannelTotal:
    channel: str
    label: str
    payments: int  # payments recorded (zero declarations included, reversals not)
    zero_declarations: int
    reversals: int
    amount: Decimal  # net of the reversals in the same window


def channel_totals(
    *,
    actor: Any,
    benefit_year: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[ChannelTotal]:
    """Per payment channel (every channel, in the ledger's order): entries dated from day
    ``since`` to day ``until`` inclusive (``None``: open), within ``actor``'s scope."""
    entries = Payment.objects.filter(
        _day_bounds(since, until),
        enrollment__benefit_year=benefit_year,
        enrollment__village__in=villages_in_scope(actor),
    )
    sums = {
        row["channel"]: row
        for row in entries.values("channel").annotate(
            payments=Count("pk", filter=Q(reverses__isnull=True)),
            zero=Count("pk", filter=Q(reverses__isnull=True, amount=0)),
            reversals=Count("pk", filter=Q(reverses__isnull=False)),
            amount=Sum("amount"),
        )
    }
    empty = {"payments": 0, "zero": 0, "reversals": 0, "amount": None}
    return [
        ChannelTotal(
            channel=channel,
            label=label,
            payments=sums.get(channel, empty)["payments"],
            zero_declarations=sums.get(channel, empty)["zero"],
            reversals=sums.get(channel, empty)["reversals"],
            amount=sums.get(channel, empty)["amount"] or ZERO,
        )
        for channel, label in Payment.Channel.choices
    ]


@dataclass(frozen=True, slots=True)
class DayProgress:
    day: dt.date
    paid: int  # enrollments that became paid that day, less those whose payment was reversed
    cumulative_paid: int  # live payments at the end of the day
    amount: Decimal  # net money of the day


def daily_progress(*, actor: Any, benefit_year: int) -> list[DayProgress]:
    """Per day with any payment or reversal (Asia/Shanghai), within ``actor``'s scope.

    A reversal counts on its own day, or on its payment's day if dated before it, so that
    ``cumulative_paid`` on day D equals the live payments at the end of D
    (:func:`live_payments`)."""
    local = timezone.get_current_timezone()
    entries = Payment.objects.filter(
        enrollment__benefit_year=benefit_year,
        enrollment__village__in=villages_in_scope(actor),
    ).annotate(
        effective=Greatest("paid_at", Coalesce("reverses__paid_at", "paid_at")),
    )
    by_day = (
        entries.annotate(day=TruncDate("effective", tzinfo=local))
        .values("day")
        .annotate(
            payments=Count("pk", filter=Q(reverses__isnull=True)),
            reversals=Count("pk", filter=Q(reverses__isnull=False)),
            amount=Sum("amount"),
        )
        .order_by("day")
    )
    result = []
    cumulative = 0
    for row in by_day:
        paid = row["payments"] - row["reversals"]
        cumulative += paid
        result.append(
            DayProgress(
                day=row["day"], paid=paid, cumulative_paid=cumulative, amount=row["amount"] or ZERO
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class CollectorCash:
    collector_id: int
    username: str
    name: str
    villages: tuple[str, ...]
    taken: Decimal  # cash payments net of reversals
    remitted: Decimal
    held: Decimal
    # When the oldest cash still held was taken (first in, first out); None when none is held.
    held_since: dt.datetime | None = None


def collectors_in_scope(actor: Any) -> QuerySet[Collector]:
    """Village collectors whose cash ``actor`` may see: themselves, and those working in a
    village of ``actor``'s scope (the rule of :func:`collector_cash_on_hand`)."""
    return (
        Collector.objects.filter(role=Collector.Role.COLLECTOR)
        .filter(Q(user_id=getattr(actor, "pk", None)) | Q(villages__in=villages_in_scope(actor)))
        .distinct()
    )


@dataclass(frozen=True, slots=True)
class CashEntry:
    """One movement of a collector's cash: a cash payment (``reverses`` None, amount >= 0),
    a reversal of one (amount <= 0, ``reverses`` the payment's id) or a remittance
    (``remittance`` True, amount > 0 handed to the bank)."""

    at: dt.datetime
    amount: Decimal
    payment_id: int | None = None
    reverses: int | None = None
    remittance: bool = False


def held_since(entries: Sequence[CashEntry]) -> dt.datetime | None:
    """When the oldest cash still held was taken, first in first out.

    Each cash payment is a lot; a reversal hands back its own payment's money first (the
    rest, if that lot was already remitted, from the oldest lot); a remittance hands over
    the oldest lots first. Entries are applied in time order (a payment before a remittance
    of the same moment)."""
    lots: list[list[Any]] = []  # [taken at, amount left, payment id]
    for entry in sorted(entries, key=lambda e: (e.at, e.remittance, e.reverses is not None)):
        if entry.remittance:
            _consume(lots, entry.amount)
        elif entry.reverses is not None:
            rest = -entry.amount
            for lot in lots:
                if lot[2] == entry.reverses:
                    used = min(lot[1], rest)
                    lot[1] -= used
                    rest -= used
            _consume(lots, rest)
        elif entry.amount > 0:
            lots.append([entry.at, entry.amount, entry.payment_id])
        lots = [lot for lot in lots if lot[1] > 0]
    return lots[0][0] if lots else None


def _consume(lots: list[list[Any]], amount: Decimal) -> None:
    for lot in lots:
        if amount <= 0:
            return
        used = min(lot[1], amount)
        lot[1] -= used
        amount -= used


def cash_entries(
    collector_ids: Sequence[int], *, until: dt.datetime | None = None
) -> dict[int, list[CashEntry]]:
    """Every cash movement of the collectors (before ``until``), by collector id."""
    payments = Payment.objects.filter(collector__in=collector_ids, channel=Payment.Channel.CASH)
    remittances = Remittance.objects.filter(collector__in=collector_ids)
    if until is not None:
        payments = payments.filter(paid_at__lt=until)
        remittances = remittances.filter(remitted_at__lt=until)
    entries: dict[int, list[CashEntry]] = {pk: [] for pk in collector_ids}
    for pk, collector, at, amount, reverses in payments.values_list(
        "pk", "collector", "paid_at", "amount", "reverses"
    ):
        entries[collector].append(CashEntry(at, amount, payment_id=pk, reverses=reverses))
    for collector, at, amount in remittances.values_list("collector", "remitted_at", "amount"):
        entries[collector].append(CashEntry(at, amount, remittance=True))
    return entries


def collector_cash(*, actor: Any, on: dt.date | None = None) -> list[CollectorCash]:
    """Cash taken, remitted and held per collector in ``actor``'s scope, now or at the end of
    day ``on``, with when the oldest cash held was taken (:func:`held_since`)."""
    collectors = list(
        collectors_in_scope(actor).select_related("user").prefetch_related("villages")
    )
    entries = cash_entries([c.pk for c in collectors], until=end_of_day(on))
    rows = []
    for c in collectors:
        mine = entries[c.pk]
        cash = sum((e.amount for e in mine if not e.remittance), ZERO)
        out = sum((e.amount for e in mine if e.remittance), ZERO)
        rows.append(
            CollectorCash(
                collector_id=c.pk,
                username=c.user.get_username(),
                name=c.user.get_full_name() or c.user.get_username(),
                villages=tuple(
                    v.name for v in sorted(c.villages.all(), key=lambda v: (v.seq or 0, v.pk))
                ),
                taken=cash,
                remitted=out,
                held=cash - out,
                held_since=held_since(mine),
            )
        )
    return sorted(rows, key=lambda r: (-r.held, r.username))


def campaign_policy(*, actor: Any) -> str | None:
    """The policy of ``actor``'s campaign: among the shipped policies that govern a village in
    their scope, a township's before a district's, the latest benefit year first."""
    places = set(villages_in_scope(actor).values_list("township__district__name", "township__name"))
    districts = {district for district, _ in places}
    candidates = [
        engine
        for engine in list_policies()
        if (engine.data.district, engine.data.township) in places
        or (engine.data.township is None and engine.data.district in districts)
    ]
    if not candidates:
        return None
    # A township's own document before a district-wide one; of several benefit years, the
    # first whose last payment day has not passed on the campaign date, else the latest.
    own = [e for e in candidates if e.data.township is not None] or candidates
    today = clock.today()
    for engine in sorted(own, key=lambda e: (e.benefit_year, e.id)):
        if last_payment_day(engine) >= today:
            return engine.id
    return max(own, key=lambda e: (e.benefit_year, e.id)).id


def last_payment_day(engine: Any) -> dt.date:
    """The last day the policy accepts any payment (period end, last day, extended day)."""
    collection = engine.data.collection
    days = [collection.period_end, collection.last_payment_day]
    if collection.extended_last_day is not None:
        days.append(collection.extended_last_day.until)
    return max(d for d in days if d is not None)


def policy_supplements(*, policy_id: str) -> list[Any]:
    """The supplements loaded for ``policy_id``, newest first (public policy data, no scope)."""
    from .models import PolicySupplement

    return list(PolicySupplement.objects.filter(policy_id=policy_id).order_by("-version"))
