"""Reads of the audit trail, within the actor's scope: per person, per user, per day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from .access import villages_in_scope
from .models import AuditLog

HIDDEN_FIELDS = frozenset({"updated_at", "created_at", "recorded_at", "quote"})


def audit_users(*, actor: Any) -> QuerySet[Any]:
    """The users whose actions ``actor`` may read: staff working in the actor's villages or
    township (and the actor)."""
    scope = villages_in_scope(actor)
    return (
        get_user_model()
        .objects.filter(
            Q(staff__villages__in=scope)
            | Q(staff__township__villages__in=scope)
            | Q(pk=getattr(actor, "pk", None))
        )
        .distinct()
        .order_by("username")
    )


def audit_trail(
    *,
    actor: Any,
    person: Any | None = None,
    username: str | None = None,
    day: dt.date | None = None,
) -> QuerySet[AuditLog]:
    """Entries about ``person`` (reached through ``access_person``: the person, the
    registration of their household, their enrollments, payments and contacts) or by ``username`` (a user in :func:`audit_users`),
    optionally on ``day`` (Asia/Shanghai); newest first (pages slice it)."""
    from yibao.collection.models import ContactAttempt, Enrollment, Payment
    from yibao.registry.models import IdentityTag, OtherInsurance

    entries = AuditLog.objects.all()
    if person is not None:
        enrollments = list(Enrollment.objects.filter(person=person).values_list("pk", flat=True))
        objects = Q(object_type="registry.person", object_id=str(person.pk))
        if person.household_id:  # registered with the household: its entry lists them
            objects |= Q(object_type="registry.household", object_id=str(person.household_id))
        for label, ids in (
            ("collection.enrollment", enrollments),
            (
                "collection.payment",
                Payment.objects.filter(enrollment_id__in=enrollments).values_list("pk", flat=True),
            ),
            (
                "registry.identitytag",
                IdentityTag.objects.filter(person=person).values_list("pk", flat=True),
            ),
            (
                "registry.otherinsurance",
                OtherInsurance.objects.filter(person=person).values_list("pk", flat=True),
            ),
            (
                "collection.contactattempt",
                ContactAttempt.objects.filter(person=person).values_list("pk", flat=True),
            ),
        ):
            objects |= Q(object_type=label, object_id__in=[str(i) for i in ids])
        entries = entries.filter(objects)
    elif username:
        entries = entries.filter(actor__in=audit_users(actor=actor).filter(username=username))
    else:
        entries = entries.filter(actor__in=audit_users(actor=actor))
    if day is not None:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        entries = entries.filter(at__gte=start, at__lt=start + dt.timedelta(days=1))
    return entries.order_by("-id")


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: Any
    after: Any


def _flat(data: dict[str, Any] | None) -> dict[str, Any]:
    """A record's fields; a record carried inside another (a payment's enrollment) as
    ``enrollment.status`` and so on."""
    flat: dict[str, Any] = {}
    for key, value in (data or {}).items():
        if isinstance(value, dict) and key not in HIDDEN_FIELDS:
            flat.update((f"{key}.{inner}", v) for inner, v in value.items())
        else:
            flat[key] = value
    return flat


def audit_diff(entry: AuditLog) -> list[Change]:
    """The fields an entry changed, before and after (creation: every field set)."""
    before = _flat(entry.before)
    after = _flat(entry.after)
    changes = []
    for field in sorted(set(before) | set(after)):
        name = field.rpartition(".")[2]
        if name in HIDDEN_FIELDS or name == "id":
            continue
        old, new = before.get(field), after.get(field)
        if old != new:
            changes.append(Change(field, old, new))
    return changes
