"""Writes to the registry: households, persons, identity tags, other insurance, deaths.

Every function is keyword-only, takes the acting user as ``actor``, checks the actor's
village scope, runs in one transaction and appends to the audit log. Refusals are
:class:`~yibao.core.errors.ApplicationError` with a stable code and a Chinese message that
names the person.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from yibao.core import clock
from yibao.core.access import (
    not_found,
    require_office,
    require_person,
    require_village,
    scope_of,
)
from yibao.core.audit import (
    audit_bulk,
    audit_entry,
    audit_event,
    audit_record,
    snapshot,
    snapshot_values,
)
from yibao.core.bulk import insert_rows, present, reserve_ids
from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number
from yibao.policy import policies_for

from .checks import CheckedPerson, person_fields_check
from .idcrypto import FieldKey, current_key, id_number_decrypt, id_number_fields
from .models import Household, IdentityTag, OtherInsurance, Person, Village
from .pinyin import name_initials
from .selectors import id_number_models, whole_id_number


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
    # What person_fields_check returned for exactly these fields, when the caller has run
    # it already (the importer checks every row for its report); otherwise the service runs it.
    checked: CheckedPerson | None = None
    # What id_number_fields returned for the checked number, when the caller has sealed it
    # already (the importer looks registered numbers up by that blind index); otherwise the
    # service seals it.
    sealed: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class HouseholdData:
    """One household as written in the register book: the head first, then the members."""

    head: PersonData
    members: Sequence[PersonData] = ()
    number: str | None = None
    address: str = ""


QUERY_CHUNK = 500


def _checked(data: PersonData, today: dt.date) -> CheckedPerson:
    """``data``'s fields through :func:`person_fields_check`, once."""
    if data.checked is not None:
        return data.checked
    return person_fields_check(
        id_type=data.id_type,
        id_number=data.id_number,
        name=data.name,
        sex=data.sex,
        birth_date=data.birth_date,
        phone=data.phone,
        today=today,
    )


def _person_new(
    *,
    data: PersonData,
    hukou_village: Village,
    household: Household | None,
    today: dt.date,
) -> Person:
    """The unsaved person for ``data``, with every check that needs no database."""
    checked = _checked(data, today)
    return Person(
        id_type=data.id_type,
        id_number=checked.id_number,
        name=checked.name,
        name_initials=name_initials(checked.name),
        sex=checked.sex,
        birth_date=checked.birth_date,
        phone=checked.phone,
        household=household,
        relation_to_head=data.relation_to_head,
        hukou_village=hukou_village,
        residence_village=data.residence_village,
        id_warnings=list(checked.warnings),
    )


def _person_create(
    *,
    actor: Any,
    data: PersonData,
    hukou_village: Village,
    household: Household | None,
) -> Person:
    person = _person_new(
        data=data, hukou_village=hukou_village, household=household, today=clock.today()
    )
    digest = person.id_digest
    existing = Person.objects.filter(id_digest=digest).select_related("hukou_village").first()
    if existing is not None:
        raise _duplicate(existing, actor)
    try:
        with transaction.atomic():
            person.save(force_insert=True)
    except IntegrityError:
        # Registered by a concurrent request between the check above and the insert.
        existing = Person.objects.select_related("hukou_village").get(id_digest=digest)
        raise _duplicate(existing, actor) from None
    audit_record(actor=actor, action="person.register", instance=person, after=snapshot(person))
    _village_people_registered({hukou_village.pk: 1})
    return person


