"""The audit trail's hash chain (existing rows sealed in id order) and the append-only
triggers on payments and remittances, with SQLite's REPLACE path closed on all three tables
(:mod:`yibao.core.integrity`)."""

from django.db import migrations, models

from yibao.core.chain import chain_key, row_digest
from yibao.core.integrity import ensure_triggers


def seal_existing_rows(apps, schema_editor):
    connection = schema_editor.connection
    AuditLog = apps.get_model("core", "AuditLog")
    if not AuditLog.objects.exists():
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS core_auditlog_no_update")
        elif connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditlog DISABLE TRIGGER core_auditlog_no_update")
        key, previous = chain_key(), ""
        for row in AuditLog.objects.order_by("id").iterator(chunk_size=2000):
            # Hex in this migration's columns; 0005 stores them as raw bytes.
            digest = row_digest(row, bytes.fromhex(previous), key).hex()
            cursor.execute(
                "UPDATE core_auditlog SET prev_hash = %s, row_hash = %s WHERE id = %s",
                [previous, digest, row.pk],
            )
            previous = digest
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditlog ENABLE TRIGGER core_auditlog_no_update")


def add_triggers(apps, schema_editor):
    ensure_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_auditlog_append_only_triggers"),
        ("collection", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditlog",
            name="prev_hash",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="前一条哈希"),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="row_hash",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="本条哈希"),
        ),
        migrations.RunPython(seal_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(add_triggers, migrations.RunPython.noop),
    ]
