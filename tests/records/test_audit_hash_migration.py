"""The migration that stores the audit chain's hashes as raw bytes (core 0005): rows sealed
with hex hashes before it still verify after it, and a row changed afterwards is named."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.records.migrating import migrate, migrate_to_latest
from yibao.core.chain import chain_key, chain_verify, row_digest
from yibao.core.models import AuditLog

BEFORE = ("core", "0004_audit_compact_utf8_few_indexes")


def _hex_sealed_rows(executor: MigrationExecutor) -> list[int]:
    """Three entries as the trail held them before 0005: 64 hex characters per hash."""
    old = executor.loader.project_state([BEFORE]).apps.get_model("core", "AuditLog")
    key, previous, pks = chain_key(), "", []
    for i, after in enumerate([{"name": "张三"}, None, {"amount": "350.00", "n": [1, 2]}]):
        fields = {
            "at": dt.datetime(2022, 12, 5, 1, i, tzinfo=dt.UTC),
            "actor_id": None,
            "actor_name": "system",
            "action": f"test.{i}",
            "object_type": "test.thing",
            "object_id": str(i),
            "before": {"name": "李四"} if i == 2 else None,
            "after": after,
        }
        digest = row_digest(SimpleNamespace(**fields), bytes.fromhex(previous), key).hex()
        pks.append(old.objects.create(**fields, prev_hash=previous, row_hash=digest).pk)
        previous = digest
    return pks


@pytest.mark.django_db(transaction=True)
def test_hex_hashes_become_32_raw_bytes_and_the_chain_still_verifies():
    try:
        pks = _hex_sealed_rows(migrate([BEFORE]))
        migrate_to_latest()
        rows = list(AuditLog.objects.filter(pk__in=pks).order_by("id"))
        assert [len(bytes(row.row_hash)) for row in rows] == [32, 32, 32]
        assert bytes(rows[0].prev_hash) == b""
        assert bytes(rows[2].prev_hash) == bytes(rows[1].row_hash)
        report = chain_verify()
        assert report.ok and report.rows == 3
        # Appending after the change continues the same chain.
        AuditLog(
            actor_name="system", action="test.3", object_type="test.thing", object_id="3"
        ).save()
        assert chain_verify().ok
        # The triggers are back after the rebuild.
        with connection.cursor() as cursor, pytest.raises(Exception, match="append-only"):
            cursor.execute("UPDATE core_auditlog SET actor_name = 'x' WHERE id = %s", [pks[1]])
    finally:
        migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_the_migration_reversed_gives_the_hex_hashes_back():
    try:
        pks = _hex_sealed_rows(migrate([BEFORE]))
        migrate_to_latest()
        executor = migrate([BEFORE])
        old = executor.loader.project_state([BEFORE]).apps.get_model("core", "AuditLog")
        hashes = list(
            old.objects.filter(pk__in=pks).order_by("id").values_list("row_hash", "prev_hash")
        )
        assert all(isinstance(h, str) and len(h) == 64 for h, _ in hashes)
        assert hashes[1][1] == hashes[0][0] and hashes[0][1] == ""
    finally:
        migrate_to_latest()