def _duplicate(existing: Person, actor: Any) -> ApplicationError:
    if not scope_of(actor).sees_person(existing):
        # Registered in a village the actor cannot see: name neither the person nor it.
        return ApplicationError(
            "person_exists",
            f"证件号码{existing.masked_id_number}已在其他村（社区）登记，不能重复登记；"
            "如需迁入，请联系街道社保所",
            id_number=existing.masked_id_number,
        )
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
    in any village), ``not_found`` (a village outside the scope).
    """
    require_village(actor, hukou_village, write=True)
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
    data = HouseholdData(head=head, members=members, number=number, address=address)
    written = _households_register(actor=actor, village=village, households=[data], rows=False)
    return _households(village, written)[0]


@transaction.atomic
def household_register_many(
    *, actor: Any, village: Village, households: Sequence[HouseholdData]
) -> list[Household]:
    """Register many households of ``village`` at once, all or nothing.

    Every household and person is checked as :func:`household_register` checks one; the
    first refusal names the row (``row``, counted from 1) and nothing of the batch is written.
    An ID number or household number that appears twice in the batch is refused like one
    already registered.
    """
    written = _households_register(actor=actor, village=village, households=households, rows=True)
    return _households(village, written)


@transaction.atomic
def household_register_many_ids(
    *, actor: Any, village: Village, households: Sequence[HouseholdData]
) -> tuple[int, dict[str, int]]:
    """:func:`household_register_many` for an importer: the number of households
    registered and the new persons' ids by ID number (to tag them without reading them
    back), no model objects."""
    written = _households_register(actor=actor, village=village, households=households, rows=True)
    return len(written.households), written.person_ids


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + QUERY_CHUNK] for i in range(0, len(values), QUERY_CHUNK)]


def _in_row(error: ApplicationError, row: int, number: str | None) -> ApplicationError:
    where = f"第{row}户" + (f"（户号{number}）" if number else "")
    return ApplicationError(error.code, f"{where}：{error.message}", **{**error.params, "row": row})


def _household_exists(number: str) -> ApplicationError:
    return ApplicationError("household_exists", f"户号{number}已登记，不能重复登记", number=number)


PERSON_FIELDS = (
    "id",
    "id_type",
    "id_cipher",
    "id_digest",
    "id_last6_digest",
    "name",
    "name_initials",
    "sex",
    "birth_date",
    "phone",
    "household_id",
    "relation_to_head",
    "hukou_village_id",
    "residence_village_id",
    "status",
    "deceased_on",
    "id_warnings",
    "created_at",
    "updated_at",
)
HOUSEHOLD_FIELDS = ("id", "village_id", "number", "address", "head_id", "created_at")


@dataclass(frozen=True, slots=True)
class _Written:
    households: list[tuple[Any, ...]]  # as inserted, HOUSEHOLD_FIELDS
    person_ids: dict[str, int]  # the new persons' ids by ID number


def _households(village: Village, written: _Written) -> list[Household]:
    """The households just written, as model objects (no query)."""
    result = []
    for values in written.households:
        household = Household(**dict(zip(HOUSEHOLD_FIELDS, values, strict=True)))
        household.village = village
        household._state.adding = False
        result.append(household)
    return result


# A person of a batch once checked: the checked fields and the stored ID columns, or why not.
_Prepared = tuple[PersonData, CheckedPerson | ApplicationError, dict[str, Any]]


def _prepare(data: PersonData, today: dt.date, key: FieldKey) -> _Prepared:
    try:
        checked = _checked(data, today)
    except ApplicationError as error:
        return data, error, {}
    sealed = data.sealed
    return (
        data,
        checked,
        sealed if sealed is not None else id_number_fields(checked.id_number, key=key),
    )


def _households_register(
    *, actor: Any, village: Village, households: Sequence[HouseholdData], rows: bool
) -> _Written:
    """Check every household of the batch, then write households, persons and one audit
    entry per household as sets (:func:`yibao.core.bulk.insert_rows`), ids reserved first
    so that each household is inserted with its head.

    Each person is checked and sealed once (:func:`_prepare`: the blind index that finds a
    registered number is the one stored); a number registered already is refused by the
    unique indexes and then looked up (:func:`_refusal`); refusals are raised in the batch's
    order, the first one naming its row."""
    require_village(actor, village, write=True)
    today = clock.today()
    key = current_key()
    numbers = [(h.number or "").strip() or None for h in households]
    prepared = [
        [
            _prepare(member, today, key)
            for member in (
                data.head if data.head.relation_to_head else _with_relation(data.head, "户主"),
                *data.members,
            )
        ]
        for data in households
    ]
    # The numbers are looked up in the database before the insert only when the batch is
    # refused anyway (the first refusal in the batch's order must be raised, whatever its
    # kind); otherwise the unique indexes check them as the rows go in, and the lookup is
    # made if they refuse one (the same refusal, naming the same row).
    if _refusal(actor, numbers, prepared, rows=rows, looked_up=False) is not None:
        refusal = _refusal(actor, numbers, prepared, rows=rows, looked_up=True)
        assert refusal is not None  # looking numbers up adds refusals, it removes none
        raise refusal

    # Ids first, so that each household is inserted with its head already set.
    household_ids, person_ids = reserve_ids(
        (Household, len(prepared)), (Person, sum(len(persons) for persons in prepared))
    )
    now = timezone.now()  # as auto_now_add would stamp them
    household_rows: list[tuple[Any, ...]] = []
    first = 0
    for household_id, data, number, persons in zip(
        household_ids, households, numbers, prepared, strict=True
    ):
        # The head is the household's first person.
        household_rows.append(
            (household_id, village.pk, number, data.address, person_ids[first], now)
        )
        first += len(persons)
    new_ids: dict[str, int] = {}
    members_of: list[list[dict[str, Any]]] = []

    def person_rows() -> Iterator[tuple[Any, ...]]:
        # Each person's row and its household entry's member record are made while the rows
        # before it are being written (PostgreSQL's COPY takes them as they come).
        ids = iter(person_ids)
        for household, persons in zip(household_rows, prepared, strict=True):
            members = []
            for member, checked, fields in persons:
                assert isinstance(checked, CheckedPerson)
                pk = next(ids)
                residence = member.residence_village
                row, member_entry = _person_row(
                    pk,
                    member,
                    checked,
                    fields,
                    household_id=household[0],
                    village_id=village.pk,
                    residence_id=residence.pk if residence is not None else None,
                    now=now,
                )
                new_ids[checked.id_number] = pk
                members.append(member_entry)
                yield row
            members_of.append(members)

    try:
        with transaction.atomic():
            insert_rows(Household, HOUSEHOLD_FIELDS, household_rows)
            insert_rows(Person, PERSON_FIELDS, person_rows())
    except IntegrityError:
        # A number registered already (the check above did not look), or by a concurrent
        # request meanwhile: the refusal of its row, else the first registered number found.
        refusal = _refusal(actor, numbers, prepared, rows=rows, looked_up=True)
        if refusal is None:
            digests = [fields["id_digest"] for persons in prepared for *_, fields in persons]
            refusal = _raced(digests, [n for n in numbers if n], actor)
        if refusal is None:
            raise
        raise refusal from None
    # One entry per household: the business action, with every member it registered.
    audit_bulk(
        [
            audit_entry(
                actor=actor,
                action="household.register",
                model=Household,
                object_id=household[0],
                after={
                    **snapshot_values(
                        Household, dict(zip(HOUSEHOLD_FIELDS, household, strict=True))
                    ),
                    "members": members,
                },
                at=now,
            )
            for household, members in zip(household_rows, members_of, strict=True)
        ]
    )
    _village_people_registered({village.pk: len(person_ids)})
    return _Written(household_rows, new_ids)


def _refusal(
    actor: Any,
    numbers: list[str | None],
    prepared: list[list[_Prepared]],
    *,
    rows: bool,
    looked_up: bool,
) -> ApplicationError | None:
    """The batch's first refusal in its order (a person's fields, a household number or ID
    number taken or twice in the batch), or None; registered numbers are looked up in the
    database only when ``looked_up``."""
    taken_numbers: set[Any] = set()
    registered: dict[str, Person] = {}
    if looked_up:
        taken_numbers = present(Household, "number", (n for n in numbers if n))
        digests = (f["id_digest"] for h in prepared for *_, f in h if f)
        for chunk in _chunks(sorted(present(Person, "id_digest", digests))):
            for person in Person.objects.filter(id_digest__in=chunk).select_related(
                "hukou_village"
            ):
                registered[person.id_digest] = person
    seen_numbers: dict[str, int] = {}
    seen_persons: dict[str, int] = {}
    for row, (number, persons) in enumerate(zip(numbers, prepared, strict=True), start=1):
        try:
            if number is not None and (number in taken_numbers or number in seen_numbers):
                raise _household_exists(number)
            for _, checked, fields in persons:
                if isinstance(checked, ApplicationError):
                    raise checked
                digest = fields["id_digest"]
                if digest in registered:
                    raise _duplicate(registered[digest], actor)
                if digest in seen_persons:
                    raise _duplicate_in_batch(
                        checked.name, checked.id_number, seen_persons[digest], rows=rows
                    )
                seen_persons[digest] = row
        except ApplicationError as error:
            return _in_row(error, row, number) if rows else error
        if number is not None:
            seen_numbers[number] = row
    return None


def _person_row(
    pk: int,
    data: PersonData,
    checked: CheckedPerson,
    stored: dict[str, Any],
    *,
    household_id: int,
    village_id: int,
    residence_id: int | None,
    now: dt.datetime,
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A new person of a household, checked: its row (:data:`PERSON_FIELDS`; ``stored`` holds
    the ID number's columns, made by :func:`~yibao.registry.idcrypto.id_number_fields`, the
    one place a number is sealed) and its record in the household's audit entry.

    The record is the person's :func:`~yibao.core.audit.snapshot` with its id, less what the
    entry states once (the household, the village, and ``status``: whoever is registered is
    alive), made here without the row's dict
    (``test_a_batch_of_households_registers_each_with_its_head_members_and_audit`` compares
    the two)."""
    number, name, phone = checked.id_number, checked.name, checked.phone
    relation, warnings = data.relation_to_head, list(checked.warnings)
    row = (
        pk,
        data.id_type,
        stored["id_cipher"],
        stored["id_digest"],
        stored["id_last6_digest"],
        name,
        name_initials(name),
        checked.sex,
        checked.birth_date,
        phone,
        household_id,
        relation,
        village_id,
        residence_id,
        Person.Status.ALIVE.value,
        None,
        warnings,
        now,
        now,
    )
    member: dict[str, Any] = {
        "id": pk,
        "id_number": mask_id_number(number),
        "id_type": data.id_type,
        "name": name,
        "sex": checked.sex,
        "birth_date": checked.birth_date.isoformat(),
    }
    if phone:
        member["phone"] = phone
    if relation:
        member["relation_to_head"] = relation
    if residence_id is not None:
        member["residence_village_id"] = residence_id
    if warnings:
        member["id_warnings"] = warnings
    return row, member


