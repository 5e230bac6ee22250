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
import logging
import time
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from yibao.core import clock
from yibao.core.access import in_scope, out_of_scope, require_person, villages_in_scope
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.policy import (
    IdentityClaim,
    PolicyError,
    Quote,
    QuoteRefused,
    QuoteRequest,
    get_policy,
)
from yibao.registry.models import IdentityTag, OtherInsurance, Person

from .models import Collector, Enrollment, Payment, Remittance

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TIER_NAMES = {1: "一档", 2: "二档"}


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


def _collector_of(actor: Any) -> Collector | None:
    if getattr(actor, "pk", None) is None:
        return None
    return Collector.objects.filter(user=actor).first()


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) is not None else None


def _lock_person(actor: Any, person: Person) -> Person:
    """Re-read and lock the person's row; the lock serialises writes for one person."""
    locked = Person.objects.select_for_update().select_related("hukou_village").get(pk=person.pk)
    require_person(actor, locked)
    return locked


def _policy(policy_id: str) -> Any:
    try:
        return get_policy(policy_id)
    except PolicyError as error:
        raise ApplicationError(error.code, error.message, **error.params) from None


def identity_claims(person: Person, on: dt.date) -> tuple[IdentityClaim, ...]:
    """The person's identity tags valid on ``on``, as claims for the policy engine."""
    tags = IdentityTag.objects.filter(person=person).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
    )
    claims: dict[str, IdentityClaim] = {}
    for tag in tags.order_by("id"):
        claims.setdefault(tag.category_key, IdentityClaim(tag.category_key, tag.certified_on))
    return tuple(claims.values())


def _quote(*, person: Person, policy: Any, tier: int, population: str, on: dt.date) -> Quote:
    request = QuoteRequest(
        paid_on=on,
        tier=tier,
        identities=identity_claims(person, on),
        population=population,
        birth_date=person.birth_date if population == Enrollment.Population.NEWBORN else None,
    )
    try:
        return policy.quote(request)
    except QuoteRefused as refused:
        raise ApplicationError(
            refused.code,
            f"{person.label}：{refused.message}",
            **{**refused.params, "person": person.label},
        ) from None


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
    "quote",
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
    enrollment.quote = quote.to_dict()


def _refuse_if_deceased(person: Person) -> None:
    if person.status == Person.Status.DECEASED:
        raise ApplicationError(
            "person_deceased",
            f"{person.label}已于{person.deceased_on}死亡，不能参保或缴费",
            person=person.label,
            deceased_on=person.deceased_on.isoformat() if person.deceased_on else None,
        )


def _refuse_if_insured_elsewhere(person: Person, benefit_year: int) -> None:
    other = OtherInsurance.objects.filter(person=person, benefit_year=benefit_year).first()
    if other is None:
        return
    where = f"（{other.place}）" if other.place else ""
    if other.kind == OtherInsurance.Kind.EMPLOYEE:
        raise ApplicationError(
            "employee_insured",
            f"{person.label}已参加{benefit_year}年度职工基本医疗保险{where}，不能重复参加居民医保",
            person=person.label,
            benefit_year=benefit_year,
        )
    raise ApplicationError(
        "insured_elsewhere",
        f"{person.label}已在外地参加{benefit_year}年度居民医保{where}，不能重复参保",
        person=person.label,
        benefit_year=benefit_year,
    )


def _already_enrolled(person: Person, existing: Enrollment) -> ApplicationError:
    return ApplicationError(
        "already_enrolled",
        f"{person.label}已在{existing.village.name}登记{existing.benefit_year}年度参保，不能重复参保",
        person=person.label,
        village=existing.village.name,
        benefit_year=existing.benefit_year,
    )


