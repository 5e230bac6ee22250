"""Writes to the campaign records: target tables, target reductions (核减), bulletins (通报).

Keyword-only, ``actor=``, atomic, audited. Targets and bulletins are the township office's
(or the district's) business: a village collector is refused (``office_required``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from yibao.core import clock
from yibao.core.access import not_found, require_person, villages_in_scope
from yibao.core.access import require_office as require_office_role
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.policy import get_policy
from yibao.policy.model import TargetColumn, Targets
from yibao.policy.model import TargetRow as PolicyTargetRow
from yibao.policy.reporting import bulletin_dates
from yibao.policy.targets import targets_check
from yibao.registry.models import Person, Township, Village

from .models import Bulletin, TargetReduction, TargetRow, TargetTable
from .sheets import read_target_sheet


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def policy_township(policy_id: str) -> Township:
    """The township a township-level policy governs (targets and bulletins are per township)."""
    policy = get_policy(policy_id).data
    township = (
        Township.objects.filter(name=policy.township, district__name=policy.district).first()
        if policy.township
        else None
    )
    if township is None:
        raise ApplicationError(
            "no_township",
            f"政策“{policy.name}”不是街道（镇）的征缴方案，或系统中没有{policy.township or '该街道'}",
            policy=policy_id,
        )
    return township


def require_office(actor: Any, township: Township) -> None:
    """Refuse ``office_required`` unless ``actor`` is a township or district office (the
    intake's role rule), and as not found unless the township is in their scope."""
    require_office_role(actor, f"{township.name}的目标任务、核减和通报")
    if not villages_in_scope(actor).filter(township=township).exists():
        raise not_found(township.name)


# --- target tables ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetLine:
    """One village's row as printed: ``values`` by the policy's column keys."""

    village: str
    values: dict[str, int]
    seq: int | None = None


def _check(policy_id: str, source: str, columns: Sequence[tuple[str, str]], lines, totals):
    """The policy engine's target check of the uploaded table (its rules, the printed rows)."""
    engine = get_policy(policy_id)
    published = engine.targets
    try:
        targets = Targets(
            cite=f"{source}（导入）",
            title=published.title if published else source,
            columns=[TargetColumn(key=k, label=label) for k, label in columns],
            rows=[
                PolicyTargetRow(seq=ln.seq, village=ln.village, values=ln.values) for ln in lines
            ],
            totals=totals,
            checks=[c for c in (published.checks if published else []) if _uses(c, columns)],
            stated=[
                s for s in (published.stated if published else []) if s.column in dict(columns)
            ],
        )
    except ValueError as error:
        raise ApplicationError(
            "invalid_target_table", f"{source}：任务表格式有误：{error}", source=source
        ) from None
    return [f.to_dict() for f in targets_check(engine.data.model_copy(update={"targets": targets}))]


def _uses(check: Any, columns: Sequence[tuple[str, str]]) -> bool:
    keys = {k for k, _ in columns}
    used = {check.column, *(getattr(check, n, None) for n in ("minuend", "subtrahend", "of"))}
    return (used - {None}) <= keys


@transaction.atomic
def target_table_draft(
    *,
    actor: Any,
    policy_id: str,
    source_name: str,
    columns: Sequence[tuple[str, str]],
    lines: Sequence[TargetLine],
    totals: dict[str, int] | None = None,
    problems: Sequence[str] = (),
) -> TargetTable:
    """A target table awaiting acceptance, with the policy engine's findings on it.

    The figures are kept as printed; arithmetic errors are findings, not corrections. A
    village the township does not have, a cell that is not a whole number or a table without
    a 目标任务数 column is refused; a village of the township missing from the table is a
    warning."""
    township = policy_township(policy_id)
    require_office(actor, township)
    if "target" not in dict(columns):
        raise ApplicationError("no_target_column", f"{source_name}：没有“任务数”一栏")
    if problems:
        raise ApplicationError(
            "invalid_target_table",
            f"{source_name}：" + "；".join(problems),
            problems=list(problems),
        )
    villages = {v.name: v for v in Village.objects.filter(township=township)}
    unknown = [ln.village for ln in lines if ln.village not in villages]
    if unknown:
        raise ApplicationError(
            "unknown_village",
            f"{source_name}：{township.name}没有这些村（社区）：{'、'.join(unknown)}",
            villages=unknown,
        )
    findings = _check(policy_id, source_name, columns, lines, dict(totals or {}))
    listed = {ln.village for ln in lines}
    for name in villages:
        if name not in listed:
            findings.append(
                {
                    "level": "warning",
                    "village": name,
                    "message": f"{name}：任务表中没有这个村（社区）",
                }
            )
    table = TargetTable.objects.create(
        policy_id=policy_id,
        township=township,
        source_name=source_name,
        columns=[list(c) for c in columns],
        totals=dict(totals or {}),
        findings=findings,
        uploaded_by=_user(actor),
        uploaded_at=clock.now(),
    )
    TargetRow.objects.bulk_create(
        [
            TargetRow(
                table=table,
                village=villages[ln.village],
                seq=ln.seq,
                target=ln.values["target"],
                period_target=ln.values.get("period_target"),
                should_enroll=ln.values.get("should_enroll"),
                values=ln.values,
            )
            for ln in lines
        ]
    )
    audit_record(actor=actor, action="target_table.import", instance=table, after=snapshot(table))
    return table


def target_table_import(*, actor: Any, policy_id: str, path: str | Path) -> TargetTable:
    """Read a target sheet (.xlsx/.xls/.csv as printed) into a draft with its findings."""
    sheet = read_target_sheet(path)
    return target_table_draft(
        actor=actor,
        policy_id=policy_id,
        source_name=sheet.source,
        columns=sheet.columns,
        lines=[
            TargetLine(village=name, values=values, seq=seq) for _, seq, name, values in sheet.rows
        ],
        totals=sheet.totals,
        problems=sheet.problems,
    )


@transaction.atomic
def target_table_accept(*, actor: Any, table: TargetTable) -> TargetTable:
    """Accept a draft after its findings were shown: the published figures stand. The table
    accepted before it for the same policy and township is superseded."""
    table = TargetTable.objects.select_for_update().get(pk=table.pk)
    require_office(actor, table.township)
    if table.status != TargetTable.Status.DRAFT:
        raise ApplicationError(
            "not_a_draft", f"该任务表{table.get_status_display()}，只能采用待核对的任务表"
        )
    for previous in TargetTable.objects.select_for_update().filter(
        policy_id=table.policy_id, township=table.township, status=TargetTable.Status.ACCEPTED
    ):
        before = snapshot(previous)
        previous.status = TargetTable.Status.SUPERSEDED
        previous.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="target_table.supersede",
            instance=previous,
            before=before,
            after=snapshot(previous),
        )
    before = snapshot(table)
    table.status = TargetTable.Status.ACCEPTED
    table.accepted_by = _user(actor)
    table.accepted_at = clock.now()
    table.save(update_fields=["status", "accepted_by", "accepted_at"])
    audit_record(
        actor=actor,
        action="target_table.accept",
        instance=table,
        before=before,
        after=snapshot(table),
    )
    return table


