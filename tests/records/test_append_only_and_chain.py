"""Money and the audit trail are append-only in the database, and the trail is a hash chain
that ``yibao audit verify`` checks, naming the first row that was changed, removed or
inserted out of order."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from yibao.cli import main
from yibao.collection.models import Payment, Remittance
from yibao.collection.services import payment_record, remittance_record
from yibao.core.chain import canonical_json, chain_verify, row_content
from yibao.core.models import AuditLog

from . import factories as f


@pytest.fixture
def paid(town):
    """Three people of 三河街社区 paid in cash; 100 yuan of it remitted."""
    payments = [
        payment_record(
            actor=town.sanhe_collector,
            person=f.person(town.sanhe, name=f"付{i}"),
            policy_id=f.POLICY,
            tier=1,
            amount=Decimal("350"),
            channel="cash",
            receipt_number=f"R-{i}",
        )
        for i in range(3)
    ]
    remittance = remittance_record(
        actor=town.sanhe_collector,
        collector=town.sanhe_collector.staff,
        amount="100",
        slip_number="S-1",
    )
    return payments, remittance


def _refused(sql: str, params: list | None = None) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def _tamper(sql: str, params: list) -> None:
    """What someone who can lift the triggers does: change the table underneath."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS core_auditlog_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS core_auditlog_no_delete")
            cursor.execute("DROP TRIGGER IF EXISTS core_auditlog_no_replace")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
            cursor.execute("ALTER TABLE core_auditlog DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditlog ENABLE TRIGGER USER")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE collection_payment SET amount = 1 WHERE id = %s",
        "DELETE FROM collection_payment WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_payment(paid, sql):
    payment = paid[0][0]
    _refused(sql, [payment.pk])
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("350")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE collection_remittance SET amount = 1 WHERE id = %s",
        "DELETE FROM collection_remittance WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_a_remittance(paid, sql):
    remittance = paid[1]
    _refused(sql, [remittance.pk])
    assert Remittance.objects.get(pk=remittance.pk).amount == Decimal("100")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="REPLACE is SQLite's")
def test_sqlite_insert_or_replace_cannot_rewrite_a_payment_an_audit_row_or_a_remittance(paid):
    payments, remittance = paid
    first = payments[0]
    audit = AuditLog.objects.order_by("id").first()
    # A copy of the row with the amount changed, over the same id / the same receipt number.
    _refused(
        "INSERT OR REPLACE INTO collection_payment (id, enrollment_id, amount, channel,"
        " receipt_number, paid_at, slot, reason, recorded_at)"
        " SELECT id, enrollment_id, 1, channel, receipt_number, paid_at, slot, reason,"
        " recorded_at FROM collection_payment WHERE id = %s",
        [first.pk],
    )
    _refused(
        "INSERT OR REPLACE INTO collection_payment (enrollment_id, amount, channel,"
        " receipt_number, paid_at, slot, reason, recorded_at)"
        " SELECT enrollment_id, 1, channel, receipt_number, paid_at, slot + 7, reason,"
        " recorded_at FROM collection_payment WHERE id = %s",
        [first.pk],
    )
    _refused(
        "REPLACE INTO core_auditlog (id, at, actor_name, action, object_type, object_id)"
        " VALUES (%s, '2022-01-01', 'x', 'x', 'x', 'x')",
        [audit.pk],
    )
    _refused(
        "INSERT OR REPLACE INTO collection_remittance (collector_id, amount, remitted_at,"
        " bank, slip_number, note, recorded_at)"
        " SELECT collector_id, 1, remitted_at, bank, slip_number, note, recorded_at"
        " FROM collection_remittance WHERE id = %s",
        [remittance.pk],
    )
    assert Payment.objects.get(pk=first.pk).amount == Decimal("350")
    assert AuditLog.objects.get(pk=audit.pk).action == audit.action
    assert Remittance.objects.get().amount == Decimal("100")


def test_an_untouched_trail_verifies_and_every_row_links_to_the_one_before(paid):
    report = chain_verify()
    rows = list(AuditLog.objects.order_by("id"))
    assert report.ok and report.rows == len(rows) == 3 + 1  # one per payment; the remittance
    assert bytes(rows[0].prev_hash) == b""
    assert all(len(bytes(row.row_hash)) == 32 for row in rows)  # raw bytes, not hex
    assert all(
        bytes(b.prev_hash) == bytes(a.row_hash) for a, b in zip(rows, rows[1:], strict=False)
    )


