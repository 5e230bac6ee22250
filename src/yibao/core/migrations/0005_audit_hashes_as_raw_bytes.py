"""The audit chain's hashes as 32 raw bytes instead of 64 hex characters (issue 10).

Existing rows keep their hashes, converted (``bytes.fromhex``): the hash of a row is
computed over the previous hash in hex, as before, so the chain verifies across the change.
The append-only trigger is lifted for the conversion only: on PostgreSQL the column changes
type in one ``ALTER TABLE`` (``decode(..., 'hex')``, no UPDATE runs); on SQLite the table
is rebuilt with BLOB columns, the values converted, and the triggers put back at the end of
``migrate`` (:func:`yibao.core.integrity.ensure_triggers`), as after any rebuild.
"""

from django.db import migrations, models

from yibao.core.integrity import ensure_triggers

COLUMNS = ("prev_hash", "row_hash")
CHUNK = 2000


def _field(model, column, *, binary):
    field = (
        models.BinaryField(blank=True, null=True)
        if binary
        else models.CharField(blank=True, max_length=64, null=True)
    )
    field.set_attributes_from_name(column)
    field.model = model
    return field


def _convert(apps, schema_editor, *, to_bytes):
    connection = schema_editor.connection
    AuditLog = apps.get_model("core", "AuditLog")
    quote = schema_editor.quote_name
    if connection.vendor == "postgresql":
        kind, using = (
            ("bytea", "decode({}, 'hex')") if to_bytes else ("varchar(64)", "encode({}, 'hex')")
        )
        schema_editor.execute(
            "ALTER TABLE core_auditlog "
            + ", ".join(
                f"ALTER COLUMN {quote(c)} TYPE {kind} USING {using.format(quote(c))}"
                for c in COLUMNS
            )
        )
        return
    # SQLite: rebuild the table with the new column types (values copied as they are),
    # then convert them row by row with the update trigger lifted.
    for column in COLUMNS:
        old = _field(AuditLog, column, binary=not to_bytes)
        schema_editor.alter_field(AuditLog, old, _field(AuditLog, column, binary=to_bytes))
    with connection.cursor() as cursor:
        for kind in ("update", "delete", "replace"):
            cursor.execute(f"DROP TRIGGER IF EXISTS core_auditlog_no_{kind}")
        last = 0
        while True:
            cursor.execute(
                "SELECT id, prev_hash, row_hash FROM core_auditlog WHERE id > %s ORDER BY id LIMIT %s",
                [last, CHUNK],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            changed = []
            for pk, *values in rows:
                if to_bytes:
                    new_values = [bytes.fromhex(v) if isinstance(v, str) else v for v in values]
                else:
                    new_values = [
                        bytes(v).hex() if isinstance(v, bytes | memoryview) else v for v in values
                    ]
                changed.append([*new_values, pk])
            cursor.executemany(
                "UPDATE core_auditlog SET prev_hash = %s, row_hash = %s WHERE id = %s", changed
            )
    ensure_triggers(connection)


def to_bytes(apps, schema_editor):
    _convert(apps, schema_editor, to_bytes=True)


def to_hex(apps, schema_editor):
    _convert(apps, schema_editor, to_bytes=False)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_audit_compact_utf8_few_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(to_bytes, to_hex)],
            state_operations=[
                migrations.AlterField(
                    model_name="auditlog",
                    name="prev_hash",
                    field=models.BinaryField(blank=True, null=True, verbose_name="前一条哈希"),
                ),
                migrations.AlterField(
                    model_name="auditlog",
                    name="row_hash",
                    field=models.BinaryField(blank=True, null=True, verbose_name="本条哈希"),
                ),
            ],
        ),
    ]
