"""The audit trail's hash chain: each row carries the keyed hash of the row before it.

``row_hash = HMAC-SHA256(key, prev_hash + canonical JSON of the row)``. A row changed,
removed or inserted out of order with a database shell breaks the chain at that row, and
:func:`chain_verify` names it. The key (``YIBAO_AUDIT_KEY``, by default derived from
``SECRET_KEY``) is outside the database, so whoever can write the table cannot re-seal it.

Appends are serialised so the chain stays one line: on SQLite every write transaction holds
the database's write lock already (IMMEDIATE); on PostgreSQL an advisory transaction lock is
taken before the last hash is read and held until commit.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

# pg_advisory_xact_lock key: "yibao.au" as a 64-bit integer, unlikely to meet another lock.
_PG_LOCK_KEY = int.from_bytes(b"yibao.au", "big") & 0x7FFF_FFFF_FFFF_FFFF


def chain_key() -> bytes:
    configured = getattr(settings, "YIBAO_AUDIT_KEY", None)
    if configured:
        return str(configured).encode()
    return hashlib.sha256(b"yibao.audit-chain:" + settings.SECRET_KEY.encode()).digest()


def _timestamp(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return str(value)


def row_digest(row: Any, prev_hash: str, key: bytes | None = None) -> str:
    """The hash of ``row`` (an AuditLog) chained to ``prev_hash``."""
    content = json.dumps(
        {
            "at": _timestamp(row.at),
            "actor_id": row.actor_id,
            "actor_name": row.actor_name,
            "action": row.action,
            "object_type": row.object_type,
            "object_id": row.object_id,
            "before": row.before,
            "after": row.after,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    message = (prev_hash + "\n" + content).encode()
    return hmac.new(key or chain_key(), message, hashlib.sha256).hexdigest()


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])


@functools.cache
def _last_hash() -> Any:
    """The query for the chain's last hash, compiled once (every write asks it)."""
    from .models import AuditLog
    from .prepared import Prepared

    return Prepared(lambda: AuditLog.objects.order_by("-id").values_list("row_hash", flat=True)[:1])


def seal(entries: Iterable[Any]) -> None:
    """Give ``entries`` (unsaved, in order) their chain hashes; call inside the transaction
    that inserts them, which then holds the chain until it commits."""
    _lock()
    last = (_last_hash()() or [""])[0] or ""
    key = chain_key()
    for entry in entries:
        entry.prev_hash = last
        entry.row_hash = last = row_digest(entry, last, key)


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows: int
    first_bad_id: int | None
    reason: str
    last_hash: str

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def chain_verify() -> ChainReport:
    """Walk the audit trail in id order and name the first row that breaks the chain."""
    from .models import AuditLog

    key = chain_key()
    previous = ""
    count = 0
    rows = AuditLog.objects.order_by("id").iterator(chunk_size=2000)
    for row in rows:
        count += 1
        if (row.prev_hash or "") != previous:
            return ChainReport(
                count,
                row.pk,
                "前一条记录被删除、插入或顺序被改动（链接的前一哈希不符）",
                previous,
            )
        if not row.row_hash or not hmac.compare_digest(
            row.row_hash, row_digest(row, previous, key)
        ):
            return ChainReport(count, row.pk, "本条记录的内容被改动（哈希不符）", previous)
        previous = row.row_hash
    return ChainReport(count, None, "", previous)