def test_a_changed_audit_row_is_named_by_verify(paid):
    target = AuditLog.objects.order_by("id")[2]
    _tamper("UPDATE core_auditlog SET actor_name = %s WHERE id = %s", ["someone", target.pk])
    report = chain_verify()
    assert report.first_bad_id == target.pk and "内容被改动" in report.reason


def test_a_removed_audit_row_is_named_by_verify_at_the_row_after_it(paid):
    rows = list(AuditLog.objects.order_by("id"))
    _tamper("DELETE FROM core_auditlog WHERE id = %s", [rows[1].pk])
    report = chain_verify()
    assert report.first_bad_id == rows[2].pk and "删除、插入" in report.reason


def test_a_row_inserted_out_of_order_is_named_by_verify(paid):
    rows = list(AuditLog.objects.order_by("id"))
    _tamper("DELETE FROM core_auditlog WHERE id = %s", [rows[2].pk])
    # A forged row in the gap, carrying the real predecessor's hash.
    _tamper(
        "INSERT INTO core_auditlog (id, at, actor_name, action, object_type, object_id,"
        " prev_hash, row_hash) VALUES (%s, %s, 'sanhe', 'payment.record', 'x', '1', %s, %s)",
        [rows[2].pk, rows[2].at, bytes(rows[1].row_hash), bytes(32)],
    )
    assert chain_verify().first_bad_id == rows[2].pk


def test_the_verify_command_exits_1_and_names_the_row(paid, capsys):
    assert main(["audit", "verify"]) == 0
    assert "哈希链完整" in capsys.readouterr().out
    target = AuditLog.objects.order_by("id")[1]
    _tamper("UPDATE core_auditlog SET after = NULL WHERE id = %s", [target.pk])
    assert main(["audit", "verify"]) == 1
    assert f"编号 {target.pk}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "before, after",
    [
        (None, None),
        (None, {"name": "张三", "amount": "350.00", "members": [{"id": 1, "sex": "male"}]}),
        ({"status": "unpaid", "note": 'a "quoted"\\ line\n'}, {"status": "paid", "n": 0}),
        ({}, {"z": [], "a": {"y": None, "b": True}, "emoji": "\u2028😀"}),
    ],
)
def test_row_content_is_the_canonical_json_of_the_row(before, after):
    """The chain hashes the text ``json.dumps(sort_keys=True)`` makes of a row, written out
    piece by piece; rows sealed before that change keep verifying."""
    row = AuditLog(
        at=dt.datetime(2022, 12, 5, 2, 3, 4, 5, tzinfo=dt.UTC),
        actor_id=7,
        actor_name='sanhe"x',
        action="payment.record",
        object_type="collection.payment",
        object_id="12",
        before=before,
        after=after,
    )
    expected = json.dumps(
        {
            "at": "2022-12-05T02:03:04.000005+00:00",
            "actor_id": 7,
            "actor_name": 'sanhe"x',
            "action": "payment.record",
            "object_type": "collection.payment",
            "object_id": "12",
            "before": before,
            "after": after,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert row_content(row) == expected
    assert row_content(row, canonical_json(before), canonical_json(after)) == expected
    row.actor_id = None
    assert '"actor_id":null' in row_content(row)


def test_a_batch_of_entries_is_sealed_as_row_digest_hashes_each_row(town):
    """audit_bulk seals each entry as it is written (a keyed HMAC copied per entry): the same
    hash ``row_digest`` computes from the stored row and the hash before it."""
    from yibao.core.audit import audit_bulk, audit_entry
    from yibao.core.chain import chain_key, row_digest

    audit_bulk(
        [
            audit_entry(
                actor=town.sanhe_collector,
                action="test.batch",
                model=AuditLog,
                object_id=n,
                after={"n": n, "name": "张三"} if n % 2 else None,
            )
            for n in range(1, 6)
        ]
    )
    rows = list(AuditLog.objects.order_by("id"))
    previous = b""
    for row in rows:
        assert bytes(row.row_hash) == row_digest(row, previous, chain_key())
        previous = bytes(row.row_hash)
    assert [row.object_id for row in rows[-5:]] == ["1", "2", "3", "4", "5"]
    assert chain_verify().ok
