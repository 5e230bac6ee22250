"""The audit trail's hash chain: each row carries the keyed hash of the row before it.

``row_hash = HMAC-SHA256(key, hex(prev_hash) + "\\n" + canonical JSON of the row)``, both
hashes stored as 32 raw bytes (the first row's ``prev_hash`` is empty). A row changed,
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from django.conf import settings
from django.db import connection

# pg_advisory_xact_lock key: "yibao.au" as a 64-bit integer, unlikely to meet another lock.
_PG_LOCK_KEY = int.from_bytes(b"yibao.au", "big") & 0x7FFF_FFFF_FFFF_FFFF
HASH_BYTES = 32


def chain_key() -> bytes:
    configured = getattr(settings, "YIBAO_AUDIT_KEY", None)
    if configured:
        return str(configured).encode()
    return hashlib.sha256(b"yibao.audit-chain:" + settings.SECRET_KEY.encode()).digest()


def _timestamp(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return str(value)


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_json(value: Any) -> str:
    """``value`` (a row's before or after) as the chain hashes it: keys sorted, UTF-8,
    no spaces (``json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",",
    ":"))``, with one encoder kept). Stored as such by :func:`yibao.core.audit.audit_bulk`,
    which so dumps each value once."""
    return _CANONICAL.encode(value)


def row_content(row: Any, before: str | None = None, after: str | None = None) -> str:
    """The canonical JSON of ``row`` (an AuditLog, or an entry with its fields): the object
    ``{action, actor_id, actor_name, after, at, before, object_id, object_type}`` with keys
    sorted, written out piece by piece (``before``/``after`` given when already dumped by
    :func:`canonical_json`). The same text ``json.dumps(..., sort_keys=True)`` makes of it
    (``test_row_content_is_the_canonical_json_of_the_row``)."""
    actor_id = row.actor_id
    return "".join(
        (
            '{"action":',
            encode_basestring(row.action),
            ',"actor_id":',
            "null" if actor_id is None else str(int(actor_id)),
            ',"actor_name":',
            encode_basestring(row.actor_name),
            ',"after":',
            canonical_json(row.after) if after is None else after,
            ',"at":',
            encode_basestring(_timestamp(row.at)),
            ',"before":',
            canonical_json(row.before) if before is None else before,
            ',"object_id":',
            encode_basestring(row.object_id),
            ',"object_type":',
            encode_basestring(row.object_type),
            "}",
        )
    )


def row_digest(
    row: Any,
    prev_hash: bytes,
    key: bytes | None = None,
    *,
    content: str | None = None,
) -> bytes:
    """The hash of ``row`` (an AuditLog) chained to ``prev_hash`` (32 bytes, or empty for
    the first row); ``content`` is :func:`row_content` when the caller made it already."""
    if content is None:
        content = row_content(row)
    message = (bytes(prev_hash).hex() + "\n" + content).encode()
    return hmac.new(key or chain_key(), message, hashlib.sha256).digest()


@functools.cache
def _last_hash_query() -> Any:
    """The query for the chain's last hash, compiled once (every write asks it)."""
    from .models import AuditLog
    from .prepared import Prepared

    return Prepared(lambda: AuditLog.objects.order_by("-id").values_list("row_hash", flat=True)[:1])


def last_hash() -> bytes:
    """The newest row's hash (empty before the first row)."""
    rows = _last_hash_query()()
    return bytes(rows[0]) if rows and rows[0] else b""


def _locked_last_hash() -> bytes:
    """Take the chain's lock (PostgreSQL), then read its last hash. On PostgreSQL both in one
    round trip: two statements in one text, the second with a snapshot of its own, taken
    once the lock is held (as when sent one by one)."""
    if connection.vendor != "postgresql":
        return last_hash()
    from .models import AuditLog

    table = connection.ops.quote_name(AuditLog._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s); "
            f"SELECT row_hash FROM {table} ORDER BY id DESC LIMIT 1",
            [_PG_LOCK_KEY],
        )
        cursor.nextset()
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] else b""


def seal(entries: Iterable[Any]) -> None:
    """Give ``entries`` (unsaved, in order) their chain hashes; call inside the transaction
    that inserts them, which then holds the chain until it commits."""
    last = _locked_last_hash()
    key = chain_key()
    for entry in entries:
        entry.prev_hash = last
        entry.row_hash = last = row_digest(entry, last, key)


def sealer() -> Callable[[Any, str, str], None]:
    """:func:`seal` one entry at a time, for entries whose before and after are already
    :func:`canonical_json`: takes the chain's lock and its last hash, and returns
    ``seal(entry, before, after)``, to be called on the entries in the order they are
    inserted, inside the transaction that inserts them."""
    last = _locked_last_hash()
    mac = hmac.new(chain_key(), digestmod=hashlib.sha256)  # keyed once; a copy per entry

    def seal(entry: Any, before: str, after: str) -> None:
        nonlocal last
        entry.prev_hash = last
        entry_mac = mac.copy()
        entry_mac.update((last.hex() + "\n" + row_content(entry, before, after)).encode())
        entry.row_hash = last = entry_mac.digest()

    return seal


@dataclass(frozen=True, slots=True)
class ChainReport:
    rows: int
    first_bad_id: int | None
    reason: str
    last_hash: bytes

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None


def chain_verify() -> ChainReport:
    """Walk the audit trail in id order and name the first row that breaks the chain."""
    from .models import AuditLog

    key = chain_key()
    previous = b""
    count = 0
    rows = AuditLog.objects.order_by("id").iterator(chunk_size=2000)
    for row in rows:
        count += 1
        if bytes(row.prev_hash or b"") != previous:
            return ChainReport(
                count,
                row.pk,
                "前一条记录被删除、插入或顺序被改动（链接的前一哈希不符）",
                previous,
            )
        stored = bytes(row.row_hash or b"")
        if len(stored) != HASH_BYTES or not hmac.compare_digest(
            stored, row_digest(row, previous, key)
        ):
            return ChainReport(count, row.pk, "本条记录的内容被改动（哈希不符）", previous)
        previous = stored
    return ChainReport(count, None, "", previous)
