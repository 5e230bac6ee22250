"""Helpers for writing rows as sets: ids reserved before the insert, rows inserted without
model objects (``executemany`` on SQLite, ``COPY`` on PostgreSQL), and fresh planner
statistics on PostgreSQL after a bulk phase."""

from __future__ import annotations

import gc
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

# PostgreSQL plans from statistics gathered when a table was small: after this many new rows
# in one transaction a lookup may walk an index it should not. ANALYZE counts the rows the
# running transaction inserted.
ANALYZE_ROWS = 5_000


class JSONText(str):
    """A JSONField's value already dumped to JSON text: :func:`insert_rows` stores it as it
    is (the audit trail dumps each entry once, for its hash and for the row)."""


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a batch builds its rows: a batch keeps
    every row alive until it is written, so each collection walks them all and frees
    nothing (a fifth of the CPU time of a 20,000-row import went to it). Reference counting
    still frees everything else; the collector resumes at the end."""
    if not gc.isenabled():  # paused by an enclosing batch (or by the host)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_SEQUENCES: dict[tuple[str, str], str] = {}


def _sequence(cursor: Any, table: str) -> str:
    """The sequence of ``table``'s ``id`` (PostgreSQL), looked up once per database."""
    key = (str(connection.settings_dict["NAME"]), table)
    name = _SEQUENCES.get(key)
    if name is None:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        name = _SEQUENCES[key] = cursor.fetchone()[0]
    return name


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
            # Each table's sequence by name: pg_get_serial_sequence() inside the query would be
            # evaluated once per id, which cost eight times the nextval itself.
            columns = ", ".join(
                "ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s))" for _ in wanted
            )
            params: list[Any] = []
            for table, (_, count) in zip(tables, wanted, strict=True):
                params += [_sequence(cursor, table), count]
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


# PostgreSQL: up to this many rows go in one INSERT (one round trip), more by COPY (two, and
# faster per row).
INSERT_ROWS = 64

# SQLite's IN lists: a few hundred values each (its limit is 32,766 variables; larger lists
# gain nothing measurable).
IN_CHUNK = 500