def _new_enrollment(
    *, actor: Any, person: Person, policy: Any, tier: int, population: str, on: dt.date
) -> Enrollment:
    """Checks and inserts an enrollment; the person's row is already locked."""
    _refuse_if_deceased(person)
    _refuse_if_insured_elsewhere(person, policy.benefit_year)
    existing = (
        Enrollment.objects.filter(person=person, benefit_year=policy.benefit_year)
        .select_related("village")
        .first()
    )
    if existing is not None:
        raise _already_enrolled(person, existing)
    quote = _quote(person=person, policy=policy, tier=tier, population=population, on=on)
    village = person.hukou_village
    if not in_scope(actor, village.pk) and person.residence_village_id is not None:
        village = person.residence_village
    enrollment = Enrollment(
        person=person, village=village, benefit_year=policy.benefit_year, policy_id=policy.id
    )
    _apply_quote(enrollment, quote)
    try:
        with transaction.atomic():
            enrollment.save(force_insert=True)
    except IntegrityError:
        # The unique (person, benefit_year) constraint: enrolled meanwhile by someone else.
        existing = Enrollment.objects.select_related("village").get(
            person=person, benefit_year=policy.benefit_year
        )
        raise _already_enrolled(person, existing) from None
    audit_record(
        actor=actor, action="enrollment.create", instance=enrollment, after=snapshot(enrollment)
    )
    return enrollment


def _effective_payment(enrollment: Enrollment) -> Payment | None:
    """The payment that currently settles ``enrollment`` (not reversed), if any."""
    return (
        Payment.objects.filter(enrollment=enrollment, reverses__isnull=True, reversal__isnull=True)
        .order_by("-id")
        .first()
    )


