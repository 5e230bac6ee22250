"""Reads for the campaign: bulletins (通报), hardship gaps, assessment, subsidy accounts,
target tables and reductions; always within the actor's village scope.

The per-village figures come from :func:`yibao.collection.selectors.village_progress`, so a
bulletin, the dashboard, ``yibao progress`` and the API agree; assessment scores come from the
policy engine (:meth:`yibao.policy.PolicyEngine.assess`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import types
import typing
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum

from yibao.collection.models import Enrollment
from yibao.collection.selectors import (
    HUNDRED,
    ZERO,
    Hardship,
    ProgressTotals,
    VillageProgress,
    end_of_day,
    enrollment_floor,
    hardship_summary,
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
from yibao.core.bulk import gc_paused
from yibao.core.masking import mask_id_number
from yibao.policy import PolicyError, get_policy
from yibao.policy.reporting import bulletin_dates, previous_bulletin_date
from yibao.registry.models import IdentityTag

from .models import Bulletin, TargetReduction, TargetTable

PACE_DAYS = 7
UNSTATED_DEPARTMENT = "（政策未注明认定部门）"


def _from_json(kind: Any, value: Any) -> Any:
    """``value`` (from :func:`_jsonable`) read back as ``kind``: dataclasses field by field,
    Decimal and date from their strings, lists and tuples item by item; a field missing from
    an older record takes its default."""
    if value is None:
        return None
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        return kind(
            **{name: _from_json(hints[name], v) for name, v in value.items() if name in known}
        )
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in args if a is not type(None)]
        return _from_json(options[0], value)
    if origin is list:
        return [_from_json(args[0], v) for v in value]
    if origin is tuple:
        return tuple(_from_json(args[0], v) for v in value)
    if kind is Decimal:
        return Decimal(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    return value


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


def _hardship(*, actor: Any, policy_id: str, on: dt.date | None) -> Hardship:
    ids = list(policy_villages(actor=actor, policy_id=policy_id).values_list("pk", flat=True))
    year = get_policy(policy_id).benefit_year
    return hardship_summary(village_ids=ids, benefit_year=year, on=on)


def hardship_by_category(
    *,
    actor: Any,
    policy_id: str,
    on: dt.date | None = None,
    hardship: Hardship | None = None,
) -> list[HardshipCategory]:
    """Per identity category: people with a valid tag who should enroll, and how many paid.
    A person with two categories counts in each."""
    if hardship is None:
        hardship = _hardship(actor=actor, policy_id=policy_id, on=on)
    return [
        HardshipCategory(category=c, people=n, paid=p, rate=percent(p, n))
        for c, (n, p) in sorted(hardship.categories.items())
    ]


def hardship_missing(
    *,
    actor: Any,
    policy_id: str,
    on: dt.date | None = None,
    hardship: Hardship | None = None,
) -> list[MissingPerson]:
    """The hardship people who have not paid (as of the end of ``on``), by village."""
    if hardship is None:
        hardship = _hardship(actor=actor, policy_id=policy_id, on=on)
    villages = {
        v.pk: (v.seq or 0, v.name) for v in policy_villages(actor=actor, policy_id=policy_id)
    }
    unpaid = sorted(hardship.unpaid, key=lambda p: (villages[p.village_id][0], p.person_id))
    return [
        MissingPerson(
            person_id=p.person_id,
            name=p.name,
            masked_id_number=mask_id_number(p.id_number),
            village=villages[p.village_id][1],
            phone=p.phone,
            categories=p.categories,
        )
        for p in unpaid
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
class Floor:
    """The policy's enrollment floor as the bulletin states it."""

    percent: Decimal
    of: str  # should_enroll / target
    per: str  # township / village
    text: str
    cite: str


@dataclass(frozen=True, slots=True)
class BulletinFigures:
    policy_id: str
    policy_name: str
    benefit_year: int
    on: dt.date
    previous_on: dt.date | None
    # Where the change since the previous bulletin comes from: "issued" (the figures that
    # bulletin published), "ledger" (none was issued: the ledger as of that day's end).
    previous_source: str | None
    scheduled: bool  # ``on`` is a date of the policy's reporting schedule
    rows: list[BulletinRow]
    totals: ProgressTotals
    totals_paid_last_7_days: int
    totals_assessment: Assessment
    hardship: list[HardshipCategory]
    missing: list[MissingPerson]
    notes: list[str] = field(default_factory=list)
    floor: Floor | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = _jsonable(asdict(self))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BulletinFigures:
        """The figures as :meth:`to_dict` stored them (an issued bulletin's record)."""
        figures: BulletinFigures = _from_json(cls, data)
        return figures


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


@dataclass(frozen=True, slots=True)
class Standing:
    """A village's figures in an earlier bulletin."""

    paid: int
    completion: Decimal
    rank: int
    bottom_three: bool


def previous_issued(*, actor: Any, policy_id: str, on: dt.date) -> Bulletin | None:
    """The last bulletin issued for the policy in ``actor``'s scope for a day before ``on``."""
    return bulletin_list(actor=actor, policy_id=policy_id).filter(on__lt=on).first()