def _duplicate_in_batch(
    name: str, id_number: str, first_row: int, *, rows: bool
) -> ApplicationError:
    where = f"本批第{first_row}户" if rows else "本户"
    label = f"{name}（{mask_id_number(id_number)}）"
    return ApplicationError(
        "person_exists", f"{label}在{where}中已出现，不能重复登记", person=label
    )


def _raced(digests: list[str], household_numbers: list[str], actor: Any) -> ApplicationError | None:
    for chunk in _chunks(digests):
        existing = (
            Person.objects.filter(id_digest__in=chunk).select_related("hukou_village").first()
        )
        if existing is not None:
            return _duplicate(existing, actor)
    for chunk in _chunks(household_numbers):
        taken = Household.objects.filter(number__in=chunk).values_list("number", flat=True)
        if taken:
            return _household_exists(taken[0])
    return None


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
        checked=data.checked,
        sealed=data.sealed,
    )


@dataclass(frozen=True, slots=True)
class IdentityTagData:
    """One hardship identity of a person, as a department's list or a sheet states it."""

    person_id: int
    category_key: str
    department: str
    category_name: str = ""
    source_list: str = ""
    source_batch: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    certified_on: dt.date | None = None


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

    ``category_key`` is the policy's code or printed name (``101``, ``低保对象``); a category
    that no policy of the person's township knows is refused (``unknown_identity``). Only a
    township or district office marks identities (璧城街道办发〔2022〕36号 五（二）1 gives the
    marking to the township); a village collector is refused (``office_required``). The same
    category from the same batch is returned, not added twice, so re-importing a list is
    harmless.
    """
    require_person(actor, person, write=True)
    require_office(actor, f"为{person.label}添加身份标识")
    data = IdentityTagData(
        person_id=person.pk,
        category_key=(category_key or "").strip(),
        department=(department or "").strip(),
        category_name=category_name,
        source_list=source_list,
        source_batch=source_batch,
        valid_from=valid_from,
        valid_to=valid_to,
        certified_on=certified_on,
    )
    _identity_tag_check(person, data, known=lambda key: identity_category_check(person, key))
    existing = IdentityTag.objects.filter(
        person=person, category_key=data.category_key, source_batch=source_batch
    ).first()
    if existing is not None:
        return existing
    tag = IdentityTag.objects.create(
        person=person,
        category_key=data.category_key,
        category_name=category_name,
        department=data.department,
        source_list=source_list,
        source_batch=source_batch,
        valid_from=valid_from,
        valid_to=valid_to,
        certified_on=certified_on,
    )
    audit_record(actor=actor, action="identity_tag.add", instance=tag, after=snapshot(tag))
    _hardship_refresh([person.pk])
    return tag


TAG_FIELDS = (
    "id",
    "person_id",
    "category_key",
    "category_name",
    "department",
    "source_list",
    "source_batch",
    "valid_from",
    "valid_to",
    "certified_on",
    "created_at",
)


# What the tag batch reads of each person: scope, the policies of its villages, its label.
TAG_PERSON_FIELDS = (
    "id",
    "name",
    "id_cipher",
    "id_digest",
    "hukou_village_id",
    "residence_village_id",
)


@transaction.atomic
def identity_tags_add_many(*, actor: Any, tags: Sequence[IdentityTagData]) -> int:
    """Add many identity tags at once, all or nothing, each checked as
    :func:`identity_tag_add` checks one (the first refusal names the person and nothing is
    written); a tag already there (same person, category and batch, or twice in ``tags``)
    is skipped. Written as one set with one audit entry per tag. Returns the tags added."""
    if not tags:
        return 0
    scope = scope_of(actor)
    scope.require_office("添加身份标识")
    persons: dict[int, Person] = {}
    for chunk in _chunks(sorted({t.person_id for t in tags})):
        persons.update(Person.objects.filter(pk__in=chunk).only(*TAG_PERSON_FIELDS).in_bulk())
    villages = Village.objects.select_related("township__district").in_bulk(
        {v for p in persons.values() for v in (p.hukou_village_id, p.residence_village_id) if v}
    )
    known: dict[tuple[int | None, int | None, str], bool] = {}
    wanted: list[tuple[Person, IdentityTagData]] = []
    for raw in tags:
        data = replace(
            raw,
            category_key=(raw.category_key or "").strip(),
            department=(raw.department or "").strip(),
        )
        person = persons.get(data.person_id)
        if person is None:
            raise not_found(f"编号为{data.person_id}的参保人", person_id=data.person_id)
        scope.require_person(person, write=True)

        def check(key: str, person: Person = person) -> None:
            # One policy lookup per villages and category; a refusal still names the person.
            where = (person.hukou_village_id, person.residence_village_id, key)
            if known.get(where) is not True:
                refusal = identity_category_refusal(
                    key,
                    villages=(villages.get(where[0]), villages.get(where[1])),
                    who=person.label,
                )
                if refusal is not None:
                    raise refusal
                known[where] = True

        _identity_tag_check(person, data, known=check)
        wanted.append((person, data))
    present: set[tuple[int, str, str]] = set()
    for chunk in _chunks(sorted({p.pk for p, _ in wanted})):
        present.update(
            IdentityTag.objects.filter(person_id__in=chunk).values_list(
                "person_id", "category_key", "source_batch"
            )
        )
    new: list[tuple[Person, IdentityTagData]] = []
    for person, data in wanted:
        key = (person.pk, data.category_key, data.source_batch)
        if key not in present:
            present.add(key)
            new.append((person, data))
    (ids,) = reserve_ids((IdentityTag, len(new)))
    now = timezone.now()  # as auto_now_add would stamp them
    rows, entries = [], []
    for pk, (person, data) in zip(ids, new, strict=True):
        values = {
            "id": pk,
            "person_id": person.pk,
            "category_key": data.category_key,
            "category_name": data.category_name,
            "department": data.department,
            "source_list": data.source_list,
            "source_batch": data.source_batch,
            "valid_from": data.valid_from,
            "valid_to": data.valid_to,
            "certified_on": data.certified_on,
            "created_at": now,
        }
        rows.append(tuple(values[name] for name in TAG_FIELDS))
        entries.append(
            audit_entry(
                actor=actor,
                action="identity_tag.add",
                model=IdentityTag,
                object_id=pk,
                after=snapshot_values(IdentityTag, values),
                at=now,
            )
        )
    insert_rows(IdentityTag, TAG_FIELDS, rows)
    audit_bulk(entries)
    _hardship_refresh(person.pk for person, _ in new)
    return len(new)


def _village_people_registered(people: dict[int, int]) -> None:
    """Count newly registered people (village id -> how many) in the villages' should-enroll
    counts. Called last in a write's transaction (after its audit entry), as the death and
    other-insurance paths take a count's row: every path takes the audit chain's lock
    before a count's."""
    from yibao.collection.village_people import village_people_registered  # as below

    village_people_registered(people)