def _already_paid(person: Person, enrollment: Enrollment) -> ApplicationError:
    paid = _effective_payment(enrollment)
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
    ``insured_elsewhere``, ``out_of_scope`` and every refusal of the policy engine (for
    example ``tier_not_applicable``) under the engine's code.
    """
    person = _lock_person(actor, person)
    policy = _policy(policy_id)
    return _new_enrollment(
        actor=actor,
        person=person,
        policy=policy,
        tier=tier,
        population=population,
        on=clock.today(),
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
) -> Payment:
    """Record what ``person`` paid for the policy's benefit year, enrolling them if needed.

    Enrollment and payment are one transaction: money is never recorded for a person who is
    not enrolled. The amount must equal the personal amount the policy engine quotes for the
    payment date (``amount_mismatch`` otherwise); a fully subsidised person is recorded as a
    zero declaration (amount 0). A ``receipt_number`` or ``idempotency_key`` already used for
    this person returns the first payment instead of a second one (``receipt_conflict`` if it
    was used for someone else or another amount). Refuses ``already_paid``,
    ``person_deceased``, ``employee_insured``, ``out_of_scope``, and the engine's refusals
    (``after_last_payment_day``, ``tier_not_applicable``, ...).

    Not wrapped in one ``transaction.atomic`` on purpose: each attempt is atomic, and an
    attempt that loses a race on a unique constraint (or, on SQLite, times out waiting for
    the write lock) is retried, when the retry finds the first payment.
    """
    amount = _money(amount, what="缴费金额")
    paid_at = _aware(paid_at)
    receipt_number = (receipt_number or "").strip() or None
    idempotency_key = (idempotency_key or "").strip() or None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return _payment_record_once(
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
            )
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


def _find_previous(receipt_number: str | None, idempotency_key: str | None) -> Payment | None:
    condition = Q()
    if receipt_number:
        condition |= Q(receipt_number=receipt_number)
    if idempotency_key:
        condition |= Q(idempotency_key=idempotency_key)
    if not condition:
        return None
    return (
        Payment.objects.filter(condition)
        .select_related("enrollment__person")
        .order_by("id")
        .first()
    )


@transaction.atomic
def _payment_record_once(
    *,
    actor: Any,
    person: Person,
    policy_id: str,
    tier: int,
    amount: Decimal,
    channel: str,
    paid_at: dt.datetime,
    receipt_number: str | None,
    idempotency_key: str | None,
    population: str,
) -> Payment:
    person = _lock_person(actor, person)
    previous = _find_previous(receipt_number, idempotency_key)
    if previous is not None:
        if previous.enrollment.person_id == person.pk and previous.amount == amount:
            return previous
        other = previous.enrollment.person
        used = receipt_number if previous.receipt_number == receipt_number else idempotency_key
        raise ApplicationError(
            "receipt_conflict",
            f"{person.label}：票据号或请求号{used}已用于{other.label}的{previous.amount}元缴费，"
            "不能再用于另一笔缴费",
            person=person.label,
            other_person=other.label,
            receipt_number=used,
        )
    if channel not in Payment.Channel.values:
        raise ApplicationError(
            "invalid_channel", f"{person.label}：未知的缴费渠道“{channel}”", channel=channel
        )
    policy = _policy(policy_id)
    paid_on = timezone.localtime(paid_at).date()
    _refuse_if_deceased(person)

    enrollment = (
        Enrollment.objects.filter(person=person, benefit_year=policy.benefit_year)
        .select_related("village")
        .first()
    )
    if enrollment is None:
        enrollment = _new_enrollment(
            actor=actor, person=person, policy=policy, tier=tier, population=population, on=paid_on
        )
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
        _refuse_if_insured_elsewhere(person, policy.benefit_year)

    before = snapshot(enrollment)
    quote = _quote(person=person, policy=policy, tier=tier, population=population, on=paid_on)
    if amount != quote.personal:
        identity = f"，{quote.identity.name}" if quote.identity else ""
        raise ApplicationError(
            "amount_mismatch",
            f"{person.label}{paid_on}应缴{TIER_NAMES.get(tier, tier)}个人缴费{quote.personal}元"
            f"{identity}，实收{amount}元，金额不符",
            person=person.label,
            due=str(quote.personal),
            amount=str(amount),
        )
    slot = Payment.objects.filter(enrollment=enrollment, reverses__isnull=False).count()
    payment = Payment(
        enrollment=enrollment,
        amount=amount,
        channel=channel,
        receipt_number=receipt_number,
        idempotency_key=idempotency_key,
        collector=_collector_of(actor),
        paid_at=paid_at,
        slot=slot,
        recorded_by=_user(actor),
    )
    payment.save(force_insert=True)

    _apply_quote(enrollment, quote)
    enrollment.status = Enrollment.Status.PAID
    enrollment.paid_at = paid_at
    enrollment.save(update_fields=[*QUOTE_FIELDS, "status", "paid_at"])
    audit_record(
        actor=actor,
        action="enrollment.pay",
        instance=enrollment,
        before=before,
        after=snapshot(enrollment),
    )
    audit_record(actor=actor, action="payment.record", instance=payment, after=snapshot(payment))
    return payment


@transaction.atomic
def payment_reverse(*, actor: Any, payment: Payment, reason: str) -> Payment:
    """Reverse ``payment`` with a new entry of the negated amount; the enrollment is unpaid again.

    A payment is reversed at most once (``already_reversed``); a reversal cannot itself be
    reversed (record the payment again instead). ``reason`` is required.
    """
    reason = (reason or "").strip()
    original = Payment.objects.select_related("enrollment__person").get(pk=payment.pk)
    person = _lock_person(actor, original.enrollment.person)
    if not in_scope(actor, original.enrollment.village_id):
        raise out_of_scope(actor, f"{person.label}的缴费记录", person=person.label)
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


# --- cash ---------------------------------------------------------------------------------


def cash_on_hand(collector: Collector) -> Decimal:
    """Cash taken by ``collector`` (net of reversals) minus what they remitted to the bank."""
    taken = Payment.objects.filter(collector=collector, channel=Payment.Channel.CASH).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    remitted = Remittance.objects.filter(collector=collector).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal("0")
    return taken - remitted


@transaction.atomic
def remittance_record(
    *,
    actor: Any,
    collector: Collector,
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
    collector = Collector.objects.select_for_update().select_related("user").get(pk=collector.pk)
    name = collector.user.get_full_name() or collector.user.get_username()
    if not (
        getattr(actor, "pk", None) == collector.user_id
        or getattr(actor, "is_superuser", False)
        or villages_in_scope(actor).filter(pk__in=collector.villages.all()).exists()
    ):
        raise out_of_scope(actor, f"征收员{name}的现金", collector=name)
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
        remitted_at=_aware(remitted_at),
        bank=bank,
        slip_number=slip_number,
        note=note,
        recorded_by=_user(actor),
    )
    audit_record(
        actor=actor, action="remittance.record", instance=remittance, after=snapshot(remittance)
    )
    return remittance
