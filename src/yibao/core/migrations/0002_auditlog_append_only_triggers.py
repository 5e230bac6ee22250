"""Database triggers that make the audit table append-only, whatever the client.

PostgreSQL: row-level BEFORE UPDATE/DELETE triggers raise. (TRUNCATE is a separate privilege
and is left to the database owner; production roles should not hold it.)
SQLite: BEFORE UPDATE/DELETE triggers RAISE(ABORT).
"""

from django.db import migrations

TABLE = "core_auditlog"

POSTGRES_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '审计日志只能追加，不能修改或删除 (audit log is append-only)'
            USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
    """,
]
POSTGRES_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update ON {TABLE}",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete ON {TABLE}",
    f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
]

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能修改 (audit log is append-only)'); END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能删除 (audit log is append-only)'); END
    """,
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
]

STATEMENTS = {
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def forward(apps, schema_editor):
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[0]:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    for sql in STATEMENTS.get(schema_editor.connection.vendor, ([], []))[1]:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
