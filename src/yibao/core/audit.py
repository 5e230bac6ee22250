"""Writing the audit trail: every service write calls :func:`audit_record`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from . import chain
from .bulk import JSONText, insert_rows
from .chain import canonical_json
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


# Kept by the entry itself (``at``, ``object_id``): not repeated in its before/after; and
# what is derived from another field the snapshot holds (a name's pinyin initials).
SNAPSHOT_SKIP = frozenset({"id", "created_at", "updated_at", "recorded_at", "name_initials"})


@cache
def _snapshot_fields(model: type[models.Model]) -> tuple[tuple[str, bool], ...]:
    """(attname, masked) of the fields a snapshot of ``model`` holds."""
    fields = []
    for field in model._meta.concrete_fields:
        if field.attname in SNAPSHOT_SKIP or field.attname in BLIND_INDEX_FIELDS:
            continue
        if field.attname in ENCRYPTED_FIELDS:
            # The ciphertext is shown as the masked number it holds, under the number's name.
            fields.append((ENCRYPTED_FIELDS[field.attname], True))
        else:
            fields.append((field.attname, field.name in MASK_FIELDS))
    return tuple(fields)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The concrete fields of ``instance`` as JSON-ready values, ID numbers masked; fields
    that are empty (None, "", [], {}) are left out, as are the row's id and timestamps,
    which the entry holds."""
    fields = _snapshot_fields(type(instance))
    return snapshot_values(type(instance), {name: getattr(instance, name) for name, _ in fields})


def snapshot_values(model: type[models.Model], values: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`snapshot` of a ``model`` row given as ``{attname: value}`` (a row written
    without a model object, :func:`yibao.core.bulk.insert_rows`); an encrypted field is
    read from its plain name (``id_number``), masked."""
    data: dict[str, Any] = {}
    get = values.get
    for name, masked in _snapshot_fields(model):
        value = get(name)
        kind = type(value)
        if kind is str or kind is int:
            if value == "":
                continue
            data[name] = mask_id_number(value) if masked else value
        elif kind is dt.date and not masked:
            data[name] = value.isoformat()  # as _jsonable writes it
        elif isinstance(value, str):  # a choices member: as it is, as _jsonable leaves it
            data[name] = mask_id_number(value) if masked else value
        elif value is None or value == [] or value == {}:
            continue
        else:
            data[name] = _jsonable(mask_id_number(value) if masked else value)
    return data


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two snapshots of one record reduced to the fields that changed (a field absent on one
    side was empty there)."""
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    return (
        {k: before.get(k) for k in keys},
        {k: after.get(k) for k in keys},
    )


@dataclass(slots=True)
class AuditEntry:
    """An audit entry not yet written: :func:`audit_entry` makes it, :func:`audit_bulk`
    seals and writes a batch of them (no model object per entry)."""

    at: dt.datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: bytes = b""
    row_hash: bytes = b""


def _actor(actor: Any) -> tuple[int | None, str]:
    user = actor if getattr(actor, "pk", None) is not None else None
    return (user.pk, getattr(user, "username", "")) if user is not None else (None, "system")


def audit_entry(
    *,
    actor: Any,
    action: str,
    instance: models.Model | None = None,
    model: type[models.Model] | None = None,
    object_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """One audit entry, not yet written: services that write many rows append them together
    with :func:`audit_bulk`. The record is ``instance``, or (a row written without a model
    object) ``model`` and ``object_id``; ``at`` is the batch's time, by default now."""
    actor_id, actor_name = _actor(actor)
    if instance is not None:
        model, object_id = type(instance), instance.pk
    assert model is not None
    return AuditEntry(
        at=at or timezone.now(),
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_type=model._meta.label_lower,
        object_id=str(object_id),
        before=before,
        after=after,
    )


AUDIT_FIELDS = (
    "at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "prev_hash",
    "row_hash",
)


def _stored(dumped: str) -> JSONText | None:
    return None if dumped == "null" else JSONText(dumped)


def audit_bulk(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Append ``entries`` (from :func:`audit_entry`) in order: sealed into the hash chain and
    written as one set (:func:`yibao.core.bulk.insert_rows`; the database numbers them in
    order, under the chain's lock). Each before and after is dumped to JSON once: the text
    the chain hashes is the text stored."""
    if any(entry.object_id in ("", "None") for entry in entries):
        raise ValueError("审计记录须在对象保存之后生成")
    if not entries:
        return entries
    with transaction.atomic(savepoint=False):
        seal = chain.sealer()  # takes the chain's lock until commit

        def rows() -> Iterator[tuple[Any, ...]]:
            # Each entry dumped, sealed and handed to the insert in turn (PostgreSQL's COPY
            # writes the entries before it meanwhile).
            for e in entries:
                before, after = canonical_json(e.before), canonical_json(e.after)
                seal(e, before, after)
                yield (
                    e.at,
                    e.actor_id,
                    e.actor_name,
                    e.action,
                    e.object_type,
                    e.object_id,
                    _stored(before),
                    _stored(after),
                    e.prev_hash,
                    e.row_hash,
                )

        insert_rows(AuditLog, AUDIT_FIELDS, rows())
    return entries


def audit_record(
    *,
    actor: Any,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit entry; ``before``/``after`` are :func:`snapshot` dicts (or None)."""
    actor_id, actor_name = _actor(actor)
    entry = AuditLog(
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        before=before,
        after=after,
    )
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
