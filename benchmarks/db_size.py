"""Bytes per paid person in a yibao database, per table (indexes included).

Not a test. Reads the database ``DATABASE_URL`` names, or the SQLite file of
``YIBAO_DATA_DIR`` (``yibao.sqlite3``), for example the demo township:

    rm -rf /tmp/d && YIBAO_DATA_DIR=/tmp/d .venv/bin/yibao demo --no-serve
    YIBAO_DATA_DIR=/tmp/d .venv/bin/python benchmarks/db_size.py

SQLite: the file's pages after a checkpoint, split per table with the ``dbstat`` virtual
table. PostgreSQL: ``pg_total_relation_size`` per table and ``pg_database_size``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def sqlite_sizes(path: Path) -> tuple[int, dict[str, int]]:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    total = conn.execute("PRAGMA page_count").fetchone()[0] * page
    owners = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE name IS NOT NULL"))
    sizes: dict[str, int] = {}
    for name, pages in conn.execute("SELECT name, count(*) FROM dbstat GROUP BY name"):
        table = owners.get(name, name)
        sizes[table] = sizes.get(table, 0) + pages * page
    conn.close()
    return total, sizes


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    import django

    django.setup()
    from django.db import connection

    from yibao.collection.selectors import live_payments

    paid = live_payments().values("enrollment__person_id").distinct().count()
    if connection.vendor == "sqlite":
        total, sizes = sqlite_sizes(Path(connection.settings_dict["NAME"]))
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            total = cursor.fetchone()[0]
            cursor.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            )
            sizes = dict(cursor.fetchall())
    print(f"数据库：{connection.vendor}，共 {total / 1e6:.1f} MB；有效缴费的参保人 {paid} 人")
    print(f"每名已缴费参保人：{total / max(paid, 1):,.0f} 字节")
    for table, size in sorted(sizes.items(), key=lambda item: -item[1])[:10]:
        print(f"  {table:<32}{size / 1e6:>8.2f} MB{size / max(paid, 1):>10,.0f} 字节/人")
    return 0


if __name__ == "__main__":
    sys.exit(main())