@transaction.atomic
def target_table_discard(*, actor: Any, table: TargetTable) -> TargetTable:
    """Set a draft aside (kept, with its findings, for the record)."""
    table = TargetTable.objects.select_for_update().get(pk=table.pk)
    require_office(actor, table.township)
    if table.status != TargetTable.Status.DRAFT:
        raise ApplicationError("not_a_draft", f"该任务表{table.get_status_display()}，不能放弃")
    before = snapshot(table)
    table.status = TargetTable.Status.DISCARDED
    table.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="target_table.discard",
        instance=table,
        before=before,
        after=snapshot(table),
    )
    return table


# --- target reductions --------------------------------------------------------------------


@transaction.atomic
def target_reduction_record(
    *,
    actor: Any,
    person: Person,
    policy_id: str,
    scope: str,
    insured_where: str,
    evidence: str,
    coverage_from: dt.date | None = None,
    coverage_to: dt.date | None = None,
) -> TargetReduction:
    """核减 ``person`` from their household-register village's target for the policy's year.

    The evidence the documents ask for: where the person is insured, and for insurance
    outside the city also the coverage period. One reduction in force per person and year."""
    person = Person.objects.select_for_update().select_related("hukou_village").get(pk=person.pk)
    require_person(actor, person, write=True)
    require_office(actor, person.hukou_village.township)
    engine = get_policy(policy_id)
    insured_where, evidence = (insured_where or "").strip(), (evidence or "").strip()
    if scope not in TargetReduction.Scope.values:
        raise ApplicationError("invalid_scope", f"参保地类别“{scope}”应为市内或市外", scope=scope)
    missing = [n for n, v in (("参保地或单位", insured_where), ("佐证材料", evidence)) if not v]
    if scope == TargetReduction.Scope.OUT_OF_CITY and not (coverage_from and coverage_to):
        missing.append("参保期起止（市外参保须提供）")
    if missing:
        raise ApplicationError(
            "evidence_required",
            f"{person.label}：核减须提供{'、'.join(missing)}",
            person=person.label,
            missing=missing,
        )
    if coverage_from and coverage_to and coverage_from > coverage_to:
        raise ApplicationError("invalid_period", f"{person.label}：参保期起晚于参保期止")
    if TargetReduction.objects.filter(
        person=person, benefit_year=engine.benefit_year, revoked_at__isnull=True
    ).exists():
        raise ApplicationError(
            "already_reduced",
            f"{person.label}已核减{engine.benefit_year}年度目标任务，不能重复核减",
            person=person.label,
        )
    reduction = TargetReduction.objects.create(
        person=person,
        village=person.hukou_village,
        policy_id=policy_id,
        benefit_year=engine.benefit_year,
        scope=scope,
        insured_where=insured_where,
        coverage_from=coverage_from,
        coverage_to=coverage_to,
        evidence=evidence,
        recorded_by=_user(actor),
        recorded_at=clock.now(),
    )
    audit_record(
        actor=actor, action="target_reduction.record", instance=reduction, after=snapshot(reduction)
    )
    return reduction


