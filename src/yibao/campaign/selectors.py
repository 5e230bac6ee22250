"""Reads for the campaign: bulletins (通报), hardship gaps, assessment, subsidy accounts,
target tables and reductions; always within the actor's village scope.

The per-village figures come from :func:`yibao.collection.selectors.village_progress`, so a
bulletin, the dashboard, ``yibao progress`` and the API agree; assessment scores come from the
policy engine (:meth:`yibao.policy.PolicyEngine.assess`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum

from yibao.collection.models import Enrollment
from yibao.collection.selectors import (
    HUNDRED,
    ZERO,
    HardshipPerson,
    ProgressTotals,
    VillageProgress,
    end_of_day,
    hardship_people,
    last_payment_day,
    live_payments,
    live_reductions,
    percent,
    policy_villages,
    progress_totals,
    progress_with_history,
    village_progress,
)
from yibao.core.access import not_found, villages_in_scope
from yibao.core.masking import mask_id_number
from yibao.policy import PolicyError, get_policy
from yibao.policy.reporting import bulletin_dates, previous_bulletin_date
from yibao.registry.idcrypto import id_number_decrypt
from yibao.registry.models import IdentityTag, Person

from .models import Bulletin, TargetReduction, TargetTable

PACE_DAYS = 7
UNSTATED_DEPARTMENT = "（政策未注明认定部门）"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- assessment ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assessment:
    """The policy's assessment of one village (or the township): a score with the reason,
    or no score and why (a case the rule does not cover, no rule, no target)."""

    score: Decimal | None
    band: str | None
    reason: str
    cite: str | None


ASSESSED_PLACES = Decimal("0.0001")


def _exact(part: int, whole: int) -> Decimal:
    """``part / whole`` in percent, cut (never rounded up) to four decimals: a rate just
    under a band's edge stays under it (95.996% is not 96%) for any target below 100,000."""
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(
        ASSESSED_PLACES, rounding=ROUND_FLOOR
    )


def assess(
    policy_id: str, *, paid: int, target: int, hardship: int, hardship_paid: int
) -> Assessment:
    """Score from the exact completion and hardship rates (not the rounded ones shown), so
    that 95.996% is not read as 96%."""
    engine = get_policy(policy_id)
    if engine.data.assessment is None:
        return Assessment(None, None, f"本政策（{engine.name}）没有考核办法", None)
    if not target:
        return Assessment(None, None, "没有目标任务数，无法计算完成率", engine.data.assessment.cite)
    hardship_rate = _exact(hardship_paid, hardship) if hardship else HUNDRED
    try:
        result = engine.assess(completion=_exact(paid, target), hardship=hardship_rate)
    except PolicyError as error:
        return Assessment(None, None, str(error), engine.data.assessment.cite)
    return Assessment(result.score, result.band, result.reason, result.cite)


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    village_id: int | None  # None: the township
    name: str
    completion: Decimal
    hardship_rate: Decimal
    assessment: Assessment


def assessment_list(
    *, actor: Any, policy_id: str, on: dt.date | None = None
) -> list[AssessmentRow]:
    """Each village in scope and then the whole (合计), assessed by the policy's rule."""
    rows = village_progress(actor=actor, policy_id=policy_id, on=on)
    totals = progress_totals(rows)
    result = [
        AssessmentRow(
            r.village_id,
            r.name,
            r.completion,
            r.hardship_rate,
            assess(
                policy_id,
                paid=r.paid,
                target=r.target,
                hardship=r.hardship,
                hardship_paid=r.hardship_paid,
            ),
        )
        for r in rows
    ]
    result.append(
        AssessmentRow(
            None,
            "合计",
            totals.completion,
            totals.hardship_rate,
            assess(
                policy_id,
                paid=totals.paid,
                target=totals.target,
                hardship=totals.hardship,
                hardship_paid=totals.hardship_paid,
            ),
        )
    )
    return result


# --- hardship gaps ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HardshipCategory:
    category: str
    people: int  # should-enroll people with a valid tag of this category
    paid: int
    rate: Decimal


@dataclass(frozen=True, slots=True)
class MissingPerson:
    """A hardship person who has not paid: named in the bulletin, ID masked."""

    person_id: int
    name: str
    masked_id_number: str
    village: str
    phone: str
    categories: tuple[str, ...]