def present(model: Any, field: str, values: Iterable[Any]) -> set[Any]:
    """Which of ``values`` ``model``'s column ``field`` already holds: for checking a batch's
    unique keys before writing it, without building model objects. PostgreSQL: one
    statement (``= ANY`` of an array); SQLite: ``IN`` lists of :data:`IN_CHUNK` values."""
    wanted = sorted(set(values))
    if not wanted:
        return set()
    meta = model._meta
    quote = connection.ops.quote_name
    column = quote(meta.get_field(field).column)
    sql = f"SELECT {column} FROM {quote(meta.db_table)} WHERE {column} "
    found: set[Any] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(sql + "= ANY(%s)", [wanted])
            found.update(value for (value,) in cursor.fetchall())
            return found
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            cursor.execute(sql + f"IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(value for (value,) in cursor.fetchall())
    return found


def analyze(*models: Any) -> None:
    """Refresh PostgreSQL's statistics of ``models``' tables (nothing on SQLite, whose
    planner needs none for these lookups)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# A table grown by this many rows, or by a tenth of the rows it had when last analysed
# (whichever is more), since this process last analysed it is analysed again.
GROWTH_ROWS = 1_000
_GROWTH: dict[tuple[str, str], list[float]] = {}
_GROWTH_LOCK = threading.Lock()


def analyze_when_grown(model: Any, added: int) -> None:
    """PostgreSQL: count ``added`` new rows of ``model``'s table, and once the table has grown
    by :data:`GROWTH_ROWS` or a tenth since this process last analysed it, ``ANALYZE`` it
    after the running transaction commits.

    The application's statements are prepared once per connection with a generic plan
    (:mod:`yibao.core.prepared`). A plan made while the table was empty scans it whole, and
    stays until new statistics invalidate it: on a fresh campaign's enrollments and payments
    that took each payment group's reads from 0.1 to 2-4 ms of the server's time per
    statement within a minute, before autovacuum's first pass. Small writes add up here
    (payments over HTTP come a few at a time); bulk phases call :func:`analyze` themselves.
    """
    if connection.vendor != "postgresql" or added <= 0:
        return
    table = model._meta.db_table
    key = (str(connection.settings_dict["NAME"]), table)
    with _GROWTH_LOCK:
        state = _GROWTH.setdefault(key, [0, GROWTH_ROWS])
        state[0] += added
        if state[0] < state[1]:
            return
        state[0] = 0

    def refresh() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            (rows,) = cursor.fetchone()
        with _GROWTH_LOCK:
            _GROWTH[key][1] = max(GROWTH_ROWS, float(rows) / 10)

    transaction.on_commit(refresh)


def _adapter(field: Any, *, binary: bool = False) -> Callable[[Any], Any] | None:
    """How a Python value of ``field`` goes to the database driver, or None when as it is.
    ``binary``: for PostgreSQL's binary ``COPY``, where a JSON value goes as jsonb's binary
    form, a version byte (1) and the JSON text in UTF-8."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        encoder = field.encoder

        def text(value: Any) -> str:
            if type(value) is JSONText:
                return str(value)
            if value == [] or value == {}:
                return "[]" if isinstance(value, list) else "{}"
            return json.dumps(value, cls=encoder, ensure_ascii=False)

        if binary:

            def jsonb(value: Any) -> Any:
                return None if value is None else b"\x01" + text(value).encode()

            return jsonb

        def dump(value: Any) -> Any:
            return None if value is None else text(value)

        return dump
    if connection.vendor == "sqlite" and kind == "DateTimeField":
        adapt = connection.ops.adapt_datetimefield_value
        last: list[Any] = [None, None]  # a batch's rows share their timestamp: adapt it once

        def stamp(value: Any) -> Any:
            if value is not last[0]:
                last[:] = [value, adapt(value)]
            return last[1]

        return stamp
    if connection.vendor == "sqlite" and kind == "DateField":
        return connection.ops.adapt_datefield_value
    return None


# bytea's binary form is the bytes themselves: psycopg's dumper for it passes the jsonb
# values made by _adapter through unchanged.
_BYTEA = 17
_COLUMN_TYPES: dict[tuple[str, str], dict[str, int]] = {}


def _copy_types(cursor: Any, table: str, columns: Sequence[Any]) -> list[int]:
    """The type (oid) of each of ``columns`` of ``table`` for a binary ``COPY`` (PostgreSQL):
    the table's own, read from the catalog once per database; jsonb's as bytea (see
    :func:`_adapter`)."""
    key = (str(connection.settings_dict["NAME"]), table)
    types = _COLUMN_TYPES.get(key)
    if types is None:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [table],
        )
        types = _COLUMN_TYPES[key] = dict(cursor.fetchall())
    return [
        _BYTEA if column.get_internal_type() == "JSONField" else types[column.column]
        for column in columns
    ]


def _pg_values(cursor: Any, marks: str, rows: Sequence[Sequence[Any]]) -> str:
    """PostgreSQL: the VALUES list of ``rows`` as SQL text, each row's literals made by the
    driver (``mogrify``, the client-side binding every query here uses) from one row's
    markers. psycopg re-parses the text of a query with more than 50 parameters at every
    execution (a group of eight payments: 152 for its enrollments), but keeps the parsed
    form of a shorter one, so a row's markers are parsed once per process; the statement
    itself goes without parameters."""
    mogrify = cursor.cursor.mogrify
    return ", ".join([mogrify(marks, row) for row in rows])