def _hardship_refresh(person_ids: Iterable[int]) -> None:
    """The bulletin's hardship read rows of ``person_ids``, rewritten in this transaction."""
    from yibao.collection.hardship import hardship_tags_refresh  # collection builds on registry

    hardship_tags_refresh(person_ids)


def _identity_tag_check(person: Person, data: IdentityTagData, *, known: Any) -> None:
    """The checks of one tag of ``person`` that need no database write: a category, known
    to a policy of the person's township (``known(key)`` raises), a department, a window in
    order."""
    key = data.category_key
    if not key:
        raise ApplicationError(
            "identity_required", f"{person.label}：未填写身份类别", person=person.label
        )
    known(key)
    if not data.department:
        raise ApplicationError(
            "department_required",
            f"{person.label}：身份“{key}”未填写认定部门",
            person=person.label,
        )
    if data.valid_from and data.valid_to and data.valid_from > data.valid_to:
        raise ApplicationError(
            "invalid_window",
            f"{person.label}：身份“{key}”的有效期起{data.valid_from}晚于有效期止{data.valid_to}",
            person=person.label,
        )


def identity_category_check(person: Person, key: str) -> None:
    """Refuse ``unknown_identity`` unless a policy of the person's township knows ``key``."""
    refusal = identity_category_refusal(
        key, villages=(person.hukou_village, person.residence_village), who=person.label
    )
    if refusal is not None:
        raise refusal


