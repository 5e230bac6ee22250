"""Deaths, employee insurance, university students and card activations from lists; the
anomalies they reveal; payment patterns for review (垫资参保后套取).

The import writes through the registry's services (``person_mark_deceased``,
``other_insurance_record``), so a person so marked leaves every outreach list (they are no
longer "should enroll") and a deceased person's unpaid enrollments are flagged. What a
service cannot undo, a payment already made, is listed by :func:`anomaly_list`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from yibao.collection.selectors import live_payments
from yibao.core.access import require_office, villages_in_scope
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.registry.models import OtherInsurance, Person, Township
from yibao.registry.selectors import persons_by_id_number
from yibao.registry.services import other_insurance_record, person_mark_deceased
from yibao.transfer.imports import ListRow, list_rows

from .models import CardActivation, PersonList, PersonListEntry
from .services import Progress, township_of

Outcome = PersonListEntry.Outcome


@transaction.atomic
def person_list_import(
    *,
    actor: Any,
    path: str | Path,
    kind: str,
    benefit_year: int,
    township: Township | None = None,
    progress: Progress | None = None,
    progress_every: int = 500,
) -> PersonList:
    """Import a death, employee-insurance or university list and mark the people it names.

    A row whose person is not registered in the township, or that the registry refuses, is
    reported and changes nothing."""
    require_office(actor, "导入死亡、职工医保或大学生名单")
    if kind not in PersonList.Kind.values:
        raise ApplicationError("invalid_kind", f"未知的名单类型“{kind}”", kind=kind)
    township = township_of(actor, township)
    rows = list_rows(path=path, progress=progress, progress_every=progress_every)
    person_list = PersonList.objects.create(
        kind=kind,
        township=township,
        benefit_year=benefit_year,
        source=Path(path).name[:200],
        uploaded_by=actor,
    )
    numbers = sorted({r.id_number for r in rows if r.error is None})
    persons = persons_by_id_number(
        numbers, among=Person.objects.filter(hukou_village__township=township)
    )
    entries = []
    for row in rows:
        person = persons.get(row.id_number) if row.error is None else None
        entry = PersonListEntry(
            person_list=person_list, row=row.number, id_number=row.id_number, name=row.name
        )
        entries.append(entry)
        if row.error is not None:
            entry.outcome, entry.detail = Outcome.INVALID, row.error[1]
            continue
        if person is None:
            entry.outcome = Outcome.UNKNOWN_PERSON
            entry.detail = "本街道（镇）没有登记此人"
            continue
        entry.person = person
        try:
            with transaction.atomic():
                entry.outcome, entry.detail = _apply(actor, person_list, person, row)
        except ApplicationError as error:
            entry.outcome = Outcome.INVALID
            entry.detail = str(error.params.get("reason") or error.message)[:300]
    PersonListEntry.objects.bulk_create(entries, batch_size=1000)
    person_list.counts = {str(k): v for k, v in Counter(e.outcome for e in entries).items()}
    person_list.save(update_fields=["counts"])
    audit_record(
        actor=actor, action="person_list.import", instance=person_list, after=snapshot(person_list)
    )
    return person_list


def _apply(actor: Any, person_list: PersonList, person: Person, row: ListRow) -> tuple[str, str]:
    evidence = f"{person_list.get_kind_display()}（{person_list.source}第{row.number}行）"
    if person_list.kind == PersonList.Kind.DEATH:
        if row.died_on is None:
            raise ApplicationError("died_on_required", "未填写死亡日期")
        if person.status == Person.Status.DECEASED:
            return Outcome.ALREADY, f"此前已登记死亡（{person.deceased_on}）"
        person_mark_deceased(actor=actor, person=person, died_on=row.died_on, evidence=evidence)
        return Outcome.APPLIED, f"死亡日期{row.died_on}"
    if person_list.kind == PersonList.Kind.ECARD:
        card, created = CardActivation.objects.get_or_create(
            person=person, defaults={"activated_on": row.activated_on, "person_list": person_list}
        )
        if not created:
            return Outcome.ALREADY, f"此前已激活（{card.activated_on or '日期未知'}）"
        audit_record(actor=actor, action="card.activate", instance=card, after=snapshot(card))
        return Outcome.APPLIED, f"激活日期{row.activated_on or '未填'}"
    if person_list.kind == PersonList.Kind.EMPLOYEE:
        kind, place = OtherInsurance.Kind.EMPLOYEE, row.insured_place
    else:
        kind = OtherInsurance.Kind.ELSEWHERE
        place = f"{row.school or '高校'}（在校大学生，随学校参保）"
    exists = OtherInsurance.objects.filter(
        person=person, kind=kind, benefit_year=person_list.benefit_year
    ).exists()
    other_insurance_record(
        actor=actor,
        person=person,
        kind=kind,
        benefit_year=person_list.benefit_year,
        place=place[:100],
        evidence=evidence,
    )
    return (Outcome.ALREADY if exists else Outcome.APPLIED), place


# --- anomalies and patterns ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # "death_before_payment" / "paid_insured_elsewhere"
    person: Person
    detail: str


ANOMALY_KINDS = {
    "death_before_payment": "死亡后仍有缴费",
    "paid_insured_elsewhere": "已缴费但当年已在别处参保",
}


def anomaly_list(*, actor: Any, benefit_year: int) -> list[Anomaly]:
    """Payments that the lists contradict, for the township's review: a payment made after
    the payer's recorded death, or a payment for a year in which the person was insured
    elsewhere (employee insurance, another place, a university)."""
    require_office(actor, "查看异常名单")
    scope = villages_in_scope(actor)
    payments = (
        live_payments()
        .filter(enrollment__benefit_year=benefit_year, enrollment__person__hukou_village__in=scope)
        .select_related("enrollment__person__hukou_village")
        .order_by("paid_at", "pk")
    )
    other: dict[int, list[OtherInsurance]] = defaultdict(list)
    for record in OtherInsurance.objects.filter(
        benefit_year=benefit_year, person__hukou_village__in=scope
    ):
        other[record.person_id].append(record)
    found = []
    for payment in payments:
        person = payment.enrollment.person
        paid_on = timezone.localtime(payment.paid_at).date()
        if person.deceased_on is not None and paid_on > person.deceased_on:
            found.append(
                Anomaly(
                    "death_before_payment",
                    person,
                    f"{person.deceased_on}死亡，{paid_on}仍缴费{payment.amount}元",
                )
            )
        for record in other.get(person.pk, []):
            found.append(
                Anomaly(
                    "paid_insured_elsewhere",
                    person,
                    f"{paid_on}缴费{payment.amount}元；{benefit_year}年度已"
                    f"{record.get_kind_display()}（{record.place or record.evidence}）",
                )
            )
    return found


@dataclass
class PayerPattern:
    """One phone shared by paid people of several households: review for 垫资参保后套取."""

    phone: str
    households: int
    persons: list[Person] = field(default_factory=list)
    subsidised: int = 0


def payer_patterns(*, actor: Any, benefit_year: int, min_households: int = 3) -> list[PayerPattern]:
    """Phones on record for paid people of at least ``min_households`` different households
    (璧城街道办发〔2022〕36号 九（二）: advancing the money for many unrelated people, then
    claiming the subsidies). A list for review, not a finding."""
    require_office(actor, "查看代缴异常线索")
    scope = villages_in_scope(actor)
    paid = (
        live_payments()
        .filter(enrollment__benefit_year=benefit_year, enrollment__person__hukou_village__in=scope)
        .exclude(enrollment__person__phone="")
        .select_related("enrollment__person")
    )
    by_phone: dict[str, list[tuple[Person, bool]]] = defaultdict(list)
    for payment in paid:
        person = payment.enrollment.person
        by_phone[person.phone].append((person, payment.enrollment.subsidy > 0))
    patterns = []
    for phone, people in by_phone.items():
        households = {p.household_id or -p.pk for p, _ in people}
        if len(households) >= min_households:
            patterns.append(
                PayerPattern(
                    phone=phone,
                    households=len(households),
                    persons=[p for p, _ in people],
                    subsidised=sum(1 for _, s in people if s),
                )
            )
    return sorted(patterns, key=lambda p: (-p.households, p.phone))
