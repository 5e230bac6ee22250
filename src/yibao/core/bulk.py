"""Two helpers for writing rows as sets: ids reserved before the insert, and fresh planner
statistics on PostgreSQL after a bulk phase."""

from __future__ import annotations

from typing import Any

from django.db import connection

# PostgreSQL plans from statistics gathered when a table was small: after this many new rows
# in one transaction a lookup may walk an index it should not. ANALYZE counts the rows the
# running transaction inserted.
ANALYZE_ROWS = 5_000


def reserve_ids(*wanted: tuple[Any, int]) -> list[list[int]]:
    """For each ``(model, count)``, ``count`` primary keys for new rows of ``model``, taken
    in one statement before the insert, so that rows pointing at each other (a household
    and its head) are written in one pass.

    PostgreSQL takes them from the tables' sequences. SQLite has no sequence to draw from:
    the ids follow the largest used (or AUTOINCREMENT's record of it), which is safe because
    every write transaction holds the database's write lock (IMMEDIATE) until it commits.
    """
    if not any(count > 0 for _, count in wanted):
        return [[] for _ in wanted]
    tables = [model._meta.db_table for model, _ in wanted]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = ", ".join(
                "ARRAY(SELECT nextval(pg_get_serial_sequence(%s, 'id')) "
                "FROM generate_series(1, %s))"
                for _ in wanted
            )
            params: list[Any] = []
            for table, (_, count) in zip(tables, wanted, strict=True):
                params += [table, count]
            cursor.execute(f"SELECT {columns}", params)
            return [list(ids) for ids in cursor.fetchone()]
        if not connection.in_atomic_block:
            raise RuntimeError("reserve_ids needs the transaction that inserts the rows")
        quote = connection.ops.quote_name
        columns = ", ".join(
            f"max(coalesce((SELECT max(id) FROM {quote(table)}), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))"
            for table in tables
        )
        cursor.execute(f"SELECT {columns}", tables)
        lasts = [int(last) for last in cursor.fetchone()]
    return [
        list(range(last + 1, last + 1 + count))
        for last, (_, count) in zip(lasts, wanted, strict=True)
    ]


def analyze(*models: Any) -> None:
    """Refresh PostgreSQL's statistics of ``models``' tables (nothing on SQLite, whose
    planner needs none for these lookups)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