def _hardship(*, actor: Any, policy_id: str, on: dt.date | None) -> list[HardshipPerson]:
    ids = list(policy_villages(actor=actor, policy_id=policy_id).values_list("pk", flat=True))
    return hardship_people(village_ids=ids, benefit_year=get_policy(policy_id).benefit_year, on=on)


def hardship_by_category(
    *,
    actor: Any,
    policy_id: str,
    on: dt.date | None = None,
    people: Sequence[HardshipPerson] | None = None,
) -> list[HardshipCategory]:
    """Per identity category: people with a valid tag who should enroll, and how many paid.
    A person with two categories counts in each."""
    if people is None:
        people = _hardship(actor=actor, policy_id=policy_id, on=on)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for person in people:
        for category in person.categories:
            counts[category][0] += 1
            counts[category][1] += person.paid
    return [
        HardshipCategory(category=c, people=n, paid=p, rate=percent(p, n))
        for c, (n, p) in sorted(counts.items())
    ]


def hardship_missing(
    *,
    actor: Any,
    policy_id: str,
    on: dt.date | None = None,
    people: Sequence[HardshipPerson] | None = None,
) -> list[MissingPerson]:
    """The hardship people who have not paid (as of the end of ``on``), by village."""
    if people is None:
        people = _hardship(actor=actor, policy_id=policy_id, on=on)
    unpaid = {p.person_id: p for p in people if not p.paid}
    found = []
    ids = sorted(unpaid)
    for start in range(0, len(ids), 5000):
        found += list(
            Person.objects.filter(pk__in=ids[start : start + 5000]).values_list(
                "pk",
                "name",
                "id_cipher",
                "id_digest",
                "phone",
                "hukou_village__name",
                "hukou_village__seq",
            )
        )
    found.sort(key=lambda r: (r[6] or 0, r[0]))
    return [
        MissingPerson(
            person_id=pk,
            name=name,
            masked_id_number=mask_id_number(id_number_decrypt(cipher, digest)),
            village=village,
            phone=phone,
            categories=unpaid[pk].categories,
        )
        for pk, name, cipher, digest, phone, village, _ in found
    ]


# --- bulletins ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulletinRow:
    progress: VillageProgress
    enrollment_base: int  # the printed should-enroll figure, else the ledger's count
    enrollment_rate: Decimal  # paid / enrollment_base
    paid_last_7_days: int
    projected_on: dt.date | None  # when the target is reached at the last 7 days' pace
    projection: str
    previous_paid: int | None  # at the previous bulletin
    previous_rank: int | None
    change_paid: int | None
    change_completion: Decimal | None
    interview: bool  # in the bottom three at this and the previous bulletin (Aikou 七（五）)
    assessment: Assessment


@dataclass(frozen=True, slots=True)
class BulletinFigures:
    policy_id: str
    policy_name: str
    benefit_year: int
    on: dt.date
    previous_on: dt.date | None
    scheduled: bool  # ``on`` is a date of the policy's reporting schedule
    rows: list[BulletinRow]
    totals: ProgressTotals
    totals_paid_last_7_days: int
    totals_assessment: Assessment
    hardship: list[HardshipCategory]
    missing: list[MissingPerson]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _jsonable(asdict(self))
        return data


def _projection(
    *, on: dt.date, target: int, paid: int, pace: int, last_day: dt.date
) -> tuple[dt.date | None, str]:
    remaining = target - paid
    if remaining <= 0:
        return None, "已完成目标任务"
    if pace <= 0:
        return None, f"近{PACE_DAYS}日没有新增缴费，按此进度无法完成"
    days = math.ceil(Decimal(remaining) * PACE_DAYS / Decimal(pace))
    projected = on + dt.timedelta(days=days)
    if projected > last_day:
        return None, f"按近{PACE_DAYS}日进度（{pace}人），{last_day}前无法完成"
    return projected, f"按近{PACE_DAYS}日进度（{pace}人）预计"