def insert_rows(model: Any, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` into ``model``'s table without building model objects: each row a
    tuple of Python values for ``fields`` (attnames, ``id`` included: take ids with
    :func:`reserve_ids`), as the fields hold them (aware datetimes, dates, JSON as data).
    ``executemany`` on SQLite; on PostgreSQL one INSERT up to :data:`INSERT_ROWS` rows, ``COPY``
    beyond. No defaults, ``auto_now`` or signals
    are applied, so the caller gives every column that needs a value. Returns the count.

    Use it inside the transaction that checked the rows; constraints and triggers apply as
    for any INSERT.
    """
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]

    def adapters_for(binary: bool) -> list[tuple[int, Callable[[Any], Any]]]:
        made = (_adapter(f, binary=binary) for f in columns)
        return [(i, a) for i, a in enumerate(made) if a is not None]

    adapters = adapters_for(False)

    def adapted(row: Sequence[Any]) -> Sequence[Any]:
        if not adapters:
            return row
        values = list(row)
        for i, adapt in adapters:
            values[i] = adapt(values[i])
        return values

    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    names = ", ".join(quote(f.column) for f in columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = iter(rows)
            first = list(itertools.islice(rows, INSERT_ROWS + 1))
            if len(first) <= INSERT_ROWS:
                # A few rows (a group of payments' audit entries): one INSERT is one round
                # trip, COPY two.
                if first:
                    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
                    cursor.execute(
                        f"INSERT INTO {table} ({names}) VALUES "
                        + _pg_values(cursor, marks, [adapted(row) for row in first])
                    )
                return len(first)
            # The driver's COPY, its errors translated as Django's cursor translates them (a
            # unique key taken meanwhile is an IntegrityError, which the callers catch). Binary:
            # psycopg's binary dumpers cost the client a third of its text formatting, and the
            # server parses no dates, timestamps or numbers.
            types = _copy_types(cursor, meta.db_table, columns)
            adapters = adapters_for(True)
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.set_types(types)
                for row in itertools.chain(first, rows):
                    copy.write_row(adapted(row))
                    count += 1
            return count
        values = [adapted(row) for row in rows]
        if values:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
        return len(values)


# Rows per INSERT ... RETURNING of insert_models (SQLite allows 32,766 bound values).
INSERT_MODELS_ROWS = 500
_INSERT_PLANS: dict[tuple[str, str], tuple[str, list[Any], list[Any]]] = {}


def insert_models(objs: Sequence[Any]) -> None:
    """Insert new model instances of one model, as ``bulk_create`` does (defaults as the
    instances hold them, ``auto_now``/``auto_now_add`` stamped, values prepared by their
    fields, the primary keys set from ``RETURNING``), without its query compiler: the
    statement's column list is made once per model and only its row markers per call, so a
    group of payments spends its time on the values, not on building the statement. Keys are
    matched to rows in ``RETURNING``'s order, as ``bulk_create`` matches them. No signals, as
    with ``bulk_create``."""
    if not objs:
        return
    meta = type(objs[0])._meta
    key = (connection.vendor, meta.label)
    plan = _INSERT_PLANS.get(key)
    if plan is None:
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        names = ", ".join(quote(f.column) for f in fields)
        stamped = [
            f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        plan = _INSERT_PLANS[key] = (
            f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ",
            fields,
            stamped,
        )
    head, fields, stamped = plan
    marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = f" RETURNING {connection.ops.quote_name(meta.pk.column)}"
    for obj in objs:
        for field in stamped:
            field.pre_save(obj, add=True)  # sets now() on the instance, as save() would
    with connection.cursor() as cursor:
        for start in range(0, len(objs), INSERT_MODELS_ROWS):
            chunk = objs[start : start + INSERT_MODELS_ROWS]
            rows = [
                [
                    field.get_db_prep_save(getattr(obj, field.attname), connection)
                    for field in fields
                ]
                for obj in chunk
            ]
            if connection.vendor == "postgresql":
                cursor.execute(head + _pg_values(cursor, marks, rows) + returning)
            else:
                values = [value for row in rows for value in row]
                cursor.execute(head + ", ".join([marks] * len(chunk)) + returning, values)
            ids = [row[0] for row in cursor.fetchall()]
            if len(ids) != len(chunk):
                raise AssertionError("one id per inserted row")
            for obj, pk in zip(chunk, ids, strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