def identity_category_refusal(
    key: str, *, villages: Sequence[Village | None], who: str
) -> ApplicationError | None:
    """Why the category ``key`` cannot tag someone of ``villages`` (household register,
    residence), or ``None``: ``no_policy`` when their township has no shipped policy,
    ``unknown_identity`` when none of its policies knows ``key``. Over plain values, so that
    the tag service, the person importer and the departments' lists check alike, before
    anything is written; ``who`` names the person in the message."""
    engines = {
        engine.id: engine
        for village in villages
        if village is not None
        for engine in policies_for(village.township.district.name, village.township.name)
    }
    if any(engine.data.identity(key) is not None for engine in engines.values()):
        return None
    home = next((v for v in villages if v is not None), None)
    township = home.township.name if home is not None else "本街道（镇）"
    if not engines:
        return ApplicationError(
            "no_policy",
            f"{who}：{township}没有收录的政策文件，无法核对身份类别“{key}”",
            person=who,
            identity=key,
        )
    names = "、".join(f"“{engine.name}”" for engine in engines.values())
    return ApplicationError(
        "unknown_identity",
        f"{who}：{township}的政策（{names}）没有身份类别“{key}”，请使用文件所列代码或名称",
        person=who,
        identity=key,
    )


@transaction.atomic
def identity_tag_end(
    *, actor: Any, tag: IdentityTag, ended_on: dt.date, reason: str
) -> IdentityTag:
    """End an identity tag on ``ended_on`` (its last valid day); township or district office only."""
    person = tag.person
    require_person(actor, person, write=True)
    require_office(actor, f"结束{person.label}的身份标识")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "reason_required", f"{person.label}：结束身份标识须填写原因", person=person.label
        )
    tag = IdentityTag.objects.select_for_update().get(pk=tag.pk)
    if tag.valid_from is not None and ended_on < tag.valid_from:
        raise ApplicationError(
            "invalid_window",
            f"{person.label}：身份“{tag.category_key}”的结束日{ended_on}早于有效期起{tag.valid_from}",
            person=person.label,
        )
    before = snapshot(tag)
    tag.valid_to = ended_on
    tag.save(update_fields=["valid_to"])
    audit_record(
        actor=actor,
        action="identity_tag.end",
        instance=tag,
        before=before,
        after={**snapshot(tag), "reason": reason},
    )
    _hardship_refresh([person.pk])
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
    ended_on: dt.date | None = None,
) -> OtherInsurance:
    """Record that ``person`` is insured elsewhere (employee insurance, another place, student
    insurance at their university); ``ended_on`` is the day employee insurance stopped."""
    # Under the person's lock, as a death is recorded: the villages' should-enroll counts
    # take a person off once (village_people_insured_elsewhere).
    person = Person.objects.select_for_update().get(pk=person.pk)
    require_person(actor, person, write=True)
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
        ended_on=ended_on,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor, action="other_insurance.record", instance=record, after=snapshot(record)
    )
    _hardship_refresh([person.pk])
    from yibao.collection.village_people import village_people_insured_elsewhere  # as above

    village_people_insured_elsewhere(person, benefit_year)  # last, as a registration's
    return record


