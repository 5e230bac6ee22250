"""ORM queries compiled to SQL once per process, then run with new parameters.

A payment over HTTP runs the same dozen short queries every time, and Django spends more
time turning each queryset into SQL (about a millisecond) than the database spends answering
it. :class:`Prepared` lets the ORM write the SQL once, from a queryset built with marker
values in place of the arguments, and afterwards runs that SQL with the call's arguments
through the ORM's own compiler state, so rows still come back as model objects (with their
``select_related`` objects) or as ``values_list`` tuples, converted as the ORM converts them.

Arguments are ints, strings and dates (compared with a date column), or lists of one of
them (``__in`` lists, lengthened to a power of two: one compiled form per such length); every
other value of the query is part of it. The SQL differs by database vendor and is kept per
vendor; the compiled form never holds a connection (each thread uses its own).

On PostgreSQL the SQL is also prepared on the server (``PREPARE``, once per connection and
form, then ``EXECUTE`` with the call's values): the server then plans it once instead of at
every call, which for a person with their villages cost seven times the query itself.
Connections go straight to PostgreSQL (a pooler in transaction mode would not keep a
connection's prepared statements). :func:`together` sends several queries in one round trip.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import re
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

Scalar = int | str | dt.date
Argument = Scalar | Sequence[Scalar]
# Markers: values no real argument takes, in the range of a small integer column.
_INT_MARKERS = range(32_101, 32_700)
_DATE_MARKERS = dt.date(1111, 1, 1)
_MAX_FORMS = 64


def _kind(value: Any) -> type:
    if isinstance(value, bool | dt.datetime):
        raise TypeError("Prepared：参数须为整数、字符串或日期")
    for kind in (int, str, dt.date):
        if isinstance(value, kind):
            return kind
    raise TypeError("Prepared：参数须为整数、字符串或日期")


def _marker(kind: type, index: int) -> Any:
    """A value of ``kind`` that no real argument takes (a small integer column holds it)."""
    if kind is int:
        return _INT_MARKERS[index]
    if kind is str:
        return f"\x1fprepared{index}\x1f"
    return _DATE_MARKERS + dt.timedelta(days=index)


class _Form:
    """One compiled form: the compiler after ``as_sql`` and where each argument goes; on
    PostgreSQL also the statement's name and text for ``PREPARE``."""

    __slots__ = ("compiler", "converters", "name", "prepare", "queryset", "slots", "sql")

    def __init__(self, queryset: QuerySet[Any], compiler: Any, sql: str, slots: list[Any]):
        self.queryset, self.compiler, self.sql, self.slots = queryset, compiler, sql, slots
        self.name = self.prepare = ""
        if compiler.connection.vendor == "postgresql":
            self.name = "yibao_" + hashlib.sha1(sql.encode()).hexdigest()[:20]
            numbers = itertools.count(1)
            text = _PLACEHOLDER.sub(
                lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql
            )
            self.prepare = f"PREPARE {self.name} AS {text}"
        # The columns' converters (text to Decimal, date, aware datetime): the same each call.
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(fields)
        compiler.connection = None  # a form is shared by threads: each call uses its own


_PLACEHOLDER = re.compile(r"%%|%s")


def _padded(arg: Argument) -> Argument:
    """A list argument (an ``__in`` list) lengthened to a power of two by repeating its last
    value, which changes no answer: a query has a handful of compiled forms (and, on
    PostgreSQL, of prepared statements per connection) instead of one per length."""
    if isinstance(arg, int | str | dt.date):
        return arg
    values = list(arg)
    if not values:
        return values
    size = 1 << (len(values) - 1).bit_length()
    return values + [values[-1]] * (size - len(values))


_FRESH: set[str] = set()


