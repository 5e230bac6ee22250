"""Queries compiled once (yibao.core.prepared): the same rows as the ORM, no second compile."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import DataError, connection, transaction
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from yibao.collection.models import Enrollment
from yibao.collection.services import enrollment_create
from yibao.core.prepared import Prepared, together
from yibao.funds.models import DailyClose
from yibao.registry.models import IdentityTag, Person

from . import factories as f

PERSONS = Prepared(
    lambda ids: (
        Person.objects.select_related("hukou_village__township").filter(pk__in=ids).order_by("pk")
    )
)
ENROLLED = Prepared(
    lambda person_id, year: Enrollment.objects.filter(
        person_id=person_id, benefit_year=year
    ).values_list("tier", "policy_id")
)
TAGS_NAMED = Prepared(
    lambda person_id, key: IdentityTag.objects.filter(
        person_id=person_id, category_key=key, valid_from__isnull=True
    ).values_list("category_key", flat=True)
)


def compiles():
    return mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql)


def test_a_prepared_query_answers_as_the_orm_for_each_call(town):
    people = [f.person(town.sanhe, name=f"居民{i}") for i in range(4)]
    for wanted in ([people[0].pk], [people[3].pk, people[1].pk], [people[2].pk, 10**9]):
        got = list(PERSONS(wanted))
        assert [p.pk for p in got] == sorted(pk for pk in wanted if pk < 10**9)
        assert [p.name for p in got] == [Person.objects.get(pk=p.pk).name for p in got]


def test_select_related_objects_come_with_the_rows(town):
    person = f.person(town.dashan)
    list(PERSONS([person.pk]))  # compiled
    with CaptureQueriesContext(connection) as captured:
        [again] = PERSONS([person.pk])
        assert again.hukou_village.township.name == town.township.name
    assert len(captured.captured_queries) == 1


def test_a_second_call_compiles_nothing(town):
    person = f.person(town.sanhe)
    enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=2)
    assert list(ENROLLED(person.pk, 2023)) == [(2, f.POLICY)]
    with compiles() as compiled:
        assert list(ENROLLED(person.pk, 2023)) == [(2, f.POLICY)]
        assert list(ENROLLED(person.pk, 2024)) == []
    assert compiled.call_count == 0


def test_strings_and_values_of_the_query_itself(town):
    person = f.person(town.sanhe)
    f.tag(person, "低保对象")
    assert list(TAGS_NAMED(person.pk, "低保对象")) == ["低保对象"]
    assert list(TAGS_NAMED(person.pk, "特困人员")) == []


def test_dates_are_arguments_as_the_column_takes_them(town):
    closed = Prepared(
        lambda collector_id, days: DailyClose.objects.filter(
            collector_id=collector_id, day__in=days
        ).values_list("day", flat=True)
    )
    collector = town.sanhe_collector.staff
    DailyClose.objects.create(
        collector=collector,
        day=dt.date(2022, 12, 1),
        held_opening=0,
        cash_count=0,
        cash_taken=0,
        zero_declarations=0,
        reversal_count=0,
        reversed_cash=0,
        remitted=0,
        held=0,
        closed_by=town.sanhe_collector,
        closed_at=f.aware(dt.date(2022, 12, 1), 18),
    )
    assert list(closed(collector.pk, [dt.date(2022, 12, 1)])) == [dt.date(2022, 12, 1)]
    assert list(closed(collector.pk, [dt.date(2022, 12, 2)])) == []


def test_an_empty_list_asks_nothing(town):
    with CaptureQueriesContext(connection) as captured:
        assert list(PERSONS([])) == []
    assert captured.captured_queries == []


def test_a_query_that_changes_its_argument_is_refused(db):
    named = Prepared(lambda name: Person.objects.filter(name__contains=name))
    with pytest.raises(ValueError):
        named("张")


def test_arguments_are_ints_strings_or_dates(db):
    with pytest.raises(TypeError):
        PERSONS([1.5])
    with pytest.raises(TypeError):
        ENROLLED(True, 2023)


def test_queries_run_together_answer_as_each_alone(town):
    people = [f.person(town.sanhe, name=f"居民{i}") for i in range(3)]
    f.tag(people[1], "低保对象")
    ids = [p.pk for p in people]
    alone = {
        "persons": list(PERSONS(ids)),
        "enrolled": list(ENROLLED(ids[0], 2023)),
        "tags": list(TAGS_NAMED(ids[1], "低保对象")),
    }
    with CaptureQueriesContext(connection) as captured:
        read = together(
            {
                "persons": [PERSONS.bind(ids[:2]), PERSONS.bind(ids[2:])],
                "enrolled": [ENROLLED.bind(ids[0], 2023)],
                "tags": [TAGS_NAMED.bind(ids[1], "低保对象")],
                "none": [PERSONS.bind([])],
            }
        )
    assert [p.pk for p in read["persons"]] == [p.pk for p in alone["persons"]]
    assert read["persons"][0].hukou_village.township.name == town.township.name
    assert read["enrolled"] == alone["enrolled"] == []
    assert read["tags"] == alone["tags"] == ["低保对象"]
    assert read["none"] == []
    expected = 1 if connection.vendor == "postgresql" else 4  # one round trip on PostgreSQL
    assert len(captured.captured_queries) == expected


def test_a_list_argument_is_lengthened_to_a_power_of_two_without_changing_the_answer(town):
    people = [f.person(town.sanhe, name=f"居民{i}") for i in range(3)]
    ids = [p.pk for p in people]
    assert [p.pk for p in PERSONS(ids)] == sorted(ids)  # asked as four ids, the last twice
    with compiles() as compiled:
        assert [p.pk for p in PERSONS(ids[:1] + ids[2:] + [10**9])] == sorted([ids[0], ids[2]])
    assert compiled.call_count == 0  # three and four ids share the form of four


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_a_failed_text_that_prepared_statements_leaves_the_connection_usable(town):
    person = f.person(town.sanhe, name="王一")
    # A query of its own: not prepared on this connection before.
    fresh = Prepared(
        lambda pk: Person.objects.filter(pk=pk).values_list("name", "sex", "phone", "status")
    )
    good = fresh.bind(person.pk)
    bad = PERSONS.bind([person.pk])
    bad.sql, bad.params = "SELECT 1 / 0", ()
    with pytest.raises(DataError), transaction.atomic():
        together({"good": [good], "bad": [bad]})
    # The server kept the statement prepared in the failed text; the next call finds it.
    assert [row[0] for row in fresh(person.pk)] == ["王一"]
    assert [row[0] for row in fresh(person.pk)] == ["王一"]