@transaction.atomic
def person_mark_deceased(
    *, actor: Any, person: Person, died_on: dt.date, evidence: str = ""
) -> Person:
    """Mark ``person`` deceased: unpaid enrollments are flagged, later payments refused."""
    from yibao.collection.models import Enrollment

    person = Person.objects.select_for_update().get(pk=person.pk)
    require_person(actor, person, write=True)
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
    _hardship_refresh([person.pk])
    from yibao.collection.village_people import village_people_died  # as above

    village_people_died(person)  # last, as a registration's
    return person


@transaction.atomic
def person_full_id_number(*, actor: Any, person: Person) -> str:
    """``person``'s full ID number, for one person's card; the read is audited
    (``person.read_id_number``). Refuses ``not_found`` outside the actor's scope and
    ``id_number_forbidden`` for a role that works without it (an auditor)."""
    scope = scope_of(actor)
    scope.require_person(person)
    if not scope.may_read_full_id:
        raise ApplicationError("id_number_forbidden", "该账号无权查看完整证件号码")
    audit_event(
        actor=actor,
        action="person.read_id_number",
        object_type="registry.person",
        object_id=str(person.pk),
        details={"masked_id_number": person.masked_id_number},
    )
    return person.id_number


@transaction.atomic
def person_search_record(*, actor: Any, search: str, found: Iterable[Person]) -> None:
    """Audit a search by a whole ID number (``person.search_id_number``): its answer says
    who holds that number, a read of a full number like :func:`person_full_id_number`. The
    entry keeps the masked number and the ids found (at most 20). Other searches (names,
    the last six digits) are not recorded."""
    number = whole_id_number(search)
    if number is None:
        return
    ids = [person.pk for person in itertools.islice(found, 20)]
    audit_event(
        actor=actor,
        action="person.search_id_number",
        object_type="registry.person",
        object_id=",".join(str(pk) for pk in ids)[:64],
        details={"masked_id_number": mask_id_number(number), "found": ids},
    )


