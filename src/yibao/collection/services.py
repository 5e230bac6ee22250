"""Writes to the collection ledger: enrollments, payments, reversals, remittances.

Amounts, the applied identity and coverage dates always come from the policy engine
(``yibao.policy``); nothing here computes money. Every function is keyword-only, takes the
acting user as ``actor``, checks village scope, is atomic and appends to the audit log.

Concurrency: each write first locks the person's row (``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite every transaction begins IMMEDIATE and so holds the write lock). The
unique constraints (one enrollment per person and year, one payment per enrollment slot,
unique receipt number and idempotency key, one reversal per payment) are the last line:
:func:`payment_record` retries once a constraint fires, and the retry returns the first
payment or refuses with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from yibao.core import clock
from yibao.core.access import (
    Scope,
    not_found,
    require_collector,
    require_office,
    require_person,
    scope_of,
)
from yibao.core.audit import audit_bulk, audit_entry, audit_record, changes, snapshot
from yibao.core.bulk import (
    ANALYZE_ROWS,
    analyze,
    analyze_when_grown,
    gc_paused,
    insert_models,
)
from yibao.core.errors import ApplicationError
from yibao.core.grouping import ALONE, Alone, GroupCommit
from yibao.core.prepared import Bound, Prepared, together
from yibao.funds.services import open_day_read, refuse_closed_days
from yibao.policy import (
    IdentityClaim,
    PolicyEngine,
    PolicyError,
    Quote,
    QuoteRefused,
    QuoteRequest,
    get_policy,
    policies_for,
)
from yibao.policy.supplement import apply_supplement, parse_supplement
from yibao.registry.models import District, IdentityTag, OtherInsurance, Person, Village

from .hardship import hardship_tags_refresh
from .models import (
    ContactAttempt,
    Enrollment,
    EnrollmentFact,
    Payment,
    PolicySupplement,
    QuoteRecord,
    Remittance,
    StaffMember,
)
from .selectors import cash_on_hand, live_payments

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
QUERY_CHUNK = 500
BACKDATE_DAYS = 31
"""Default of ``settings.YIBAO_BACKDATE_DAYS``: how many days back an office may enter a payment."""
OFFLINE_AT_VILLAGE = {"cash", "village_pos", "post_office"}
TIER_NAMES = {1: "一档", 2: "二档"}
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PaymentItem:
    """One payment of a batch, with the arguments :func:`payment_record` takes."""

    person: Person | int
    """The person, or their id (the API gives the id: the person is then read once, under
    the group's lock, and checked against the actor's scope there)."""
    policy_id: str
    tier: int
    amount: Decimal | int | str
    channel: str
    paid_at: dt.datetime | None = None
    receipt_number: str | None = None
    idempotency_key: str | None = None
    population: str = Enrollment.Population.RESIDENT
    backdate_reason: str = ""
    taken_by: StaffMember | None = None
    """An office's entry of money a village collector took (a paper receipt from an outage):
    the cash is in that collector's custody. A collector of the payment's village."""


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """The payment, and whether this call recorded it (``False``: a retry got the first one)."""

    payment: Payment
    created: bool


# --- helpers ------------------------------------------------------------------------------


def _money(value: Any, *, what: str) -> Decimal:
    if isinstance(value, float | bool):
        raise TypeError(f"{what}须为 Decimal、int 或字符串，不能是 {type(value).__name__}")
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise ApplicationError("invalid_amount", f"{what}“{value}”不是金额") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ApplicationError("invalid_amount", f"{what}“{value}”不是以分为单位的金额")
    return amount


def _aware(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return clock.now()
    if timezone.is_naive(value):
        raise ValueError("缴费时间须带时区")
    return value


def backdate_days() -> int:
    """How many days back an office may enter a payment (``YIBAO_BACKDATE_DAYS``, default 31)."""
    return int(getattr(settings, "YIBAO_BACKDATE_DAYS", BACKDATE_DAYS))


def _payment_moment(
    value: dt.datetime | None, reason: str, *, now: dt.datetime, office: bool, person: Person
) -> dt.datetime:
    """The moment that prices a payment: the server's, or an office's back-dated entry.

    A client's timestamp on the server's own date is kept as the receipt time (the price is
    the day's). An earlier day is a back-dated entry (a paper receipt from an outage, the tax
    system's list): a township or district office only, with a reason, at most
    :func:`backdate_days` back. A later day is refused.
    """
    if value is None:
        return now
    moment = _aware(value)
    day, today = timezone.localtime(moment).date(), timezone.localtime(now).date()
    if day > today:
        raise ApplicationError(
            "paid_in_future",
            f"{person.label}：缴费日期{day}晚于今天{today}，不能登记",
            person=person.label,
            paid_on=day.isoformat(),
        )
    if day == today:
        return moment
    if not office:
        raise ApplicationError(
            "backdate_office_only",
            f"{person.label}：补录往日（{day}）缴费须由街道社保所或区医保局办理，"
            "村（社区）只能登记当天的缴费",
            person=person.label,
            paid_on=day.isoformat(),
        )
    if not reason.strip():
        raise ApplicationError(
            "backdate_reason_required",
            f"{person.label}：补录{day}的缴费须写明原因（如停电期间的纸质票据、税务系统缴费名单）",
            person=person.label,
            paid_on=day.isoformat(),
        )
    window = backdate_days()
    if (today - day).days > window:
        raise ApplicationError(
            "backdate_too_old",
            f"{person.label}：补录缴费最多追溯{window}天（YIBAO_BACKDATE_DAYS），{day}已超过",
            person=person.label,
            paid_on=day.isoformat(),
            days=window,
        )
    return moment


def policies_for_village(village: Any) -> list[str]:
    """The ids of the shipped policies of ``village``'s own township (or its whole district)."""
    township = village.township
    return [engine.id for engine in policies_for(township.district.name, township.name)]


def _require_own_policy(policy: Any, village: Any, person: Person) -> None:
    """A person enrolls under their own township's policy only."""
    if policy.id in policies_for_village(village):
        return
    where = policy.data.district + (policy.data.township or "")
    raise ApplicationError(
        "policy_not_for_township",
        f"{person.label}在{village.township.name}{village.name}参保，不能按{where}的政策"
        f"“{policy.name}”登记或缴费；须按本街道（镇）的政策办理",
        person=person.label,
        policy=policy.id,
        township=village.township.name,
    )


def _refuse_offline_place(
    policy: Any, *, channel: str, paid_on: dt.date, office: bool, person: Person
) -> None:
    refusal = policy.offline_payment_refusal(
        paid_on=paid_on, channel=channel, at_village=not office
    )
    if refusal is not None:
        raise ApplicationError(
            "offline_place", f"{person.label}：{refusal}", person=person.label, channel=channel
        )


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def _cached_staff(actor: Any, collector_id: int | None) -> StaffMember | None:
    """The actor's own StaffMember when :func:`scope_of` kept it on the actor, else None."""
    if collector_id is None or not hasattr(actor, "_state"):
        return None
    staff = StaffMember.user.field.remote_field.get_cached_value(actor, default=None)
    return staff if staff is not None and staff.pk == collector_id else None


def _lock_person(actor: Any, person: Person) -> Person:
    """Re-read and lock the person's row; the lock serialises writes for one person."""
    locked = (
        Person.objects.select_for_update(of=("self",))
        .select_related("hukou_village")
        .get(pk=person.pk)
    )
    require_person(actor, locked, write=True)
    return locked


def _chunks(values: Sequence[T]) -> list[Sequence[T]]:
    return [values[i : i + QUERY_CHUNK] for i in range(0, len(values), QUERY_CHUNK)]


def _lock_persons(actor: Any, persons: Iterable[Person]) -> tuple[dict[int, Person], Scope]:
    """Re-read and lock the persons' rows (in id order); with ``actor``'s scope."""
    return _locked_persons([person.pk for person in persons]), scope_of(actor)


def _locked_persons(person_ids: Iterable[int]) -> dict[int, Person]:
    """Re-read and lock the rows of ``person_ids`` (in id order: two transactions that lock
    some of the same people cannot wait for each other)."""
    locked: dict[int, Person] = {}
    for chunk in _chunks(sorted(set(person_ids))):
        locked.update((row.pk, row) for row in _PERSONS_LOCKED(chunk))
    return locked


# The queries of every payment, compiled once per process (yibao.core.prepared).
_PERSONS_LOCKED = Prepared(
    lambda ids: (
        Person.objects.select_for_update(of=("self",))
        .select_related(
            "hukou_village__township__district", "residence_village__township__district"
        )
        .filter(pk__in=ids)
        .order_by("pk")
    )
)
_LATEST_SUPPLEMENT = Prepared(
    lambda policy_id: (
        PolicySupplement.objects.filter(policy_id=policy_id)
        .order_by("-version")
        .only("version", "sha256", "text")[:1]
    )
)
_TAGS = Prepared(lambda ids: IdentityTag.objects.filter(person_id__in=ids).order_by("id"))
_FACTS = Prepared(
    lambda ids, year: EnrollmentFact.objects.filter(
        person_id__in=ids, benefit_year=year, ended_at__isnull=True
    ).values_list("person_id", "kind")
)
_QUOTE_RECORDS = Prepared(
    lambda digests: QuoteRecord.objects.filter(digest__in=digests).values_list("digest", "pk")
)
_ENROLLMENTS = Prepared(
    lambda ids, years: Enrollment.objects.filter(
        person_id__in=ids, benefit_year__in=years
    ).select_related("village")
)
_OTHER_INSURANCE = Prepared(
    lambda ids, year: OtherInsurance.objects.filter(
        person_id__in=ids, benefit_year__lte=year
    ).order_by("-pk")
)
_REVERSALS = Prepared(
    lambda ids: (
        Payment.objects.filter(enrollment_id__in=ids, reverses__isnull=False)
        .values("enrollment_id")
        .annotate(n=Count("id"))
        .values_list("enrollment_id", "n")
    )
)
_PAYMENTS_BY = {
    field: Prepared(
        # The collector and their user too: a replay's answer names them.
        lambda values, field=field: Payment.objects.filter(
            **{f"{field}__in": values}
        ).select_related("enrollment__person", "collector__user")
    )
    for field in ("receipt_number", "idempotency_key")
}


_SUPPLEMENTED: dict[tuple[str, int, str], PolicyEngine] = {}


def policy_engine(policy_id: str) -> PolicyEngine:
    """The shipped policy ``policy_id`` with its latest supplement from the database, if any.

    The engine stays pure: the supplement's text is read here and handed to it as data.
    """
    return _supplemented(_shipped_policy(policy_id), _LATEST_SUPPLEMENT(policy_id))


def _shipped_policy(policy_id: str) -> PolicyEngine:
    """The shipped policy (its benefit year is the supplemented one's: a supplement fills
    amounts only); the engine's refusal for an unknown id."""
    try:
        return get_policy(policy_id)
    except PolicyError as error:
        raise ApplicationError(error.code, error.message, **error.params) from None


def _supplemented(engine: PolicyEngine, latest_rows: Sequence[PolicySupplement]) -> PolicyEngine:
    """``engine`` with its latest supplement (``latest_rows``: none or that one), built once
    per version."""
    [latest] = latest_rows or [None]
    if latest is None:
        return engine
    policy_id = engine.id
    key = (policy_id, latest.version, latest.sha256)
    cached = _SUPPLEMENTED.get(key)
    if cached is None:
        data = apply_supplement(engine.data, parse_supplement(latest.text), version=latest.version)
        cached = _SUPPLEMENTED[key] = PolicyEngine(data)
    return cached


def _policy(policy_id: str) -> Any:
    return policy_engine(policy_id)


@transaction.atomic
def policy_supplement_load(
    *, actor: Any, text: str, note: str = "", name: str = "补充文件"
) -> PolicySupplement:
    """Load a supplement for a shipped policy: a district office of the policy's district.

    The supplement is validated exactly as a shipped policy file (every amount adds up, every
    identity is the policy's); each load is a new version, never an edit, and is audited.
    """
    role = require_office(actor, "载入政策补充文件", district_only=True)
    try:
        data = parse_supplement(text, name=name)
        base = get_policy(str(data["policy"]))
    except PolicyError as error:
        raise ApplicationError(error.code, error.message, **error.params) from None
    district_id = scope_of(actor).district_id
    if (
        role != "superuser"
        and not District.objects.filter(pk=district_id, name=base.data.district).exists()
    ):
        raise ApplicationError(
            "district_mismatch",
            f"{base.name}属{base.data.district}，须由{base.data.district}医保局载入其补充文件",
            policy=base.id,
        )
    last = (
        PolicySupplement.objects.select_for_update()
        .filter(policy_id=base.id)
        .order_by("-version")
        .first()
    )
    version = last.version + 1 if last is not None else 1
    try:
        apply_supplement(base.data, data, version=version)
    except PolicyError as error:
        raise ApplicationError(error.code, error.message, **error.params) from None
    record = PolicySupplement.objects.create(
        policy_id=base.id,
        version=version,
        document=str(data["document"]).strip(),
        cite=str(data["cite"]).strip()[:200],
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        note=note.strip()[:200],
        loaded_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="policy_supplement.load",
        instance=record,
        after={
            "policy_id": record.policy_id,
            "version": record.version,
            "document": record.document,
            "cite": record.cite,
            "sha256": record.sha256,
            "note": record.note,
        },
    )
    return record


def identity_claims(person: Person, on: dt.date) -> tuple[IdentityClaim, ...]:
    """The person's identity tags valid on ``on``, as claims for the policy engine."""
    return _claims(IdentityTag.objects.filter(person=person).order_by("id"), on)


def _claims(tags: Iterable[IdentityTag], on: dt.date) -> tuple[IdentityClaim, ...]:
    """Claims from ``tags`` (in id order) valid on ``on``; the first tag of a category counts."""
    claims: dict[str, IdentityClaim] = {}
    for tag in tags:
        if tag.valid_from is not None and tag.valid_from > on:
            continue
        if tag.valid_to is not None and tag.valid_to < on:
            continue
        claims.setdefault(tag.category_key, IdentityClaim(tag.category_key, tag.certified_on))
    return tuple(claims.values())


def _quote(
    *,
    person: Person,
    policy: Any,
    tier: int,
    population: str,
    on: dt.date,
    tags: Iterable[IdentityTag] | None = None,
    history: _History | None = None,
) -> Quote:
    """The engine's quote (cached by the engine); ``tags`` and ``history`` when already
    fetched (else read here)."""
    claims = identity_claims(person, on) if tags is None else _claims(tags, on)
    if history is None:
        history = _histories([person.pk], policy.benefit_year)[person.pk]
    request = QuoteRequest(
        paid_on=on,
        tier=tier,
        identities=claims,
        population=population,
        birth_date=person.birth_date if population == Enrollment.Population.NEWBORN else None,
        employee_insurance_ended_on=history.employee_ended_on,
        continuous_insured_years=history.continuous_years,
        graduating=history.graduating,
        without_missing_subsidy=history.without_missing_subsidy,
    )
    try:
        return policy.quote(request)
    except QuoteRefused as refused:
        raise ApplicationError(
            refused.code,
            f"{person.label}：{refused.message}",
            **{**refused.params, "person": person.label},
        ) from None


def quote_digest(body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _quote_record_ids(quotes: Sequence[Quote]) -> list[int]:
    """The QuoteRecord id of each quote, storing the quotes not stored before: one SELECT
    per batch, and an insert-or-ignore and a second SELECT when a quote is new. Not cached
    across transactions: a restored backup or a test's flush would leave stale ids."""
    bodies = {q: q.to_dict() for q in set(quotes)}
    digests = {q: quote_digest(body) for q, body in bodies.items()}
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(set(digests.values()))):
        found.update(_QUOTE_RECORDS(chunk))
    new = {d: bodies[q] for q, d in digests.items() if d not in found}
    if new:
        QuoteRecord.objects.bulk_create(
            [QuoteRecord(digest=d, body=body) for d, body in sorted(new.items())],
            ignore_conflicts=True,  # stored meanwhile by another transaction: the same row
            batch_size=500,
        )
        for chunk in _chunks(sorted(new)):
            found.update(_QUOTE_RECORDS(chunk))
    return [found[digests[q]] for q in quotes]


def _store_quotes(pairs: Sequence[tuple[Enrollment, Quote]]) -> None:
    """Point each enrollment at the stored record of its quote."""
    ids = _quote_record_ids([quote for _, quote in pairs])
    for (enrollment, _), pk in zip(pairs, ids, strict=True):
        enrollment.quote_record_id = pk


QUOTE_FIELDS = [
    "tier",
    "population",
    "identity_code",
    "identity_name",
    "standard",
    "subsidy",
    "personal",
    "coverage_start",
    "coverage_end",
    "quoted_on",
    "quote_record",
    "updated_at",
]


def _apply_quote(enrollment: Enrollment, quote: Quote) -> None:
    enrollment.tier = quote.tier
    enrollment.population = quote.population
    enrollment.identity_code = (quote.identity.code or "") if quote.identity else ""
    enrollment.identity_name = quote.identity.name if quote.identity else ""
    enrollment.standard = quote.standard
    enrollment.subsidy = quote.subsidy
    enrollment.personal = quote.personal
    enrollment.coverage_start = quote.coverage_start
    enrollment.coverage_end = quote.coverage_end
    enrollment.quoted_on = quote.paid_on
    # The quote's stored record is set by _store_quotes, once per batch.
    enrollment.quote_record_id = None


def _refuse_if_deceased(person: Person) -> None:
    if person.status == Person.Status.DECEASED:
        raise ApplicationError(
            "person_deceased",
            f"{person.label}已于{person.deceased_on}死亡，不能参保或缴费",
            person=person.label,
            deceased_on=person.deceased_on.isoformat() if person.deceased_on else None,
        )


def _refuse_if_insured_elsewhere(person: Person, benefit_year: int, on: dt.date) -> None:
    other = (
        OtherInsurance.objects.filter(person=person, benefit_year=benefit_year)
        .order_by("-pk")
        .first()
    )
    _refuse_if_other(person, benefit_year, other, on)


SCOPE_CITE = "参保范围：潼医保发〔2022〕36号 二、璧城街道办发〔2022〕36号 三、隘口府发〔2022〕50号 二、万州高峰办发〔2023〕35号 二"


def _refuse_if_other(
    person: Person, benefit_year: int, other: OtherInsurance | None, on: dt.date
) -> None:
    """Refuse a person insured elsewhere that year; employee insurance that stopped on or
    before ``on`` no longer stands in the way (the person joins resident insurance)."""
    if other is None:
        return
    where = f"（{other.place}）" if other.place else ""
    if other.kind == OtherInsurance.Kind.EMPLOYEE:
        if other.ended_on is not None and other.ended_on <= on:
            return
        raise ApplicationError(
            "employee_insured",
            f"{person.label}已参加{benefit_year}年度职工基本医疗保险{where}，不能重复参加居民医保"
            f"（{SCOPE_CITE}：未参加城镇职工医疗保险的城乡居民）",
            person=person.label,
            benefit_year=benefit_year,
        )
    if other.kind == OtherInsurance.Kind.STUDENT:
        raise ApplicationError(
            "student_insured",
            f"{person.label}已在校参加{benefit_year}年度大学生医保{where}，不再重复参保"
            "（万州高峰办发〔2023〕35号 二）",
            person=person.label,
            benefit_year=benefit_year,
        )
    raise ApplicationError(
        "insured_elsewhere",
        f"{person.label}已在外地参加{benefit_year}年度居民医保{where}，不能重复参保",
        person=person.label,
        benefit_year=benefit_year,
    )


@dataclass(frozen=True, slots=True)
class _History:
    """What the engine needs from a person's records: when employee insurance stopped and
    how many consecutive years before this one they were insured."""

    employee_ended_on: dt.date | None = None
    continuous_years: int = 0
    graduating: bool = False
    without_missing_subsidy: bool = False


def _histories(
    person_ids: Sequence[int],
    year: int,
    *,
    others: Sequence[OtherInsurance] | None = None,
    facts_read: Sequence[tuple[int, str]] | None = None,
) -> dict[int, _History]:
    """Each person's :class:`_History` before benefit ``year``: from other-insurance records
    (``others`` when already read), only for people whose employee insurance stopped the
    enrollments they paid in earlier years, and the year's facts an office recorded
    (:class:`EnrollmentFact`: graduating, enrolling without a missing document's subsidy;
    ``facts_read``, (person id, kind) pairs of the year, when already read)."""
    if others is None:
        others = [
            other
            for chunk in _chunks(person_ids)
            for other in OtherInsurance.objects.filter(person_id__in=chunk, benefit_year__lte=year)
        ]
    years: dict[int, set[int]] = {pk: set() for pk in person_ids}
    ended: dict[int, dt.date] = {}
    for other in others:
        if other.person_id not in years or other.benefit_year > year:
            continue
        if other.benefit_year < year:
            years[other.person_id].add(other.benefit_year)
        stopped = other.ended_on
        if other.kind == OtherInsurance.Kind.EMPLOYEE and stopped is not None:
            if other.person_id not in ended or stopped > ended[other.person_id]:
                ended[other.person_id] = stopped
    # Continuous years matter only with a stop date (the no-waiting rule for people leaving
    # employee insurance): read enrollment history for those people alone.
    stopped_ids = sorted(ended)
    for chunk in _chunks(stopped_ids):
        for pk, insured in Enrollment.objects.filter(
            person_id__in=chunk, benefit_year__lt=year, status=Enrollment.Status.PAID
        ).values_list("person_id", "benefit_year"):
            years[pk].add(insured)
    facts: dict[int, set[str]] = {pk: set() for pk in person_ids}
    if facts_read is None:
        facts_read = [pair for chunk in _chunks(person_ids) for pair in _FACTS(chunk, year)]
    for pk, kind in facts_read:
        if pk in facts:
            facts[pk].add(kind)
    result: dict[int, _History] = {}
    for pk in person_ids:
        count, back = 0, year - 1
        while back in years[pk]:
            count, back = count + 1, back - 1
        result[pk] = _History(
            employee_ended_on=ended.get(pk),
            continuous_years=count,
            graduating=EnrollmentFact.Kind.GRADUATING in facts[pk],
            without_missing_subsidy=EnrollmentFact.Kind.WITHOUT_SUBSIDY in facts[pk],
        )
    return result


def _already_enrolled(person: Person, existing: Enrollment, scope: Scope) -> ApplicationError:
    # Enrolled in a village the actor cannot see: say so without naming it.
    village = existing.village.name if existing.village_id in scope else "其他村（社区）"
    return ApplicationError(
        "already_enrolled",
        f"{person.label}已在{village}登记{existing.benefit_year}年度参保，不能重复参保",
        person=person.label,
        village=village,
        benefit_year=existing.benefit_year,
    )


def _new_enrollment(
    *,
    actor: Any,
    person: Person,
    policy: Any,
    tier: int,
    population: str,
    on: dt.date,
    scope: Scope,
) -> Enrollment:
    """Checks and inserts an enrollment; the person's row is already locked and ``scope``
    holds which of their villages the actor may act in."""
    _refuse_if_deceased(person)
    _refuse_if_insured_elsewhere(person, policy.benefit_year, on)
    existing = (
        Enrollment.objects.filter(person=person, benefit_year=policy.benefit_year)
        .select_related("village")
        .first()
    )
    if existing is not None:
        raise _already_enrolled(person, existing, scope)
    village = _enrollment_village(person, scope)
    _require_own_policy(policy, village, person)
    quote = _quote(person=person, policy=policy, tier=tier, population=population, on=on)
    enrollment = Enrollment(
        person=person,
        village=village,
        benefit_year=policy.benefit_year,
        policy_id=policy.id,
    )
    _apply_quote(enrollment, quote)
    _store_quotes([(enrollment, quote)])
    try:
        with transaction.atomic():
            enrollment.save(force_insert=True)
    except IntegrityError:
        # The unique (person, benefit_year) constraint: enrolled meanwhile by someone else.
        existing = Enrollment.objects.select_related("village").get(
            person=person, benefit_year=policy.benefit_year
        )
        raise _already_enrolled(person, existing, scope) from None
    audit_record(
        actor=actor, action="enrollment.create", instance=enrollment, after=snapshot(enrollment)
    )
    return enrollment


def _enrollment_village(person: Person, scope: Scope) -> Any:
    """The household-register village, or the residence village when only that is in scope."""
    if person.hukou_village_id not in scope and person.residence_village_id is not None:
        return person.residence_village
    return person.hukou_village


def _effective_payment(enrollment: Enrollment) -> Payment | None:
    """The payment that currently settles ``enrollment`` (its live payment), if any."""
    return live_payments().filter(enrollment=enrollment).order_by("-id").first()


def _already_paid(
    person: Person, enrollment: Enrollment, paid: Payment | None = None
) -> ApplicationError:
    paid = paid or _effective_payment(enrollment)
    detail = ""
    if paid is not None:
        when = timezone.localtime(paid.paid_at).strftime("%Y-%m-%d %H:%M")
        detail = f"（{paid.get_channel_display()} {paid.amount}元，{when}）"
    return ApplicationError(
        "already_paid",
        f"{person.label}已缴纳{enrollment.benefit_year}年度居民医保{detail}，不能重复缴费",
        person=person.label,
        benefit_year=enrollment.benefit_year,
    )


# --- enrollment ---------------------------------------------------------------------------


@transaction.atomic
def enrollment_create(
    *,
    actor: Any,
    person: Person,
    policy_id: str,
    tier: int,
    population: str = Enrollment.Population.RESIDENT,
) -> Enrollment:
    """Enroll ``person`` for the policy's benefit year at ``tier``.

    The amounts, applied identity and coverage are the policy engine's quote on the campaign
    date; :func:`payment_record` quotes again on the payment date and freezes the result.
    Refuses ``already_enrolled`` (in any village), ``person_deceased``, ``employee_insured``,
    ``insured_elsewhere``, ``not_found`` (outside the scope) and every refusal of the policy engine (for
    example ``tier_not_applicable``) under the engine's code.
    """
    persons, scope = _lock_persons(actor, [person])
    person = persons[person.pk]
    scope.require_person(person, write=True)
    policy = _policy(policy_id)
    return _new_enrollment(
        actor=actor,
        person=person,
        policy=policy,
        tier=tier,
        population=population,
        on=clock.today(),
        scope=scope,
    )


@transaction.atomic
def enrollment_change_tier(*, actor: Any, enrollment: Enrollment, tier: int) -> Enrollment:
    """Move an unpaid enrollment to another tier, re-quoted on the campaign date."""
    person = _lock_person(actor, enrollment.person)
    enrollment = Enrollment.objects.select_related("village").get(pk=enrollment.pk)
    _refuse_if_deceased(person)
    if enrollment.status == Enrollment.Status.PAID:
        raise ApplicationError(
            "enrollment_paid",
            f"{person.label}已缴费，不能再变更档次；如需变更，请先冲正缴费",
            person=person.label,
        )
    if enrollment.tier == tier:
        return enrollment
    before = snapshot(enrollment)
    quote = _quote(
        person=person,
        policy=_policy(enrollment.policy_id),
        tier=tier,
        population=enrollment.population,
        on=clock.today(),
    )
    _apply_quote(enrollment, quote)
    _store_quotes([(enrollment, quote)])
    enrollment.save(update_fields=QUOTE_FIELDS)
    audit_record(
        actor=actor,
        action="enrollment.change_tier",
        instance=enrollment,
        before=before,
        after=snapshot(enrollment),
    )
    return enrollment


# --- payment ------------------------------------------------------------------------------


def payment_record(
    *,
    actor: Any,
    person: Person,
    policy_id: str,
    tier: int,
    amount: Decimal | int | str,
    channel: str,
    paid_at: dt.datetime | None = None,
    receipt_number: str | None = None,
    idempotency_key: str | None = None,
    population: str = Enrollment.Population.RESIDENT,
    backdate_reason: str = "",
    taken_by: StaffMember | None = None,
) -> Payment:
    """Record what ``person`` paid for the policy's benefit year, enrolling them if needed.

    Enrollment and payment are one transaction: money is never recorded for a person who is
    not enrolled. The amount must equal the personal amount the policy engine quotes for the
    payment date (``amount_mismatch`` otherwise); a fully subsidised person is recorded as a
    zero declaration (amount 0). A ``receipt_number`` or ``idempotency_key`` already used for
    this person returns the first payment instead of a second one (``receipt_conflict`` if it
    was used for someone else or another amount). Refuses ``already_paid``,
    ``person_deceased``, ``employee_insured``, ``not_found`` (outside the scope), and the engine's refusals
    (``after_last_payment_day``, ``tier_not_applicable``, ...).

    The server's date prices the payment: ``paid_at`` may only give the time of a payment
    made today. An earlier day is a back-dated entry (``backdate_reason`` required, township
    or district office only, at most :func:`backdate_days` back); a later day is refused.
    An office entering money a village collector took names them in ``taken_by`` (a collector
    of the payment's village; ``taken_by_office_only``, ``collector_not_of_village``): the
    payment is in that collector's cash custody, and the audit names both.

    Not wrapped in one ``transaction.atomic`` on purpose: each attempt is atomic, and an
    attempt that loses a race on a unique constraint (or, on SQLite, times out waiting for
    the write lock) is retried, when the retry finds the first payment.
    """
    return payment_submit(
        actor=actor,
        person=person,
        policy_id=policy_id,
        tier=tier,
        amount=amount,
        channel=channel,
        paid_at=paid_at,
        receipt_number=receipt_number,
        idempotency_key=idempotency_key,
        population=population,
        backdate_reason=backdate_reason,
        taken_by=taken_by,
    ).payment


def payment_submit(
    *,
    actor: Any,
    person: Person | int,
    policy_id: str,
    tier: int,
    amount: Decimal | int | str,
    channel: str,
    paid_at: dt.datetime | None = None,
    receipt_number: str | None = None,
    idempotency_key: str | None = None,
    population: str = Enrollment.Population.RESIDENT,
    backdate_reason: str = "",
    taken_by: StaffMember | None = None,
) -> PaymentResult:
    """:func:`payment_record`, telling whether this call recorded the payment. ``person`` may
    be an id (the API's): the person is then read only under the payment's lock, and one
    outside the actor's scope is refused there as not found, as the API's lookup would.

    ``created`` is ``False`` when the receipt number or idempotency key was already used for
    the same person and amount, and the result is that first payment (a replayed retry).
    """
    item = PaymentItem(
        person=person,
        policy_id=policy_id,
        tier=tier,
        amount=amount,
        channel=channel,
        paid_at=paid_at,
        receipt_number=receipt_number,
        idempotency_key=idempotency_key,
        population=population,
        backdate_reason=backdate_reason,
        taken_by=taken_by,
    )
    if connection.in_atomic_block:  # inside the caller's transaction: written there
        return _payment_alone(actor, item)
    result = _PAYMENT_GROUPS.submit((actor, item))
    return _payment_alone(actor, item) if result is ALONE else result


def _payment_alone(actor: Any, item: PaymentItem) -> PaymentResult:
    """One payment in its own transaction (retried as :func:`_with_retries` says)."""
    outcome = _with_retries(lambda: _payments_record(requests=[(actor, item)], batch=False))[0]
    if isinstance(outcome, ApplicationError):
        raise outcome
    return outcome


def _payments_grouped(
    requests: list[tuple[Any, PaymentItem]],
) -> Sequence[PaymentResult | BaseException | Alone]:
    """Write the payments that threads of this process asked for at the same moment
    (:class:`yibao.core.grouping.GroupCommit`) in one transaction, each answered as if it
    had come alone: a refusal goes to its own request, and nothing is written for it.

    When the group as a whole fails (a unique constraint caught a race, SQLite's lock timed
    out, anything unforeseen), each request is written again by itself, in its own thread."""
    if len(requests) == 1:
        try:
            return [_payment_alone(*requests[0])]
        except Exception as error:  # raised in the thread that asked
            return [error]
    try:
        return _payments_record(requests=requests, batch=False)
    except Exception:
        logger.info(
            "payments: a group of %s failed, each written alone", len(requests), exc_info=True
        )
        return [ALONE] * len(requests)


_PAYMENT_GROUPS: GroupCommit[tuple[Any, PaymentItem], PaymentResult] = GroupCommit(
    _payments_grouped
)


def payment_record_many(*, actor: Any, items: Sequence[PaymentItem]) -> list[Payment]:
    """Record many payments at once, all or nothing, each checked as :func:`payment_record`
    checks one.

    The result lists one payment per item, in order; an item whose receipt number or
    idempotency key was already used (before or earlier in the batch) for the same person
    and amount gets that first payment. The first refusal names its row (``row``, counted
    from 1) and the person, and nothing of the batch is written. A person paid by an earlier
    row of the same batch is ``already_paid``.
    """
    with gc_paused():
        results = _with_retries(
            lambda: _payments_record(requests=[(actor, item) for item in items], batch=True)
        )
    return [result.payment for result in results if isinstance(result, PaymentResult)]


def _with_retries(attempt_once: Callable[[], T]) -> T:
    """Run one atomic attempt; retry when it lost a race on a unique constraint or, on
    SQLite outside a transaction, timed out waiting for the write lock."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt_once()
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
            logger.info("payment_record: unique constraint raced, retrying (%s)", attempt)
        except OperationalError as error:
            if "locked" not in str(error) or connection.in_atomic_block or attempt == MAX_ATTEMPTS:
                raise
            logger.info("payment_record: database locked, retrying (%s)", attempt)
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


@dataclass(slots=True)
class _Pending:
    """One item of a batch on its way to the database."""

    row: int
    actor: Any
    person: Person
    enrollment: Enrollment
    new_enrollment: bool
    quote: Quote
    payment: Payment
    before: dict[str, Any] | None = None
    backdate_reason: str = ""
    taken_by: StaffMember | None = None


@dataclass(frozen=True, slots=True)
class _Checked:
    """An item's arguments after the checks that need no database."""

    person_id: int
    amount: Decimal
    paid_at: dt.datetime
    receipt_number: str | None
    idempotency_key: str | None


def _in_row(error: ApplicationError, row: int) -> ApplicationError:
    return ApplicationError(
        error.code, f"第{row}行：{error.message}", **{**error.params, "row": row}
    )


def _replays(
    payment: Payment, enrollment: Enrollment, payer: Person, item: PaymentItem, check: _Checked
) -> bool:
    """Whether ``item`` repeats the request that recorded ``payment``: the same person and
    amount under the same receipt number; under the same idempotency key, the same request
    in every field it gave (a key names one request, not one person)."""
    if payer.pk != check.person_id or payment.amount != check.amount:
        return False
    if not check.idempotency_key or payment.idempotency_key != check.idempotency_key:
        return True
    return (
        payment.channel == item.channel
        and enrollment.policy_id == item.policy_id
        and enrollment.tier == item.tier
        and enrollment.population == item.population
        and payment.receipt_number == check.receipt_number
        and (item.paid_at is None or payment.paid_at == check.paid_at)
    )


def _reused(
    scope: Scope, person: Person, check: _Checked, payment: Payment, other: Person
) -> ApplicationError:
    """The refusal for a receipt number or idempotency key already used for another request;
    it names the other person only when the actor may see them."""
    if check.idempotency_key and payment.idempotency_key == check.idempotency_key:
        return ApplicationError(
            "idempotency_key_reused",
            f"{person.label}：请求号（Idempotency-Key）{check.idempotency_key}"
            "已用于另一笔内容不同的缴费请求，不能重复使用；新的缴费请换用新的请求号",
            person=person.label,
            idempotency_key=check.idempotency_key,
        )
    used = check.receipt_number
    if not scope.sees_person(other):
        return ApplicationError(
            "receipt_conflict",
            f"{person.label}：票据号{used}已被另一笔缴费使用，不能重复使用",
            person=person.label,
            receipt_number=used,
        )
    return ApplicationError(
        "receipt_conflict",
        f"{person.label}：票据号{used}已用于{other.label}的{payment.amount}元缴费，"
        "不能再用于另一笔缴费",
        person=person.label,
        other_person=other.label,
        receipt_number=used,
    )


def _previous_payments_reads(
    receipt_numbers: Iterable[str | None], idempotency_keys: Iterable[str | None]
) -> dict[str, list[Bound]]:
    """The queries for the payments already recorded under the batch's receipt numbers and
    idempotency keys (:func:`_previous_payments` takes their results)."""
    return {
        field: [
            _PAYMENTS_BY[field].bind(chunk) for chunk in _chunks(sorted(set(filter(None, values))))
        ]
        for field, values in (
            ("receipt_number", receipt_numbers),
            ("idempotency_key", idempotency_keys),
        )
    }


def _person_id(item: PaymentItem) -> int:
    return item.person if isinstance(item.person, int) else item.person.pk


def _previous_payments(read: dict[str, list[Payment]]) -> dict[tuple[str, str], Payment]:
    found: dict[tuple[str, str], Payment] = {}
    for field in ("receipt_number", "idempotency_key"):
        for payment in read[field]:
            found[(field, getattr(payment, field))] = payment
    return found


@dataclass(frozen=True, slots=True)
class _Actor:
    """What the checks need of one actor: their scope, whether they are an office, the
    collector they record as and the user the entry names."""

    scope: Scope
    office: bool
    collector_id: int | None
    staff: StaffMember | None
    user: Any

    @classmethod
    def of(cls, actor: Any) -> _Actor:
        # The actor's scope (computed once and cached on the actor) knows their role and
        # profile.
        scope = scope_of(actor)
        return cls(
            scope=scope,
            office=scope.role
            in ("superuser", StaffMember.Role.TOWNSHIP, StaffMember.Role.DISTRICT),
            collector_id=scope.collector_id,
            staff=_cached_staff(actor, scope.collector_id),
            user=_user(actor),
        )


Outcome = PaymentResult | ApplicationError


@transaction.atomic
def _payments_record(*, requests: Sequence[tuple[Any, PaymentItem]], batch: bool) -> list[Outcome]:
    """One attempt at recording ``requests`` (``(actor, item)`` pairs) in one transaction:
    every check per row first, then bulk writes.

    ``batch``: all or nothing, the first refusal raised naming its row. Otherwise each
    request is answered alone, as if it had come by itself: a refused request's outcome is
    its refusal, and nothing is written for it.
    """
    refusals: dict[int, ApplicationError] = {}

    def refuse(error: ApplicationError, row: int) -> None:
        if batch:
            raise _in_row(error, row) from None
        refusals[row] = error

    now = clock.now()
    actors: dict[int, _Actor] = {}
    for actor, _ in requests:
        if id(actor) not in actors:
            actors[id(actor)] = _Actor.of(actor)
    if not requests:
        return []
    # What the reads need of each row; every check is made row by row once the person is
    # read (locked), the scope's first.
    wanted = {row: _person_id(item) for row, (_, item) in enumerate(requests, start=1)}
    receipts = {
        row: (item.receipt_number or "").strip() or None
        for row, (_, item) in enumerate(requests, start=1)
    }
    idempotency_keys = {
        row: (item.idempotency_key or "").strip() or None
        for row, (_, item) in enumerate(requests, start=1)
    }

    shipped: dict[str, PolicyEngine | None] = {}
    for _, item in requests:
        if item.policy_id not in shipped:
            try:
                shipped[item.policy_id] = _shipped_policy(item.policy_id)
            except ApplicationError:
                shipped[item.policy_id] = None  # refused below, in the row that names it
    years = sorted({policy.benefit_year for policy in shipped.values() if policy is not None})
    chunks = _chunks(sorted(set(wanted.values())))
    # The collector and day each payment will be recorded under, as the loop below sets them
    # (a guess that misses only costs the query it saves).
    days: set[tuple[int, dt.date]] = set()
    for actor, item in requests:
        collector_id = (
            item.taken_by.pk if item.taken_by is not None else actors[id(actor)].collector_id
        )
        if collector_id is not None and (
            item.paid_at is None or not timezone.is_naive(item.paid_at)
        ):
            days.add((collector_id, timezone.localtime(item.paid_at or now).date()))
    open_days = sorted(days)
    # Every read of the checks at once (one round trip on PostgreSQL).
    read = together(
        {
            "persons": [_PERSONS_LOCKED.bind(chunk) for chunk in chunks],
            **_previous_payments_reads(receipts.values(), idempotency_keys.values()),
            **{
                f"supplement {policy_id}": [_LATEST_SUPPLEMENT.bind(policy_id)]
                for policy_id, policy in shipped.items()
                if policy is not None
            },
            "enrollments": [_ENROLLMENTS.bind(chunk, years) for chunk in chunks],
            "others": [_OTHER_INSURANCE.bind(chunk, max(years, default=0)) for chunk in chunks],
            "tags": [_TAGS.bind(chunk) for chunk in chunks],
            **{f"facts {year}": [_FACTS.bind(chunk, year) for chunk in chunks] for year in years},
            **{f"closed {key}": [open_day_read(*key)] for key in open_days},
        }
    )
    persons: dict[int, Person] = {row.pk: row for row in read["persons"]}
    previous = _previous_payments(read)
    policies: dict[str, Any] = {
        policy_id: None
        if policy is None
        else _supplemented(policy, read[f"supplement {policy_id}"])
        for policy_id, policy in shipped.items()
    }
    person_ids = sorted(persons)
    enrollments: dict[tuple[int, int], Enrollment] = {}
    others: dict[tuple[int, int], OtherInsurance] = {}
    earlier: list[OtherInsurance] = []
    for enrollment in read["enrollments"]:
        enrollments[(enrollment.person_id, enrollment.benefit_year)] = enrollment
    for other in read["others"]:
        earlier.append(other)
        if other.benefit_year in years:
            others[(other.person_id, other.benefit_year)] = other  # the first one wins
    tags: dict[int, list[IdentityTag]] = {pk: [] for pk in person_ids}
    for tag in read["tags"]:
        if tag.person_id in tags:
            tags[tag.person_id].append(tag)
    histories = {
        (pk, year): history
        for year in years
        for pk, history in _histories(
            person_ids, year, others=earlier, facts_read=read[f"facts {year}"]
        ).items()
    }
    reversals: dict[int, int] = {}
    unpaid = [e.pk for e in enrollments.values() if e.status != Enrollment.Status.PAID]
    for chunk in _chunks(unpaid):
        reversals.update(_REVERSALS(chunk))
    takers = _collector_villages(
        [item.taken_by for _, item in requests if item.taken_by is not None]
    )
    closed_days: dict[tuple[int | None, dt.date], ApplicationError | None] = {
        key: None for key in open_days if not read[f"closed {key}"]
    }

    # Each row's outcome: a payment recorded before (replayed), or one this batch writes;
    # ``created`` is False for a replay, also of an earlier row of the batch.
    results: dict[int, tuple[Payment | _Pending, bool]] = {}
    by_key: dict[tuple[str, str], _Pending] = {}
    paid_here: dict[tuple[int, int], _Pending] = {}
    for row, (actor, item) in enumerate(requests, start=1):
        who = actors[id(actor)]
        try:
            person = persons.get(wanted[row])
            if person is None:
                raise not_found(f"编号为{wanted[row]}的参保人", person_id=wanted[row])
            who.scope.require_person(person, write=True)
            check = _Checked(
                person_id=person.pk,
                amount=_money(item.amount, what="缴费金额"),
                paid_at=_payment_moment(
                    item.paid_at, item.backdate_reason, now=now, office=who.office, person=person
                ),
                receipt_number=receipts[row],
                idempotency_key=idempotency_keys[row],
            )
            if item.taken_by is not None and not who.office:
                raise ApplicationError(
                    "taken_by_office_only",
                    f"{person.label}：代征收员补录其收取的缴费须由街道社保所或区医保局办理",
                    person=person.label,
                )
            keys = [
                (field, value)
                for field, value in (
                    ("receipt_number", check.receipt_number),
                    ("idempotency_key", check.idempotency_key),
                )
                if value
            ]
            first = min(
                (previous[key] for key in keys if key in previous),
                key=lambda payment: payment.pk,
                default=None,
            )
            if first is not None:
                if _replays(first, first.enrollment, first.enrollment.person, item, check):
                    results[row] = (first, False)
                    continue
                raise _reused(who.scope, person, check, first, first.enrollment.person)
            same = next((by_key[key] for key in keys if key in by_key), None)
            if same is not None:
                if _replays(same.payment, same.enrollment, same.person, item, check):
                    results[row] = (same, False)
                    continue
                raise _reused(who.scope, person, check, same.payment, same.person)
            pending = _payment_checked(
                actor=actor,
                row=row,
                item=item,
                check=check,
                person=person,
                policy=policies[item.policy_id],
                enrollments=enrollments,
                others=others,
                tags=tags[person.pk],
                histories=histories,
                scope=who.scope,
                paid_here=paid_here,
                office=who.office,
            )
            if not pending.new_enrollment:
                pending.payment.slot = reversals.get(pending.enrollment.pk, 0)
            if who.staff is not None:
                pending.payment.collector = who.staff
            else:
                pending.payment.collector_id = who.collector_id
            if item.taken_by is not None:
                _require_taker(item.taken_by, takers, pending.enrollment, person)
                pending.payment.collector_id = item.taken_by.pk
                pending.taken_by = item.taken_by
            _refuse_closed_day(pending.payment, closed_days)
        except ApplicationError as error:
            refuse(error, row)
            continue
        pending.payment.recorded_by = who.user
        paid_here[(person.pk, pending.enrollment.benefit_year)] = pending
        for key in keys:
            by_key[key] = pending
        results[row] = (pending, True)

    _write_payments(
        pendings=[r for r, created in results.values() if isinstance(r, _Pending) and created],
        tagged={pk for pk, found in tags.items() if found},
    )
    outcomes: list[Outcome] = []
    for row in range(1, len(requests) + 1):
        if row in refusals:
            outcomes.append(refusals[row])
        else:
            result, created = results[row]
            payment = result.payment if isinstance(result, _Pending) else result
            outcomes.append(PaymentResult(payment, created=created))
    return outcomes


def _refuse_closed_day(
    payment: Payment, closed: dict[tuple[int | None, dt.date], ApplicationError | None]
) -> None:
    """:func:`refuse_closed_days` for one payment, asked once per collector and day."""
    key = (payment.collector_id, timezone.localtime(payment.paid_at).date())
    if key not in closed:
        try:
            refuse_closed_days([(payment.collector_id, payment.paid_at)], what="缴费")
            closed[key] = None
        except ApplicationError as error:
            closed[key] = error
    refusal = closed[key]
    if refusal is not None:
        raise refusal


def _payment_checked(
    *,
    actor: Any,
    row: int,
    item: PaymentItem,
    check: _Checked,
    person: Person,
    policy: Any,
    enrollments: dict[tuple[int, int], Enrollment],
    others: dict[tuple[int, int], OtherInsurance],
    tags: list[IdentityTag],
    histories: dict[tuple[int, int], _History],
    scope: Scope,
    paid_here: dict[tuple[int, int], _Pending],
    office: bool,
) -> _Pending:
    """Every rule of :func:`payment_record` for one item, against what the batch read."""
    if item.channel not in Payment.Channel.values:
        raise ApplicationError(
            "invalid_channel",
            f"{person.label}：未知的缴费渠道“{item.channel}”",
            channel=item.channel,
        )
    if policy is None:
        policy = _policy(item.policy_id)  # raises the engine's refusal
    year = policy.benefit_year
    paid_on = timezone.localtime(check.paid_at).date()
    _refuse_if_deceased(person)
    if (person.pk, year) in paid_here:
        raise _already_paid(
            person, paid_here[(person.pk, year)].enrollment, paid_here[(person.pk, year)].payment
        )
    enrollment = enrollments.get((person.pk, year))
    other = others.get((person.pk, year))
    if enrollment is None:
        _refuse_if_other(person, year, other, paid_on)
    elif enrollment.status == Enrollment.Status.PAID:
        raise _already_paid(person, enrollment)
    elif enrollment.policy_id != policy.id:
        raise ApplicationError(
            "policy_mismatch",
            f"{person.label}的{enrollment.benefit_year}年度参保登记按“{enrollment.policy_id}”办理，"
            f"不能按“{policy.id}”缴费",
            person=person.label,
        )
    else:
        _refuse_if_other(person, year, other, paid_on)
    # Money a village collector took was taken at the village, whoever enters it.
    _refuse_offline_place(
        policy,
        channel=item.channel,
        paid_on=paid_on,
        office=office and item.taken_by is None,
        person=person,
    )
    quote = _quote(
        person=person,
        policy=policy,
        tier=item.tier,
        population=item.population,
        on=paid_on,
        tags=tags,
        history=histories.get((person.pk, year)),
    )
    new_enrollment = enrollment is None
    if enrollment is None:
        village = _enrollment_village(person, scope)
        _require_own_policy(policy, village, person)
        enrollment = Enrollment(
            person=person,
            village=village,
            benefit_year=year,
            policy_id=policy.id,
        )
        _apply_quote(enrollment, quote)
    if check.amount != quote.personal:
        identity = f"，{quote.identity.name}" if quote.identity else ""
        raise ApplicationError(
            "amount_mismatch",
            f"{person.label}{paid_on}应缴{TIER_NAMES.get(item.tier, item.tier)}个人缴费"
            f"{quote.personal}元{identity}，实收{check.amount}元，金额不符",
            person=person.label,
            due=str(quote.personal),
            amount=str(check.amount),
        )
    payment = Payment(
        enrollment=enrollment if not new_enrollment else None,
        amount=check.amount,
        channel=item.channel,
        receipt_number=check.receipt_number,
        idempotency_key=check.idempotency_key,
        paid_at=check.paid_at,
        slot=0,
    )
    return _Pending(
        row=row,
        actor=actor,
        person=person,
        enrollment=enrollment,
        new_enrollment=new_enrollment,
        quote=quote,
        payment=payment,
        backdate_reason=item.backdate_reason.strip() if paid_on < clock.today() else "",
    )


def _collector_villages(collectors: Sequence[StaffMember]) -> dict[int, set[int]]:
    """The villages of each collector named in ``taken_by`` (one query for the batch)."""
    ids = sorted({c.pk for c in collectors})
    villages: dict[int, set[int]] = {pk: set() for pk in ids}
    if ids:
        for pk, village_id in Village.objects.filter(collectors__in=ids).values_list(
            "collectors", "pk"
        ):
            villages[pk].add(village_id)
    return villages


def _require_taker(
    taker: StaffMember, villages: dict[int, set[int]], enrollment: Enrollment, person: Person
) -> None:
    """The collector an office names as having taken the money works in its village."""
    if taker.role == StaffMember.Role.COLLECTOR and enrollment.village_id in villages[taker.pk]:
        return
    raise ApplicationError(
        "collector_not_of_village",
        f"{person.label}：{taker}不是{enrollment.village.name}的征收员，"
        "不能记为其收取的缴费（现金归属须为本村（社区）征收员）",
        person=person.label,
    )


# What a payment's audit entry leaves out of its enrollment, because the payment says it:
# when the enrollment was paid (paid_at), the personal amount is the amount paid (refused
# otherwise) and the quote is of the payment's day (quoted_on); and, for an enrollment the
# payment creates, that it is paid (status; an enrollment paid by it shows unpaid -> paid).
PAYMENT_IMPLIES = ("paid_at", "personal", "quoted_on")


def _without(values: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    for key in keys:
        values.pop(key, None)
    return values


def _write_payments(*, pendings: list[_Pending], tagged: set[int]) -> None:
    """Insert the batch's enrollments already paid and its payments; re-quote and mark paid
    the enrollments that existed; one audit entry per payment, carrying its enrollment's
    change and naming its actor. The hardship read rows of those among ``tagged`` (the
    people with an identity tag, read under the persons' locks; the others have none)
    follow."""
    for pending in pendings:
        enrollment = pending.enrollment
        if not pending.new_enrollment:
            pending.before = snapshot(enrollment)
            _apply_quote(enrollment, pending.quote)
        enrollment.status = Enrollment.Status.PAID
        enrollment.paid_at = pending.payment.paid_at
    _store_quotes([(p.enrollment, p.quote) for p in pendings])
    insert_models([p.enrollment for p in pendings if p.new_enrollment])
    for pending in pendings:
        pending.payment.enrollment = pending.enrollment
    # The enrollments that existed: paid and re-quoted, as one set.
    existing = [p.enrollment for p in pendings if not p.new_enrollment]
    if existing:
        now = timezone.now()
        for enrollment in existing:
            enrollment.updated_at = now  # as auto_now would stamp it
        Enrollment.objects.bulk_update(
            existing, [*QUOTE_FIELDS, "status", "paid_at"], batch_size=500
        )
    insert_models([p.payment for p in pendings])
    entries = []
    at = timezone.now()
    for pending in pendings:
        # The payment names its enrollment (enrollment_id); the entry carries what changed,
        # less what the payment itself says (PAYMENT_IMPLIES).
        enrollment = _without(snapshot(pending.enrollment), PAYMENT_IMPLIES)
        before = pending.before
        if before is not None:
            before, enrollment = changes(_without(before, PAYMENT_IMPLIES), enrollment)
        else:
            del enrollment["status"]  # created paid, by this payment
        after = _without(snapshot(pending.payment), ("recorded_by_id",))  # the entry's actor
        if enrollment:
            after["enrollment"] = enrollment
        if pending.backdate_reason:
            after["backdate_reason"] = pending.backdate_reason
        if pending.taken_by is not None:
            user = pending.taken_by.user
            after["taken_by"] = user.get_full_name() or user.get_username()
        entries.append(
            audit_entry(
                actor=pending.actor,
                action="payment.backdate" if pending.backdate_reason else "payment.record",
                instance=pending.payment,
                before={"enrollment": before} if before else None,
                after=after,
                at=at,
            )
        )
    audit_bulk(entries)
    hardship_tags_refresh(p.person.pk for p in pendings if p.person.pk in tagged)
    if len(pendings) >= ANALYZE_ROWS:
        analyze(Enrollment, Payment)
    else:
        analyze_when_grown(Enrollment, sum(p.new_enrollment for p in pendings))
        analyze_when_grown(Payment, len(pendings))


@transaction.atomic
def payment_reverse(*, actor: Any, payment: Payment, reason: str) -> Payment:
    """Reverse ``payment`` with a new entry of the negated amount; the enrollment is unpaid again.

    A payment is reversed at most once (``already_reversed``); a reversal cannot itself be
    reversed (record the payment again instead). ``reason`` is required.
    """
    reason = (reason or "").strip()
    original = Payment.objects.select_related("enrollment__person").get(pk=payment.pk)
    person = _lock_person(actor, original.enrollment.person)
    scope_of(actor).require_payment(original, write=True)
    if not reason:
        raise ApplicationError(
            "reason_required", f"{person.label}：冲正缴费须填写原因", person=person.label
        )
    if original.is_reversal:
        raise ApplicationError(
            "cannot_reverse_reversal",
            f"{person.label}：这是一笔冲正记录，不能再冲正；如需恢复，请重新登记缴费",
            person=person.label,
        )
    if Payment.objects.filter(reverses=original).exists():
        raise _already_reversed(person, original)
    _refuse_if_cash_remitted(person, original)
    refuse_closed_days([(original.collector_id, clock.now())], what="冲正")
    reversal = Payment(
        enrollment=original.enrollment,
        amount=-original.amount,
        channel=original.channel,
        # The money goes back through the custody it came from.
        collector=original.collector,
        paid_at=clock.now(),
        slot=original.slot,
        reverses=original,
        reason=reason,
        recorded_by=_user(actor),
    )
    try:
        with transaction.atomic():
            reversal.save(force_insert=True)
    except IntegrityError:
        raise _already_reversed(person, original) from None
    enrollment = Enrollment.objects.get(pk=original.enrollment_id)
    before = snapshot(enrollment)
    enrollment.status = (
        Enrollment.Status.DECEASED
        if person.status == Person.Status.DECEASED
        else Enrollment.Status.UNPAID
    )
    enrollment.paid_at = None
    enrollment.save(update_fields=["status", "paid_at", "updated_at"])
    hardship_tags_refresh([enrollment.person_id])
    audit_record(
        actor=actor,
        action="payment.reverse",
        instance=reversal,
        before=snapshot(original),
        after=snapshot(reversal),
    )
    audit_record(
        actor=actor,
        action="enrollment.unpay",
        instance=enrollment,
        before=before,
        after=snapshot(enrollment),
    )
    return reversal


def _already_reversed(person: Person, payment: Payment) -> ApplicationError:
    return ApplicationError(
        "already_reversed",
        f"{person.label}的这笔{payment.amount}元缴费已冲正，不能重复冲正",
        person=person.label,
    )


# --- what an office records about a person's benefit year --------------------------------

FACT_NAMES = dict(EnrollmentFact.Kind.choices)


@transaction.atomic
def enrollment_fact_record(
    *,
    actor: Any,
    person: Person,
    policy_id: str,
    kind: str,
    reason: str,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> EnrollmentFact:
    """Record, for ``person``'s benefit year under ``policy_id``, what the engine needs and no
    list provides; a township or district office only, with a reason, audited.

    - ``without_subsidy``: the office decides the person enrolls now at full price although an
      identity's subsidy is in a document the policy cites but the project lacks (refused
      ``nothing_missing`` when nothing is missing); once a supplement is loaded, the quote
      applies it again and this decision changes nothing.
    - ``graduating``: a university student graduating this year, covered to 31 December; a
      paid enrollment's coverage end is re-quoted at once.
    - ``employee_waiting``: a paid resident who joined employee insurance on ``starts_on``;
      until ``ends_on`` (its waiting period's last day) they are 预参保 (璧城 八); a policy
      that does not state the rule refuses it.
    """
    name = FACT_NAMES.get(kind)
    if name is None:
        raise ApplicationError("invalid_kind", f"未知的登记事项“{kind}”", kind=kind)
    persons, scope = _lock_persons(actor, [person])
    person = persons[person.pk]
    scope.require_person(person, write=True)
    scope.require_office(f"为{person.label}登记“{name}”")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "reason_required", f"{person.label}：登记“{name}”须写明依据或原因", person=person.label
        )
    policy = _policy(policy_id)
    year = policy.benefit_year
    _require_own_policy(policy, _enrollment_village(person, scope), person)
    live = EnrollmentFact.objects.filter(
        person=person, benefit_year=year, kind=kind, ended_at__isnull=True
    )
    if live.exists():
        raise ApplicationError(
            "already_recorded",
            f"{person.label}已登记{year}年度“{name}”；如需更正，请先撤销原登记",
            person=person.label,
        )
    enrollment = Enrollment.objects.filter(person=person, benefit_year=year).first()
    if kind == EnrollmentFact.Kind.WITHOUT_SUBSIDY:
        starts_on = ends_on = None
        _check_without_subsidy(person, policy, enrollment)
    elif kind == EnrollmentFact.Kind.GRADUATING:
        starts_on = ends_on = None
        _check_graduating(person, policy, enrollment)
    else:
        _check_employee_waiting(person, policy, enrollment, starts_on, ends_on)
    fact = EnrollmentFact.objects.create(
        person=person,
        benefit_year=year,
        policy_id=policy.id,
        kind=kind,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason[:200],
        recorded_by=_user(actor),
    )
    audit_record(actor=actor, action="enrollment_fact.record", instance=fact, after=snapshot(fact))
    if kind == EnrollmentFact.Kind.GRADUATING:
        _requote_coverage_end(actor=actor, person=person, policy=policy, enrollment=enrollment)
    return fact


@transaction.atomic
def enrollment_fact_end(*, actor: Any, fact: EnrollmentFact, reason: str) -> EnrollmentFact:
    """Revoke a recorded fact (a mistake, a document now loaded); the record stays, audited.
    A paid graduate's coverage end is re-quoted without it."""
    persons, scope = _lock_persons(actor, [fact.person])
    person = persons[fact.person_id]
    scope.require_person(person, write=True)
    fact = EnrollmentFact.objects.select_for_update().get(pk=fact.pk)
    name = FACT_NAMES[fact.kind]
    scope.require_office(f"撤销{person.label}的“{name}”")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "reason_required", f"{person.label}：撤销“{name}”须写明原因", person=person.label
        )
    if fact.ended_at is not None:
        raise ApplicationError(
            "already_ended", f"{person.label}的“{name}”已于{fact.ended_at:%Y-%m-%d}撤销"
        )
    before = snapshot(fact)
    fact.ended_at = clock.now()
    fact.ended_by = _user(actor)
    fact.end_reason = reason[:200]
    fact.save(update_fields=["ended_at", "ended_by", "end_reason"])
    audit_record(
        actor=actor,
        action="enrollment_fact.end",
        instance=fact,
        before=before,
        after=snapshot(fact),
    )
    if fact.kind == EnrollmentFact.Kind.GRADUATING:
        enrollment = Enrollment.objects.filter(
            person=person, benefit_year=fact.benefit_year
        ).first()
        _requote_coverage_end(
            actor=actor, person=person, policy=_policy(fact.policy_id), enrollment=enrollment
        )
    return fact


def _check_without_subsidy(person: Person, policy: Any, enrollment: Enrollment | None) -> None:
    if enrollment is not None and enrollment.status == Enrollment.Status.PAID:
        raise _already_paid(person, enrollment)
    population = enrollment.population if enrollment else Enrollment.Population.RESIDENT
    refusals = []
    for tier in (1, 2):
        try:
            _quote(person=person, policy=policy, tier=tier, population=population, on=clock.today())
        except ApplicationError as refusal:
            refusals.append(refusal)
    if not any(refusal.code == "subsidy_rule_missing" for refusal in refusals):
        if len(refusals) == 2:
            raise refusals[0]  # refused for another reason (after the last day, ...): say that
        raise ApplicationError(
            "nothing_missing",
            f"{person.label}按“{policy.name}”报价不缺少文件，按政策正常报价即可，无需此决定",
            person=person.label,
        )


def _check_graduating(person: Person, policy: Any, enrollment: Enrollment | None) -> None:
    student = policy.data.student
    if student is None or student.graduate_coverage_end is None:
        raise ApplicationError(
            "rule_missing",
            f"“{policy.name}”未规定毕业大学生的待遇享受期，不能登记当年毕业",
            person=person.label,
        )
    if (
        enrollment is not None
        and enrollment.status == Enrollment.Status.PAID
        and enrollment.population != Enrollment.Population.UNIVERSITY_STUDENT
    ):
        raise ApplicationError(
            "not_a_student",
            f"{person.label}的{enrollment.benefit_year}年度参保人群为“{enrollment.get_population_display()}”，"
            f"毕业当年待遇延至{student.graduate_coverage_end}只适用于在渝高校大学生（{student.graduate_cite}）",
            person=person.label,
        )


def _check_employee_waiting(
    person: Person,
    policy: Any,
    enrollment: Enrollment | None,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
) -> None:
    cite = policy.data.coverage.pre_enrollment
    if not cite:
        raise ApplicationError(
            "rule_missing",
            f"“{policy.name}”未规定年度内转职工医保人员的预参保，不能登记",
            person=person.label,
        )
    if starts_on is None or ends_on is None:
        raise ApplicationError(
            "dates_required",
            f"{person.label}：须填写参加职工医保的日期和职工医保等待期的最后一天",
            person=person.label,
        )
    year = policy.benefit_year
    if starts_on.year != year or ends_on < starts_on:
        raise ApplicationError(
            "invalid_window",
            f"{person.label}：参加职工医保日期{starts_on}须在{year}年度内，等待期止{ends_on}不得早于它",
            person=person.label,
        )
    if enrollment is None or enrollment.status != Enrollment.Status.PAID:
        raise ApplicationError(
            "not_insured",
            f"{person.label}未缴纳{year}年度居民医保，不属居民医保待遇状态正常的人员，"
            f"无预参保可言（{cite}）",
            person=person.label,
        )


def _requote_coverage_end(
    *, actor: Any, person: Person, policy: Any, enrollment: Enrollment | None
) -> None:
    """A paid student's coverage end, quoted again on the payment day with the facts now
    recorded; the amounts stay frozen."""
    if (
        enrollment is None
        or enrollment.status != Enrollment.Status.PAID
        or enrollment.population != Enrollment.Population.UNIVERSITY_STUDENT
    ):
        return
    quote = _quote(
        person=person,
        policy=policy,
        tier=enrollment.tier,
        population=enrollment.population,
        on=enrollment.quoted_on,
    )
    if quote.coverage_end == enrollment.coverage_end:
        return
    before = snapshot(enrollment)
    enrollment.coverage_end = quote.coverage_end
    enrollment.save(update_fields=["coverage_end", "updated_at"])
    audit_record(
        actor=actor,
        action="enrollment.coverage_end",
        instance=enrollment,
        before=before,
        after=snapshot(enrollment),
    )


# --- cash ---------------------------------------------------------------------------------


def _refuse_if_cash_remitted(person: Person, payment: Payment) -> None:
    """A cash payment is reversed by handing the money back from the collector's cash; when
    they no longer hold that much (it went to the bank), cash held would turn negative."""
    if payment.channel != Payment.Channel.CASH or payment.collector_id is None:
        return
    collector = StaffMember.objects.select_for_update().get(pk=payment.collector_id)
    held = cash_on_hand(collector)
    if held < payment.amount:
        raise ApplicationError(
            "cash_already_remitted",
            f"{person.label}：这笔现金{payment.amount}元已随解缴入库，征收员手中现金只有{held}元，"
            "不能冲正退现；请按退费流程办理",
            person=person.label,
            amount=str(payment.amount),
            held=str(held),
        )


@transaction.atomic
def remittance_record(
    *,
    actor: Any,
    collector: StaffMember,
    amount: Decimal | int | str,
    remitted_at: dt.datetime | None = None,
    bank: str = "",
    slip_number: str | None = None,
    note: str = "",
) -> Remittance:
    """Record cash ``collector`` handed to the bank (入库解缴); never more than they hold.

    The same ``slip_number`` returns the first remittance. The actor is the collector, or an
    office whose scope covers one of the collector's villages.
    """
    collector = StaffMember.objects.select_for_update().select_related("user").get(pk=collector.pk)
    require_collector(actor, collector, write=True)
    name = collector.user.get_full_name() or collector.user.get_username()
    amount = _money(amount, what="解缴金额")
    if amount <= 0:
        raise ApplicationError(
            "invalid_amount", f"征收员{name}：解缴金额须大于0，收到{amount}元", collector=name
        )
    slip_number = (slip_number or "").strip() or None
    if slip_number:
        previous = Remittance.objects.filter(slip_number=slip_number).first()
        if previous is not None:
            if previous.collector_id == collector.pk and previous.amount == amount:
                return previous
            raise ApplicationError(
                "receipt_conflict",
                f"解缴凭证号{slip_number}已用于另一笔解缴，不能重复使用",
                slip_number=slip_number,
            )
    remitted_at = _aware(remitted_at)
    refuse_closed_days([(collector.pk, remitted_at)], what="解缴")
    held = cash_on_hand(collector)
    if amount > held:
        raise ApplicationError(
            "remittance_exceeds_cash",
            f"征收员{name}：解缴{amount}元超过其持有的现金{held}元",
            collector=name,
            amount=str(amount),
            held=str(held),
        )
    remittance = Remittance.objects.create(
        collector=collector,
        amount=amount,
        remitted_at=remitted_at,
        bank=bank,
        slip_number=slip_number,
        note=note,
        recorded_by=_user(actor),
    )
    audit_record(
        actor=actor, action="remittance.record", instance=remittance, after=snapshot(remittance)
    )
    return remittance


# --- outreach -----------------------------------------------------------------------------


@transaction.atomic
def contact_record(
    *, actor: Any, person: Person, benefit_year: int, outcome: str, note: str = ""
) -> ContactAttempt:
    """Record what came of contacting ``person`` about ``benefit_year`` (未缴名单)."""
    person = _lock_person(actor, person)
    if outcome not in ContactAttempt.Outcome.values:
        raise ApplicationError("invalid_outcome", f"未知的联系结果“{outcome}”", outcome=outcome)
    attempt = ContactAttempt.objects.create(
        person=person,
        benefit_year=benefit_year,
        outcome=outcome,
        note=note.strip()[:200],
        recorded_by=_user(actor),
    )
    audit_record(actor=actor, action="contact.record", instance=attempt, after=snapshot(attempt))
    return attempt


@transaction.atomic
def ledger_read_record(*, actor: Any, village: Any, benefit_year: int, rows: int) -> None:
    """Audit a read of a village's whole ledger as data (the API's JSON: names, masked
    numbers and phones of everyone in the village), like an export of personal data:
    who, which village, which year, how many rows (``ledger.read``)."""
    from yibao.core.audit import audit_event

    audit_event(
        actor=actor,
        action="ledger.read",
        object_type="registry.village",
        object_id=str(village.pk),
        details={"village": village.name, "benefit_year": benefit_year, "rows": rows},
    )


# --- receipts -----------------------------------------------------------------------------


def receipt_printed_count(payment: Payment) -> int:
    """How many times the receipt of ``payment`` has been printed (0: not yet)."""
    from yibao.core.models import AuditLog

    return AuditLog.objects.filter(
        action="receipt.print", object_type="collection.payment", object_id=str(payment.pk)
    ).count()


@transaction.atomic
def receipt_print(*, actor: Any, payment: Payment) -> int:
    """Record one printing of ``payment``'s receipt (audited); returns how many times it
    was printed before: 0 is the original, anything more is a reprint (补打)."""
    from yibao.core.audit import audit_event

    before = receipt_printed_count(payment)
    audit_event(
        actor=actor,
        action="receipt.print",
        object_type="collection.payment",
        object_id=str(payment.pk),
        details={"copy": before + 1},
    )
    return before
