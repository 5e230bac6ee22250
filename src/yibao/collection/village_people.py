"""The should-enroll people per village (:class:`~yibao.collection.models.VillagePeople`):
kept, rebuilt, checked.

Every write path that adds a person or changes a fact a count depends on calls one of
three functions in its transaction, after the write: a person registered
(:func:`village_people_registered`, from ``person_register``, ``household_register`` and
the batch and import paths through ``_households_register``), a death
(:func:`village_people_died`, from ``person_mark_deceased``), other insurance
(:func:`village_people_insured_elsewhere`, from ``other_insurance_record``). A person's
household-register village is set when the person is registered and changed by no service;
a bulk writer that bypasses the services (the benchmark's raw inserts) calls
:func:`village_people_rebuild`.

Each call adds to or takes from a count, in one short statement: a death list or an
employee list of a thousand rows pays a thousand of those, not a thousand recounts of a
village. The counts stay exact with writers at once: additions and subtractions commute
(each holds its count row's lock to the end of its transaction), a new person can be
neither dead nor insured elsewhere before they are committed, and a death and other
insurance of one person are decided under that person's lock (both services take it), so
that the second sees the first and a person leaves a count once. Each path calls last in its
transaction, after its audit entry: every writer takes the audit chain's lock before a
count's row, so two of them never wait on each other in a circle."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Count

from yibao.core.bulk import analyze
from yibao.registry.models import OtherInsurance, Person

from .hardship import hardship_years, heal_kept_years
from .models import VillagePeople

CHUNK = 500  # villages per statement (SQLite's limit on query parameters)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        name: quote(model._meta.db_table)
        for name, model in (("kept", VillagePeople), ("person", Person), ("other", OtherInsurance))
    }


def _write_sql(where: str) -> str:
    """The counts of the people chosen by ``where`` (on ``p``, the person table), one row
    per village and kept year with anyone in it. Parameters: the years, the alive status,
    then those of ``where``."""
    years = " UNION ALL ".join(["SELECT %s AS year"] * len(hardship_years()))
    return (
        "INSERT INTO {kept} (village_id, benefit_year, people) "
        "SELECT p.hukou_village_id, y.year, COUNT(*) "
        "FROM {person} p CROSS JOIN (" + years + ") y "
        "WHERE p.status = %s AND NOT EXISTS (SELECT 1 FROM {other} o "
        "WHERE o.person_id = p.id AND o.benefit_year = y.year) AND " + where + " "
        "GROUP BY p.hukou_village_id, y.year"
    ).format(**_tables())


def village_people_registered(people: Mapping[int, int]) -> None:
    """Count newly registered people (village id -> how many, all alive and without other
    insurance yet) in every kept year."""
    rows = [
        (village, year, n)
        for village, n in sorted(people.items())
        if n
        for year in hardship_years()
    ]
    kept = _tables()["kept"]
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {kept} (village_id, benefit_year, people) VALUES {values} "
                "ON CONFLICT (village_id, benefit_year) "
                f"DO UPDATE SET people = {kept}.people + excluded.people",
                [value for row in chunk for value in row],
            )


def _take(village_id: int, years: Sequence[int]) -> None:
    """One person fewer in ``village_id``'s counts of ``years`` (a count that reaches 0 is
    removed, as a rebuild writes no row for it)."""
    if not years:
        return
    kept = _tables()["kept"]
    marks = ", ".join(["%s"] * len(years))
    with connection.cursor() as cursor:
        where = f"village_id = %s AND benefit_year IN ({marks})"
        cursor.execute(f"UPDATE {kept} SET people = people - 1 WHERE {where}", [village_id, *years])
        cursor.execute(f"DELETE FROM {kept} WHERE {where} AND people = 0", [village_id, *years])


def village_people_died(person: Person) -> None:
    """``person``, alive until this write and now marked deceased, leaves the counts of the
    kept years in which they have no other insurance. Call it under the person's lock."""
    insured = set(
        OtherInsurance.objects.filter(person_id=person.pk).values_list("benefit_year", flat=True)
    )
    _take(person.hukou_village_id, [y for y in hardship_years() if y not in insured])


def village_people_insured_elsewhere(person: Person, benefit_year: int) -> None:
    """``person`` has just been recorded as insured elsewhere for ``benefit_year``: when
    alive and this is their first such record for the year, they leave that year's count.
    Call it under the person's lock, with ``person`` read under it."""
    if person.status != Person.Status.ALIVE or benefit_year not in hardship_years():
        return
    if OtherInsurance.objects.filter(person_id=person.pk, benefit_year=benefit_year).count() == 1:
        _take(person.hukou_village_id, [benefit_year])


@transaction.atomic
def village_people_rebuild() -> int:
    """Recount every village; the number of rows."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_tables()['kept']}")
        cursor.execute(_write_sql("1 = 1"), [*hardship_years(), Person.Status.ALIVE.value])
    analyze(VillagePeople)
    return VillagePeople.objects.count()


def village_people_heal(**_: Any) -> tuple[int, ...]:
    """After ``migrate`` (a ``post_migrate`` receiver of the collection app): when people
    exist and a kept year has no row at all (the table just created over an existing
    register, or a policy of a new benefit year shipped), rebuild the rows; the years that
    were missing."""
    alive = Person.objects.filter(status=Person.Status.ALIVE)
    return heal_kept_years(VillagePeople, alive, village_people_rebuild)


def village_people_check() -> list[tuple[int, int]]:
    """The (village, benefit year) pairs whose count differs from the people (counted here
    through the ORM, apart from the SQL that writes the rows); empty when in step."""
    kept = {
        (village, year): people
        for village, year, people in VillagePeople.objects.order_by().values_list(
            "village_id", "benefit_year", "people"
        )
    }
    wrong: set[tuple[int, int]] = set()
    for year in hardship_years():
        other = OtherInsurance.objects.filter(benefit_year=year).values("person_id")
        counted = (
            Person.objects.filter(status=Person.Status.ALIVE)
            .exclude(pk__in=other)
            .values("hukou_village")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("hukou_village", "n")
        )
        for village, n in counted:
            if kept.pop((village, year), None) != n:
                wrong.add((village, year))
    wrong.update(kept)  # rows for villages where no one is counted
    return sorted(wrong)