def _prepared_names(connection: Any) -> set[str]:
    """The names of the statements prepared on this connection (a statement lasts as long
    as the connection, whatever becomes of the transaction that prepared it). Read from the
    server only after a text that prepared some failed, when which of them ran is unknown."""
    driver = connection.connection
    names: set[str] | None = getattr(driver, "yibao_prepared", _FRESH)
    if names is _FRESH:
        names = driver.yibao_prepared = set()
    elif names is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements")
            names = driver.yibao_prepared = {name for (name,) in cursor.fetchall()}
    return names


def _fetch(connection: Any, queries: Sequence[Bound]) -> dict[int, list[Any]]:
    """PostgreSQL: the rows of each of ``queries`` (by ``id``), all sent as one text: each
    ``EXECUTE``, preceded the first time on this connection by its ``PREPARE``."""
    connection.ensure_connection()
    names = _prepared_names(connection)
    preparing: set[str] = set()
    parts: list[tuple[str, Bound | None]] = []
    with connection.cursor() as cursor:
        driver = cursor.cursor
        for bound in queries:
            if bound.name not in names and bound.name not in preparing:
                preparing.add(bound.name)
                parts.append((bound.prepare, None))
            parts.append((driver.mogrify(bound.sql, bound.params), bound))
        try:
            cursor.execute(";\n".join(text for text, _ in parts))
            fetched: dict[int, list[Any]] = {}
            for index, (_, bound) in enumerate(parts):
                if index:
                    driver.nextset()
                if bound is not None:
                    fetched[id(bound)] = driver.fetchall()
        except BaseException:
            if preparing:
                connection.connection.yibao_prepared = None  # which ran is unknown
            raise
    names |= preparing
    return fetched


def _shape(args: Sequence[Argument]) -> tuple[Any, ...]:
    shape: list[Any] = []
    for arg in args:
        if isinstance(arg, int | str | dt.date):
            shape.append(_kind(arg))
        else:
            values = list(arg)
            kinds = {_kind(v) for v in values}
            if len(kinds) > 1:
                raise TypeError("Prepared：列表参数须为同一类型")
            shape.append((kinds.pop() if kinds else int, len(values)))
    return tuple(shape)


def _flat(args: Sequence[Argument], connection: Any) -> list[Any]:
    """The arguments in order, as the database driver takes them."""
    flat: list[Any] = []
    for arg in args:
        flat.extend([arg] if isinstance(arg, int | str | dt.date) else arg)
    adapt = connection.ops.adapt_datefield_value
    return [adapt(v) if isinstance(v, dt.date) else v for v in flat]