@transaction.atomic
def target_reduction_revoke(
    *, actor: Any, reduction: TargetReduction, reason: str
) -> TargetReduction:
    """Put the person back into the village's target; the reduction stays, marked revoked."""
    reduction = (
        TargetReduction.objects.select_for_update()
        .select_related("person", "village__township")
        .get(pk=reduction.pk)
    )
    require_office(actor, reduction.village.township)
    require_person(actor, reduction.person, write=True)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("reason_required", f"{reduction.person.label}：撤销核减须填写原因")
    if reduction.revoked_at is not None:
        raise ApplicationError("already_revoked", f"{reduction.person.label}的核减已撤销")
    before = snapshot(reduction)
    reduction.revoked_at = clock.now()
    reduction.revoked_by = _user(actor)
    reduction.revoke_reason = reason
    reduction.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    audit_record(
        actor=actor,
        action="target_reduction.revoke",
        instance=reduction,
        before=before,
        after=snapshot(reduction),
    )
    return reduction


# --- bulletins ----------------------------------------------------------------------------


@transaction.atomic
def bulletin_issue(
    *, actor: Any, policy_id: str, on: dt.date, scheduled: bool = False
) -> tuple[Bulletin, bool]:
    """Issue the bulletin for day ``on`` (figures as of its end) and keep what it published.

    Once per policy, township and day: issuing it again returns the first (``False``)."""
    from .selectors import bulletin_compute

    township = policy_township(policy_id)
    require_office(actor, township)
    if on > clock.today():
        raise ApplicationError("future_date", f"不能发布{on}的通报：该日尚未结束")
    existing = Bulletin.objects.filter(policy_id=policy_id, township=township, on=on).first()
    if existing is not None:
        return existing, False
    figures = bulletin_compute(actor=actor, policy_id=policy_id, on=on)
    bulletin = Bulletin.objects.create(
        policy_id=policy_id,
        township=township,
        on=on,
        scheduled=scheduled,
        figures=figures.to_dict(),
        issued_by=_user(actor),
        issued_at=clock.now(),
    )
    audit_record(
        actor=actor,
        action="bulletin.issue",
        instance=bulletin,
        after={"policy_id": policy_id, "on": on.isoformat(), "scheduled": scheduled},
    )
    return bulletin, True


def bulletins_due(*, actor: Any, policy_id: str) -> list[Bulletin]:
    """For cron: issue every scheduled bulletin up to today not issued yet (catching up on
    missed days), oldest first; the bulletins issued by this call."""
    today = clock.today()
    issued = []
    for day in bulletin_dates(get_policy(policy_id).data):
        if day > today:
            break
        bulletin, created = bulletin_issue(actor=actor, policy_id=policy_id, on=day, scheduled=True)
        if created:
            issued.append(bulletin)
    return issued
