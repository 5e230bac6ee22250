"""Writing the audit trail: every service write calls :func:`audit_record`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models

from .masking import BLIND_INDEX_FIELDS, ENCRYPTED_FIELDS, MASK_FIELDS, mask_id_number
from .models import AuditLog

CENT = Decimal("0.01")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Amounts as the ledger shows them (350.00), whether read back or just computed (350).
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent > -2:
            value = value.quantize(CENT)
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# Kept by the entry itself (``at``, ``object_id``): not repeated in its before/after.
SNAPSHOT_SKIP = frozenset({"id", "created_at", "updated_at", "recorded_at"})


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The concrete fields of ``instance`` as JSON-ready values, ID numbers masked; fields
    that are empty (None, "", [], {}) are left out, as are the row's id and timestamps,
    which the entry holds."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.attname in SNAPSHOT_SKIP or field.attname in BLIND_INDEX_FIELDS:
            continue
        if field.attname in ENCRYPTED_FIELDS:
            plain = ENCRYPTED_FIELDS[field.attname]
            data[plain] = mask_id_number(getattr(instance, plain))
            continue
        value = getattr(instance, field.attname)
        if value is None or value == "" or value == [] or value == {}:
            continue
        if field.name in MASK_FIELDS:
            value = mask_id_number(value)
        data[field.attname] = _jsonable(value)
    return data


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two snapshots of one record reduced to the fields that changed (a field absent on one
    side was empty there)."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return (
        {k: before.get(k) for k in keys},
        {k: after.get(k) for k in keys},
    )


def audit_entry(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """One audit entry, not yet saved: services that write many rows save them together
    with :func:`audit_bulk`."""
    user = actor if getattr(actor, "pk", None) is not None else None
    return AuditLog(
        actor=user,
        actor_name=getattr(user, "username", "") if user is not None else "system",
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        before=before,
        after=after,
    )


def audit_bulk(entries: list[AuditLog]) -> list[AuditLog]:
    """Append ``entries`` (from :func:`audit_entry`) in one INSERT per batch, in order."""
    if any(entry.object_id in ("", "None") for entry in entries):
        raise ValueError("审计记录须在对象保存之后生成")
    return AuditLog.objects.bulk_create(entries, batch_size=500)


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit entry; ``before``/``after`` are :func:`snapshot` dicts (or None)."""
    entry = audit_entry(actor=actor, action=action, instance=instance, before=before, after=after)
    entry.save()
    return entry


def audit_event(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: str = "",
    details: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> AuditLog:
    """Append an entry for something that is not a change of one record: a sign-in (or a
    failed one, with the name tried as ``actor_name``), a read of a full ID number, an
    export of personal data. ``details`` must not hold an unmasked ID number."""
    user = actor if getattr(actor, "pk", None) is not None else None
    name = actor_name if actor_name is not None else getattr(user, "username", "") or "system"
    entry = AuditLog(
        actor=user,
        actor_name=name[:150],
        action=action,
        object_type=object_type,
        object_id=object_id[:64],
        after=_jsonable(details) if details is not None else None,
    )
    entry.save()
    return entry