class Prepared(Generic[M]):
    """``Prepared(lambda person_id: Model.objects.filter(person_id=person_id))``, then
    ``prepared(5)`` is the list of that queryset's results for 5, compiled once."""

    def __init__(self, build: Callable[..., QuerySet[M]]):
        self.build = build
        self._forms: dict[tuple[Any, ...], _Form] = {}

    def _compile(self, shape: tuple[Any, ...], using: str) -> _Form:
        markers: list[Any] = []
        marked: list[Any] = []
        for kind in shape:
            count = 1 if not isinstance(kind, tuple) else kind[1]
            base = kind if not isinstance(kind, tuple) else kind[0]
            values = [_marker(base, len(markers) + i) for i in range(count)]
            markers.extend(values)
            marked.append(values[0] if not isinstance(kind, tuple) else values)
        queryset = self.build(*marked)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        adapted = _flat(markers, compiler.connection)
        position = {m: i for i, m in enumerate(adapted)}
        slots: list[Any] = []
        seen: set[int] = set()
        for param in params:
            index = position.get(param) if isinstance(param, int | str | dt.date) else None
            if index is not None and isinstance(param, type(adapted[index])):
                # The ORM may wrap a value for the driver (psycopg's Int2 for a small
                # integer column): the call's argument is wrapped the same way.
                wrap = None if type(param) is type(adapted[index]) else type(param)
                slots.append((index, wrap))
                seen.add(index)
            else:
                slots.append((None, param))  # a value of the query itself
        if len(seen) != len(markers):
            raise ValueError("Prepared：查询未把每个参数原样传给数据库，不能预编译")
        return _Form(queryset, compiler, sql, slots)

    def __call__(self, *args: Argument, using: str = DEFAULT_DB_ALIAS) -> list[Any]:
        return self.bind(*args, using=using).run()

    def bind(self, *args: Argument, using: str = DEFAULT_DB_ALIAS) -> Bound:
        """The query for ``args``, to run now (:meth:`Bound.run`) or with others in one
        round trip (:func:`together`)."""
        connection = connections[using]
        args = tuple(_padded(arg) for arg in args)
        shape = _shape(args)
        if any(isinstance(kind, tuple) and kind[1] == 0 for kind in shape):
            # An empty list: the ORM answers without a query.
            return Bound(self.build(*args), None, "", (), None)
        key = (connection.vendor, using, shape)
        form = self._forms.get(key)
        if form is None:
            if len(self._forms) >= _MAX_FORMS:
                self._forms.clear()
            form = self._forms[key] = self._compile(shape, using)
        flat = _flat(args, connection)
        values: list[Any] = []
        for index, extra in form.slots:  # (None, a value of the query) or (argument, wrapper)
            if index is None:
                values.append(extra)
            else:
                values.append(flat[index] if extra is None else extra(flat[index]))
        params = tuple(values)
        sql = form.sql
        if form.name:
            # PostgreSQL plans a statement it was given as text every time (for the joins of
            # a person with their villages, seven times longer than it runs it); a prepared
            # statement is planned once per connection.
            marks = ", ".join(["%s"] * len(params))
            sql = f"EXECUTE {form.name}({marks})" if params else f"EXECUTE {form.name}"
        compiler = copy.copy(form.compiler)
        compiler.connection = connection
        compiler.as_sql = lambda *_, **__: (sql, params)
        converters = form.converters
        compiler.get_converters = lambda _: converters
        queryset = form.queryset._chain()
        queryset.query.get_compiler = lambda *_, **__: compiler  # type: ignore[method-assign]
        return Bound(queryset, compiler, sql, params, form)


class Bound:
    """A prepared query with its arguments: its SQL and how its rows become results."""

    __slots__ = ("compiler", "name", "params", "prepare", "queryset", "sql")

    def __init__(
        self,
        queryset: QuerySet[Any],
        compiler: Any,
        sql: str,
        params: tuple[Any, ...],
        form: _Form | None,
    ):
        self.queryset, self.compiler, self.sql, self.params = queryset, compiler, sql, params
        self.name = form.name if form is not None else ""
        self.prepare = form.prepare if form is not None else ""

    def run(self) -> list[Any]:
        if self.name:
            return self.results(_fetch(self.compiler.connection, [self])[id(self)])
        return list(self.queryset)  # evaluated here: a chained filter would not reach the SQL

    def results(self, rows: list[Any]) -> list[Any]:
        """The results of rows fetched already, as the ORM makes them: its iterable, handed
        the rows instead of a cursor."""
        compiler = self.compiler
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        compiler.execute_sql = lambda *_, **__: [rows]
        return list(self.queryset)


def together(
    reads: dict[str, Sequence[Bound]], using: str = DEFAULT_DB_ALIAS
) -> dict[str, list[Any]]:
    """Run every query of ``reads`` (name: the queries, each :meth:`Prepared.bind`'s) and give
    each name the results of its queries, in order, one list.

    PostgreSQL: all of them in one round trip, as one text of statements (the simple
    protocol runs each statement with its own snapshot, in order). Elsewhere, one after the
    other."""
    connection = connections[using]
    queries = [bound for bounds in reads.values() for bound in bounds if bound.name]
    fetched = _fetch(connection, queries) if queries else {}
    answers: dict[str, list[Any]] = {}
    for name, bounds in reads.items():
        answers[name] = []
        for bound in bounds:
            rows = fetched.get(id(bound))
            answers[name].extend(bound.run() if rows is None else bound.results(rows))
    return answers
