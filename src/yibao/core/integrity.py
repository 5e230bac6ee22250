"""Database triggers that keep money and the audit trail append-only, whatever the client.

Payments (reversals are payments too), cash remittances and the audit log refuse UPDATE and
DELETE on PostgreSQL and SQLite. SQLite's ``INSERT OR REPLACE`` (and ``REPLACE``, and an
UPSERT) deletes a conflicting row without firing DELETE triggers, so on SQLite a BEFORE
INSERT trigger also refuses a row that would collide with an existing one on any unique
column. PostgreSQL has no REPLACE; its ``ON CONFLICT DO UPDATE`` fires the UPDATE trigger.
TRUNCATE is a separate privilege left to the database owner (the test runner's flush uses
it); production roles should not hold it.

:func:`ensure_triggers` is idempotent; it runs in migration 0003 and after every
``migrate`` (a table rebuilt by a later SQLite migration loses its triggers).
"""

from __future__ import annotations

from typing import Any

# table -> the unique columns (and column groups, with a condition) a REPLACE would clash on
APPEND_ONLY: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "core_auditlog": [(("id",), "")],
    "collection_payment": [
        (("id",), ""),
        (("receipt_number",), ""),
        (("idempotency_key",), ""),
        (("reverses_id",), ""),
        (("enrollment_id", "slot"), "reverses_id IS NULL"),
    ],
    "collection_remittance": [(("id",), ""), (("slip_number",), "")],
}
MESSAGE = "只能追加，不能修改、删除或覆盖 (append-only)"


def _sqlite_clash(table: str) -> str:
    tests = []
    for columns, condition in APPEND_ONLY[table]:
        match = " AND ".join(f"t.{c} = NEW.{c}" for c in columns)
        present = " AND ".join(f"NEW.{c} IS NOT NULL" for c in columns)
        where = f"{match} AND t.{condition}" if condition else match
        if condition:  # the partial unique constraint applies to the new row the same way
            present += " AND NEW." + condition
        tests.append(f"({present} AND EXISTS (SELECT 1 FROM {table} t WHERE {where}))")
    return " OR ".join(tests)


def sqlite_statements(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} {MESSAGE}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} {MESSAGE}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN {_sqlite_clash(table)} "
        f"BEGIN SELECT RAISE(ABORT, '{table} {MESSAGE}'); END",
    ]


def sqlite_drop_statements(table: str) -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {table}_no_{kind}" for kind in ("update", "delete", "replace")]


POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION yibao_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% {MESSAGE}', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql
"""


def postgres_statements(table: str) -> list[str]:
    statements = []
    for kind in ("update", "delete"):
        name = f"{table}_no_{kind}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} BEFORE {kind.upper()} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION yibao_append_only()",
        ]
    return statements


def _tables(connection: Any) -> set[str]:
    return set(connection.introspection.table_names())


def ensure_triggers(connection: Any) -> None:
    """Create (or re-create) the append-only triggers on every table that exists."""
    present = _tables(connection) & set(APPEND_ONLY)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for table in sorted(present):
                for sql in sqlite_statements(table):
                    cursor.execute(sql)
        elif connection.vendor == "postgresql" and present:
            cursor.execute(POSTGRES_FUNCTION)
            for table in sorted(present):
                for sql in postgres_statements(table):
                    cursor.execute(sql)


def triggers_present(connection: Any) -> dict[str, bool]:
    """For ``yibao audit verify``: whether each append-only table has its triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            )
        names = {row[0] for row in cursor.fetchall()}
    wanted = (
        ("update", "delete", "replace") if connection.vendor == "sqlite" else ("update", "delete")
    )
    return {table: all(f"{table}_no_{kind}" in names for kind in wanted) for table in APPEND_ONLY}
