"""Two helpers for writing rows as sets: ids reserved before the insert, and fresh planner
statistics on PostgreSQL after a bulk phase."""

from __future__ import annotations

from typing import Any

from django.db import connection

# PostgreSQL plans from statistics gathered when a table was small: after this many new rows
# in one transaction a lookup may walk an index it should not. ANALYZE counts the rows the
# running transaction inserted.
ANALYZE_ROWS = 5_000


def reserve_ids(model: Any, count: int) -> list[int]:
    """``count`` primary keys for new rows of ``model``, taken before the insert so that
    rows pointing at each other (a household and its head) are written in one pass.

    PostgreSQL takes them from the table's sequence. SQLite has no sequence to draw from:
    the ids follow the largest used (or AUTOINCREMENT's record of it), which is safe because
    every write transaction holds the database's write lock (IMMEDIATE) until it commits.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        if not connection.in_atomic_block:
            raise RuntimeError("reserve_ids needs the transaction that inserts the rows")
        quoted = connection.ops.quote_name(table)
        cursor.execute(
            f"SELECT max(coalesce((SELECT max(id) FROM {quoted}), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        last = int(cursor.fetchone()[0])
    return list(range(last + 1, last + 1 + count))


def analyze(*models: Any) -> None:
    """Refresh PostgreSQL's statistics of ``models``' tables (nothing on SQLite, whose
    planner needs none for these lookups)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