def bulletin_compute(*, actor: Any, policy_id: str, on: dt.date) -> BulletinFigures:
    """The bulletin for day ``on``: every figure as of the end of that day, within scope."""
    engine = get_policy(policy_id)
    schedule = bulletin_dates(engine.data)
    previous_on = previous_bulletin_date(engine.data, on)
    week_before = on - dt.timedelta(days=PACE_DAYS)
    people: list[HardshipPerson] = []
    rows, history = progress_with_history(
        actor=actor,
        policy_id=policy_id,
        on=on,
        earlier=[week_before] + ([previous_on] if previous_on else []),
        hardship_found=people,
    )
    week_ago = {r.village_id: r for r in history[week_before]}
    previous = {r.village_id: r for r in history[previous_on]} if previous_on else {}
    reporting = engine.data.reporting
    interviews = bool(reporting and reporting.bottom_cite)
    result = []
    for r in rows:
        pace = r.paid - week_ago[r.village_id].paid
        projected_on, projection = _projection(
            on=on, target=r.target, paid=r.paid, pace=pace, last_day=last_payment_day(engine)
        )
        before = previous.get(r.village_id)
        base = r.should_enroll_published or r.should_enroll
        result.append(
            BulletinRow(
                progress=r,
                enrollment_base=base,
                enrollment_rate=percent(r.paid, base),
                paid_last_7_days=pace,
                projected_on=projected_on,
                projection=projection,
                previous_paid=before.paid if before else None,
                previous_rank=before.rank if before else None,
                change_paid=r.paid - before.paid if before else None,
                change_completion=r.completion - before.completion if before else None,
                interview=interviews and r.bottom_three and bool(before and before.bottom_three),
                assessment=assess(
                    policy_id,
                    paid=r.paid,
                    target=r.target,
                    hardship=r.hardship,
                    hardship_paid=r.hardship_paid,
                ),
            )
        )
    totals = progress_totals(rows)
    notes = [
        "完成率 = 已缴费人数 ÷ 目标任务数（任务表所列减去核减）；已缴费含零申报，不含已冲正",
        "应参保 = 健在、本年度未参加职工医保或外地居民医保的户籍人口；困难群体 = 其中持有效身份标识的人",
        f"进度按近{PACE_DAYS}日（{on - dt.timedelta(days=PACE_DAYS - 1)}至{on}）新增缴费人数推算",
    ]
    if interviews and reporting:
        notes.append(f"连续两期居后三名的村（社区）标注“约谈”（{reporting.bottom_cite}）")
    return BulletinFigures(
        policy_id=policy_id,
        policy_name=engine.name,
        benefit_year=engine.benefit_year,
        on=on,
        previous_on=previous_on,
        scheduled=on in schedule,
        rows=result,
        totals=totals,
        totals_paid_last_7_days=sum(x.paid_last_7_days for x in result),
        totals_assessment=assess(
            policy_id,
            paid=totals.paid,
            target=totals.target,
            hardship=totals.hardship,
            hardship_paid=totals.hardship_paid,
        ),
        hardship=hardship_by_category(actor=actor, policy_id=policy_id, people=people),
        missing=hardship_missing(actor=actor, policy_id=policy_id, people=people),
        notes=notes,
    )


def bulletin_list(*, actor: Any, policy_id: str | None = None) -> QuerySet[Bulletin]:
    """Bulletins issued for a township in ``actor``'s scope."""
    townships = villages_in_scope(actor).values("township_id")
    bulletins = Bulletin.objects.filter(township_id__in=townships).select_related("issued_by")
    if policy_id:
        bulletins = bulletins.filter(policy_id=policy_id)
    return bulletins.order_by("-on", "-id")


# --- targets and reductions ---------------------------------------------------------------


def target_table_list(*, actor: Any, policy_id: str | None = None) -> QuerySet[TargetTable]:
    townships = villages_in_scope(actor).values("township_id")
    tables = TargetTable.objects.filter(township_id__in=townships).select_related(
        "township", "uploaded_by", "accepted_by"
    )
    if policy_id:
        tables = tables.filter(policy_id=policy_id)
    return tables.order_by("-id")


def target_reduction_list(
    *, actor: Any, benefit_year: int, include_revoked: bool = True
) -> QuerySet[TargetReduction]:
    reductions = TargetReduction.objects.filter(
        benefit_year=benefit_year, village__in=villages_in_scope(actor)
    ).select_related("person", "village", "recorded_by", "revoked_by")
    if not include_revoked:
        reductions = live_reductions(benefit_year=benefit_year).filter(pk__in=reductions)
    return reductions.order_by("village__seq", "-id")