def issued_standings(bulletin: Bulletin) -> dict[int, Standing]:
    """Each village's paid, completion, rank and bottom-three mark as ``bulletin`` published
    them (its stored figures, :meth:`BulletinFigures.to_dict`)."""
    standings = {}
    for row in bulletin.figures.get("rows", []):
        progress = row["progress"]
        standings[progress["village_id"]] = Standing(
            paid=progress["paid"],
            completion=Decimal(progress["completion"]),
            rank=progress["rank"],
            bottom_three=progress["bottom_three"],
        )
    return standings


def bulletin_compute(*, actor: Any, policy_id: str, on: dt.date) -> BulletinFigures:
    """The bulletin for day ``on``: every figure as of the end of that day, within scope.

    The change since the previous bulletin compares with the figures the last bulletin
    issued before ``on`` published (as printed and read by the villages); when none has
    been issued, with the ledger at the end of the schedule's previous date."""
    # A township's bulletin makes some 100,000 short-lived rows and small objects (the
    # hardship rows, the unpaid people named twice), none in a cycle: with the collector
    # running, two or three full collections walk the whole process during one bulletin
    # and free nothing (a third of its Python time at 1,000,000 residents).
    with gc_paused():
        return _bulletin_compute(actor=actor, policy_id=policy_id, on=on)


def _bulletin_compute(*, actor: Any, policy_id: str, on: dt.date) -> BulletinFigures:
    engine = get_policy(policy_id)
    schedule = bulletin_dates(engine.data)
    issued = previous_issued(actor=actor, policy_id=policy_id, on=on)
    previous_on = issued.on if issued else previous_bulletin_date(engine.data, on)
    week_before = on - dt.timedelta(days=PACE_DAYS)
    found: list[Hardship] = []
    earlier = [week_before] + ([previous_on] if previous_on and not issued else [])
    rows, history = progress_with_history(
        actor=actor, policy_id=policy_id, on=on, earlier=earlier, hardship_found=found
    )
    week_ago = {r.village_id: r for r in history[week_before]}
    previous: dict[int, Any] = {}
    previous_source = None
    if issued is not None:
        previous, previous_source = issued_standings(issued), "issued"
    elif previous_on is not None:
        previous, previous_source = {r.village_id: r for r in history[previous_on]}, "ledger"
    reporting = engine.data.reporting
    interviews = bool(reporting and reporting.bottom_cite)
    result = []
    for r in rows:
        pace = r.paid - week_ago[r.village_id].paid
        projected_on, projection = _projection(
            on=on, target=r.target, paid=r.paid, pace=pace, last_day=last_payment_day(engine)
        )
        before = previous.get(r.village_id)
        result.append(
            BulletinRow(
                progress=r,
                enrollment_base=r.enrollment_base,
                enrollment_rate=r.enrollment_rate,
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
    floor = enrollment_floor(policy_id)
    totals = progress_totals(rows, floor=floor)
    notes = [
        "完成率 = 已缴费人数 ÷ 目标任务数（任务表所列减去核减）；已缴费含零申报，不含已冲正",
        "应参保 = 健在、本年度未参加职工医保或外地居民医保的户籍人口；困难群体 = 其中持有效身份标识的人",
        f"进度按近{PACE_DAYS}日（{on - dt.timedelta(days=PACE_DAYS - 1)}至{on}）新增缴费人数推算",
    ]
    if interviews and reporting:
        notes.append(f"连续两期居后三名的村（社区）标注“约谈”（{reporting.bottom_cite}）")
    if previous_source == "issued":
        notes.append(f"较上期：与{previous_on}已发布通报所载数字比较")
    elif previous_source == "ledger":
        notes.append(f"较上期：{previous_on}的通报未发布，按台账截至当日的数字比较")
    if floor is not None:
        whole = "全街道（镇）的目标，各村（社区）低于的同样标出" if floor.per == "township" else ""
        rate = "完成率" if floor.of == "target" else "参保率"
        notes.append(
            f"“{floor.text}”（{floor.cite}）：{rate}低于{floor.percent}%的标“低于{floor.percent}%”"
            + (f"；{whole}" if whole else "")
        )
    return BulletinFigures(
        policy_id=policy_id,
        policy_name=engine.name,
        benefit_year=engine.benefit_year,
        on=on,
        previous_on=previous_on,
        previous_source=previous_source,
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
        hardship=hardship_by_category(actor=actor, policy_id=policy_id, hardship=found[0]),
        missing=hardship_missing(actor=actor, policy_id=policy_id, hardship=found[0]),
        notes=notes,
        floor=Floor(floor.percent, floor.of, floor.per, floor.text, floor.cite) if floor else None,
    )


def bulletin_figures(*, actor: Any, policy_id: str, on: dt.date) -> BulletinFigures:
    """The bulletin of day ``on`` as shown and exported: the figures it published if it has
    been issued (an issued bulletin keeps its figures), else computed now."""
    issued = bulletin_list(actor=actor, policy_id=policy_id).filter(on=on).first()
    if issued is not None:
        return BulletinFigures.from_dict(issued.figures)
    return bulletin_compute(actor=actor, policy_id=policy_id, on=on)


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