ROTATE_CHUNK = 1000


@transaction.atomic
def field_key_rotate(
    *,
    actor: Any,
    old: FieldKey,
    new: FieldKey,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Re-encrypt every stored ID number (persons and the departments' list entries: every
    :class:`IdNumberAtRest` model) from key ``old`` to key ``new`` and recompute both blind
    indexes, in one transaction (all or nothing); audited (``field_key.rotate``: rows per
    table and where each key came from, never the keys). Returns the rows per table. A
    ciphertext that ``old`` cannot open stops the rotation (``IdNumberUnreadable``):
    nothing is changed, and ``yibao keys check`` names the row."""
    models = id_number_models()
    total = sum(model.objects.count() for model in models)
    rows: dict[str, int] = {}
    done = 0
    for model in models:
        rows[model._meta.label_lower] = 0
        last = 0
        while chunk := list(
            model.objects.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "id_cipher", "id_digest")[:ROTATE_CHUNK]
        ):
            for row in chunk:
                number = id_number_decrypt(row.id_cipher, row.id_digest, key=old)
                for name, value in id_number_fields(number, key=new).items():
                    setattr(row, name, value)
            model.objects.bulk_update(chunk, ["id_cipher", "id_digest", "id_last6_digest"])
            rows[model._meta.label_lower] += len(chunk)
            done += len(chunk)
            last = chunk[-1].pk
            if progress is not None:
                progress(done, total)
    audit_event(
        actor=actor,
        action="field_key.rotate",
        object_type="registry.person",
        details={"rows": rows, "old_key": old.source, "new_key": new.source},
    )
    return rows