def target_reduction_get(*, actor: Any, reduction_id: int) -> TargetReduction:
    """A reduction of a village in ``actor``'s scope (``not_found`` otherwise: the id of
    another village's reduction says nothing)."""
    reduction = (
        TargetReduction.objects.filter(pk=reduction_id, village__in=villages_in_scope(actor))
        .select_related("person", "village")
        .first()
    )
    if reduction is None:
        raise not_found(f"编号为{reduction_id}的核减", reduction_id=reduction_id)
    return reduction


# --- subsidy accounts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubsidyLine:
    """Subsidy owed for one certifying department and identity category (in one village, or
    the township when ``village`` is empty)."""

    department: str
    identity: str
    village: str
    people: int
    subsidy: Decimal  # what public funds pay instead of the person, surcharge borne included
    surcharge_borne: Decimal  # the late surcharge public funds bear (where the policy says so)


def subsidy_accounts(
    *, actor: Any, policy_id: str, on: dt.date | None = None
) -> tuple[list[SubsidyLine], list[SubsidyLine]]:
    """Subsidy of the paid enrollments (live payments as of ``on``), per village and per
    department and identity; and the same for the whole scope. Departments come from the
    policy's subsidy table."""
    engine = get_policy(policy_id)
    departments: dict[str, str] = {}
    for identity in engine.data.identities:
        for key in (identity.code, identity.printed, *identity.names):
            if key and identity.department:
                departments.setdefault(key, identity.department)
    borne = engine.data.surcharge_borne
    borne_names = set(borne.identities) if borne else set()
    villages = policy_villages(actor=actor, policy_id=policy_id)
    paid = Enrollment.objects.filter(
        benefit_year=engine.benefit_year,
        village__in=villages,
        subsidy__gt=0,
        pk__in=live_payments(until=end_of_day(on)).values("enrollment_id"),
    )
    tag_department = Subquery(
        IdentityTag.objects.filter(
            person=OuterRef("person"), category_key=OuterRef("identity_name")
        )
        .order_by("-id")
        .values("department")[:1]
    )
    per_village = (
        paid.annotate(tag_department=tag_department)
        .values("village__name", "village__seq", "identity_code", "identity_name", "tag_department")
        .annotate(people=Count("pk"), subsidy=Sum("subsidy"))
        .order_by("village__seq", "identity_code", "identity_name", "tag_department")
    )
    surcharges: dict[tuple[str, str, str | None], Decimal] = defaultdict(lambda: ZERO)
    if borne_names:
        borne_rows = (
            paid.filter(identity_name__in=borne_names)
            .annotate(tag_department=tag_department)
            .values_list("village__name", "identity_name", "tag_department", "quote_record__body")
        )
        for village, name, tag_dept, quote in borne_rows:
            surcharge = Decimal(str((quote or {}).get("surcharge") or "0"))
            surcharges[(village, name, tag_dept)] += surcharge
    merged: dict[tuple[str, str, str], SubsidyLine] = {}
    for r in per_village:
        name = r["identity_name"] or r["identity_code"]
        department = (
            departments.get(r["identity_code"])
            or departments.get(name)
            or r["tag_department"]
            or UNSTATED_DEPARTMENT
        )
        identity = (f"{r['identity_code']} " if r["identity_code"] else "") + (
            r["identity_name"] or ""
        )
        key = (department, identity, r["village__name"])
        surcharge = surcharges.get(
            (r["village__name"], r["identity_name"], r["tag_department"]), ZERO
        )
        before = merged.get(key)
        merged[key] = SubsidyLine(
            department=department,
            identity=identity,
            village=r["village__name"],
            people=r["people"] + (before.people if before else 0),
            subsidy=(r["subsidy"] or ZERO) + (before.subsidy if before else ZERO),
            surcharge_borne=surcharge + (before.surcharge_borne if before else ZERO),
        )
    lines = list(merged.values())
    lines.sort(key=lambda x: (x.department, x.identity, x.village))
    whole: dict[tuple[str, str], list[SubsidyLine]] = defaultdict(list)
    for line in lines:
        whole[(line.department, line.identity)].append(line)
    totals = [
        SubsidyLine(
            department=dept,
            identity=ident,
            village="",
            people=sum(x.people for x in group),
            subsidy=sum((x.subsidy for x in group), ZERO),
            surcharge_borne=sum((x.surcharge_borne for x in group), ZERO),
        )
        for (dept, ident), group in sorted(whole.items())
    ]
    return lines, totals
