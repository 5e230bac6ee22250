"""Writes to the registry: households, persons, identity tags, other insurance, deaths.

Every function is keyword-only, takes the acting user as ``actor``, checks the actor's
village scope, runs in one transaction and appends to the audit log. Refusals are
:class:`~yibao.core.errors.ApplicationError` with a stable code and a Chinese message that
names the person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from yibao.core import clock
from yibao.core.access import require_person, require_village
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number

from .idnumbers import normalise, parse_id_number
from .models import Household, IdentityTag, OtherInsurance, Person, Village


@dataclass(frozen=True, slots=True)
class PersonData:
    """One member of a household as written in the register book."""

    id_number: str
    name: str
    id_type: str = Person.IdType.RESIDENT_ID
    phone: str = ""
    relation_to_head: str = ""
    residence_village: Village | None = None
    sex: str | None = None
    birth_date: dt.date | None = None


def _label(name: str, id_number: str) -> str:
    return f"{name}（{mask_id_number(id_number)}）"


def _person_create(
    *,
    actor: Any,
    data: PersonData,
    hukou_village: Village,
    household: Household | None,
) -> Person:
    name = (data.name or "").strip()
    number = normalise(data.id_number)
    if not name:
        raise ApplicationError(
            "name_required",
            f"证件号码{mask_id_number(number)}的人员未填写姓名",
            id_number=mask_id_number(number),
        )
    parsed = parse_id_number(data.id_type, number, name=name, today=clock.today())
    sex, birth_date = parsed.sex or data.sex, parsed.birth_date or data.birth_date
    if sex is None or birth_date is None:
        raise ApplicationError(
            "birth_date_required",
            f"{_label(name, number)}：该证件号码不含出生日期和性别，须另行填写",
            person=_label(name, number),
        )
    existing = Person.objects.filter(id_number=number).select_related("hukou_village").first()
    if existing is not None:
        raise _duplicate(existing)
    person = Person(
        id_type=data.id_type,
        id_number=number,
        name=name,
        sex=sex,
        birth_date=birth_date,
        phone=data.phone.strip(),
        household=household,
        relation_to_head=data.relation_to_head,
        hukou_village=hukou_village,
        residence_village=data.residence_village,
        id_warnings=list(parsed.warnings),
    )
    try:
        with transaction.atomic():
            person.save(force_insert=True)
    except IntegrityError:
        # Registered by a concurrent request between the check above and the insert.
        existing = Person.objects.select_related("hukou_village").get(id_number=number)
        raise _duplicate(existing) from None
    audit_record(actor=actor, action="person.register", instance=person, after=snapshot(person))
    return person


def _duplicate(existing: Person) -> ApplicationError:
    return ApplicationError(
        "person_exists",
        f"{existing.label}已登记在{existing.hukou_village.name}，不能重复登记",
        person=existing.label,
        village=existing.hukou_village.name,
    )


@transaction.atomic
def person_register(
    *,
    actor: Any,
    hukou_village: Village,
    id_number: str,
    name: str,
    id_type: str = Person.IdType.RESIDENT_ID,
    phone: str = "",
    residence_village: Village | None = None,
    household: Household | None = None,
    relation_to_head: str = "",
    sex: str | None = None,
    birth_date: dt.date | None = None,
) -> Person:
    """Register one person; sex and birth date come from an 18-character ID number.

    Refuses ``invalid_id_number``, ``person_exists`` (the ID number is already registered,
    in any village), ``out_of_scope``.
    """
    require_village(actor, hukou_village)
    data = PersonData(
        id_number=id_number,
        name=name,
        id_type=id_type,
        phone=phone,
        relation_to_head=relation_to_head,
        residence_village=residence_village,
        sex=sex,
        birth_date=birth_date,
    )
    return _person_create(actor=actor, data=data, hukou_village=hukou_village, household=household)


@transaction.atomic
def household_register(
    *,
    actor: Any,
    village: Village,
    head: PersonData,
    members: Sequence[PersonData] = (),
    number: str | None = None,
    address: str = "",
) -> Household:
    """Register a household with its head and members, all or nothing."""
    require_village(actor, village)
    number = (number or "").strip() or None
    if number is not None and Household.objects.filter(number=number).exists():
        raise ApplicationError(
            "household_exists", f"户号{number}已登记，不能重复登记", number=number
        )
    household = Household(village=village, number=number, address=address)
    household.save(force_insert=True)
    head_data = head if head.relation_to_head else _with_relation(head, "户主")
    head_person = _person_create(
        actor=actor, data=head_data, hukou_village=village, household=household
    )
    for member in members:
        _person_create(actor=actor, data=member, hukou_village=village, household=household)
    household.head = head_person
    household.save(update_fields=["head"])
    audit_record(
        actor=actor, action="household.register", instance=household, after=snapshot(household)
    )
    return household


def _with_relation(data: PersonData, relation: str) -> PersonData:
    return PersonData(
        id_number=data.id_number,
        name=data.name,
        id_type=data.id_type,
        phone=data.phone,
        relation_to_head=relation,
        residence_village=data.residence_village,
        sex=data.sex,
        birth_date=data.birth_date,
    )


@transaction.atomic
def identity_tag_add(
    *,
    actor: Any,
    person: Person,
    category_key: str,
    department: str,
    category_name: str = "",
    source_list: str = "",
    source_batch: str = "",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    certified_on: dt.date | None = None,
) -> IdentityTag:
    """Tag ``person`` with a hardship identity from a department's list.

    ``category_key`` is the policy's code or printed name (``101``, ``低保对象``). The same
    category from the same batch is returned, not added twice, so re-importing a list is
    harmless.
    """
    require_person(actor, person)
    key = (category_key or "").strip()
    if not key:
        raise ApplicationError(
            "identity_required", f"{person.label}：未填写身份类别", person=person.label
        )
    if not (department or "").strip():
        raise ApplicationError(
            "department_required",
            f"{person.label}：身份“{key}”未填写认定部门",
            person=person.label,
        )
    if valid_from and valid_to and valid_from > valid_to:
        raise ApplicationError(
            "invalid_window",
            f"{person.label}：身份“{key}”的有效期起{valid_from}晚于有效期止{valid_to}",
            person=person.label,
        )
    existing = IdentityTag.objects.filter(
        person=person, category_key=key, source_batch=source_batch
    ).first()
    if existing is not None:
        return existing
    tag = IdentityTag.objects.create(
        person=person,
        category_key=key,
        category_name=category_name,
        department=department.strip(),
        source_list=source_list,
        source_batch=source_batch,
        valid_from=valid_from,
        valid_to=valid_to,
        certified_on=certified_on,
    )
    audit_record(actor=actor, action="identity_tag.add", instance=tag, after=snapshot(tag))
    return tag


@transaction.atomic
def other_insurance_record(
    *,
    actor: Any,
    person: Person,
    kind: str,
    benefit_year: int,
    place: str = "",
    evidence: str = "",
) -> OtherInsurance:
    """Record that ``person`` is insured elsewhere (employee insurance, another place)."""
    require_person(actor, person)
    if kind not in OtherInsurance.Kind.values:
        raise ApplicationError("invalid_kind", f"未知的参保类型“{kind}”", kind=kind)
    existing = OtherInsurance.objects.filter(
        person=person, kind=kind, benefit_year=benefit_year
    ).first()
    if existing is not None:
        return existing
    record = OtherInsurance.objects.create(
        person=person,
        kind=kind,
        benefit_year=benefit_year,
        place=place,
        evidence=evidence,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor, action="other_insurance.record", instance=record, after=snapshot(record)
    )
    return record


@transaction.atomic
def person_mark_deceased(
    *, actor: Any, person: Person, died_on: dt.date, evidence: str = ""
) -> Person:
    """Mark ``person`` deceased: unpaid enrollments are flagged, later payments refused."""
    from yibao.collection.models import Enrollment

    person = Person.objects.select_for_update().get(pk=person.pk)
    require_person(actor, person)
    if person.status == Person.Status.DECEASED:
        raise ApplicationError(
            "already_deceased",
            f"{person.label}已于{person.deceased_on}登记死亡",
            person=person.label,
        )
    if died_on > clock.today():
        raise ApplicationError(
            "invalid_date",
            f"{person.label}：死亡日期{died_on}晚于今天{clock.today()}",
            person=person.label,
        )
    before = snapshot(person)
    person.status = Person.Status.DECEASED
    person.deceased_on = died_on
    person.save(update_fields=["status", "deceased_on", "updated_at"])
    audit_record(
        actor=actor,
        action="person.mark_deceased",
        instance=person,
        before=before,
        after={**snapshot(person), "evidence": evidence},
    )
    for enrollment in Enrollment.objects.filter(person=person, status=Enrollment.Status.UNPAID):
        enrollment_before = snapshot(enrollment)
        enrollment.status = Enrollment.Status.DECEASED
        enrollment.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="enrollment.flag_deceased",
            instance=enrollment,
            before=enrollment_before,
            after=snapshot(enrollment),
        )
    return person
