"""The hardship read rows (:class:`~yibao.collection.models.HardshipTag`): kept, rebuilt,
checked.

One function keeps them, :func:`hardship_tags_refresh`, called with the people whose facts
changed by every write path that changes a fact a row copies: a tag added or ended
(``identity_tag_add``, ``identity_tags_add_many``, ``identity_tag_end``, the departments'
lists' ending of tags), a death (``person_mark_deceased``), other insurance
(``other_insurance_record``), a payment or reversal (``_write_payments``,
``payment_reverse``). A person's household-register village is set when the person is
registered and changed by no service; a bulk writer that bypasses the services (the
benchmark's raw inserts) calls :func:`hardship_tags_rebuild`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from yibao.core.bulk import analyze
from yibao.policy import list_policies
from yibao.registry.models import IdentityTag, OtherInsurance, Person

from .models import Enrollment, HardshipTag

CHUNK = 2000  # people per statement (SQLite's limit on query parameters)
ROW_FIELDS = (
    "tag_id",
    "benefit_year",
    "person_id",
    "village_id",
    "category_key",
    "valid_from",
    "valid_to",
    "deceased_on",
    "other_insured",
    "paid_at",
    "other_tags",
)


def hardship_years() -> tuple[int, ...]:
    """The benefit years the rows are kept for: those of the shipped policies. Shipping a
    policy of a new benefit year adds a year the rows written before do not have:
    :func:`hardship_tags_heal` writes them at the next ``migrate``."""
    return tuple(sorted({engine.benefit_year for engine in list_policies()}))


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _source_rows(person_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """The rows of ``person_ids`` as the source rows say they should be (:data:`ROW_FIELDS`),
    worked out here from the ORM's reads: the check's own account, apart from the SQL that
    writes them."""
    tags = list(
        IdentityTag.objects.filter(person_id__in=person_ids)
        .order_by()
        .values_list(
            "pk",
            "person_id",
            "person__hukou_village_id",
            "category_key",
            "valid_from",
            "valid_to",
            "person__deceased_on",
        )
    )
    if not tags:
        return []
    years = hardship_years()
    tagged = sorted({t[1] for t in tags})
    other = set(
        OtherInsurance.objects.filter(person_id__in=tagged, benefit_year__in=years)
        .order_by()
        .values_list("person_id", "benefit_year")
    )
    paid: dict[tuple[int, int], dt.datetime | None] = {
        (person, year): at
        for person, year, at in Enrollment.objects.filter(
            person_id__in=tagged, benefit_year__in=years, status=Enrollment.Status.PAID
        )
        .order_by()
        .values_list("person_id", "benefit_year", "paid_at")
    }
    count = Counter(t[1] for t in tags)
    return [
        (tag, year, person, village, key, start, end, died, (person, year) in other,
         paid.get((person, year)), count[person] > 1)
        for tag, person, village, key, start, end, died in tags
        for year in years
    ]  # fmt: skip


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        name: quote(model._meta.db_table)
        for name, model in (
            ("kept", HardshipTag),
            ("tag", IdentityTag),
            ("person", Person),
            ("other", OtherInsurance),
            ("enrollment", Enrollment),
        )
    }


def _write_sql(where: str) -> str:
    """The rows of the tags chosen by ``where`` (on ``t``, the tag table), computed in the
    database: one statement, which the payment path can afford (a tagged person's payment
    pays for three short statements, not for compiling six ORM queries). Parameters: the
    paid status, the years, then those of ``where``."""
    years = " UNION ALL ".join(["SELECT %s AS year"] * len(hardship_years()))
    columns = ", ".join(ROW_FIELDS)
    return (
        "INSERT INTO {kept} (" + columns + ") "
        "SELECT t.id, y.year, t.person_id, p.hukou_village_id, t.category_key, t.valid_from, "
        "t.valid_to, p.deceased_on, "
        "EXISTS (SELECT 1 FROM {other} o WHERE o.person_id = t.person_id "
        "AND o.benefit_year = y.year), "
        "(SELECT e.paid_at FROM {enrollment} e WHERE e.person_id = t.person_id "
        "AND e.benefit_year = y.year AND e.status = %s), "
        "(SELECT COUNT(*) FROM {tag} t2 WHERE t2.person_id = t.person_id) > 1 "
        "FROM {tag} t JOIN {person} p ON p.id = t.person_id CROSS JOIN (" + years + ") y "
        "WHERE " + where
    ).format(**_tables())


def hardship_tags_refresh(person_ids: Iterable[int]) -> None:
    """Rewrite the rows of ``person_ids`` from the source rows (their tags, deaths, other
    insurance and paid enrollments). Call it in the transaction of the write, after it."""
    ids = sorted(set(person_ids))
    if not ids:
        return
    tables = _tables()
    head = [Enrollment.Status.PAID.value, *hardship_years()]
    with connection.cursor() as cursor:
        for chunk in _chunks(ids):
            marks = ", ".join(["%s"] * len(chunk))
            delete = f"DELETE FROM {tables['kept']} WHERE person_id IN ({marks})"
            write = _write_sql(f"t.person_id IN ({marks})")
            if connection.vendor == "postgresql":
                # Under the people's locks (in id order, as the payment services take them):
                # a payment and a tag of one person written at once each see the other's
                # committed rows. (SQLite runs one writing transaction at a time.) The three
                # statements in one text: one round trip, each run in turn.
                cursor.execute(
                    f"SELECT id FROM {tables['person']} WHERE id IN ({marks}) "
                    f"ORDER BY id FOR UPDATE; {delete}; {write}",
                    [*chunk, *chunk, *head, *chunk],
                )
                continue
            cursor.execute(delete, chunk)
            cursor.execute(write, [*head, *chunk])


def _tagged_people() -> list[int]:
    return sorted(set(IdentityTag.objects.order_by().values_list("person_id", flat=True)))


@transaction.atomic
def hardship_tags_rebuild() -> int:
    """Rewrite every row from the source rows; the number of rows."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_tables()['kept']}")
        cursor.execute(_write_sql("1 = 1"), [Enrollment.Status.PAID.value, *hardship_years()])
    analyze(HardshipTag)
    return HardshipTag.objects.count()


def hardship_tags_heal(**_: Any) -> tuple[int, ...]:
    """After ``migrate`` (a ``post_migrate`` receiver of the collection app): when tags exist
    and a kept year has no row at all (the table just created over an existing ledger, or a
    policy of a new benefit year shipped), rebuild the rows; the years that were missing."""
    return heal_kept_years(HardshipTag, IdentityTag.objects.all(), hardship_tags_rebuild)


def heal_kept_years(
    model: Any, sources: QuerySet[Any], rebuild: Callable[[], int]
) -> tuple[int, ...]:
    """Rebuild ``model``'s kept rows (a read table with a ``benefit_year`` per row, written by
    ``rebuild`` from ``sources``) when its table exists, ``sources`` has rows, and a kept
    year has no row at all; the years that were missing."""
    if model._meta.db_table not in connection.introspection.table_names():
        return ()  # migrated to a point before the table
    if not sources.exists():
        return ()
    have = set(model.objects.order_by().values_list("benefit_year", flat=True).distinct())
    missing = tuple(year for year in hardship_years() if year not in have)
    if missing:
        rebuild()
    return missing


def hardship_tags_check() -> list[int]:
    """The tags whose rows differ from what the source rows say (missing, extra or with a
    different fact); empty when the rows are in step."""
    wrong: set[int] = set()
    kept = {
        row[:2]: row
        for row in HardshipTag.objects.order_by().values_list(*ROW_FIELDS).iterator(chunk_size=5000)
    }
    for chunk in _chunks(_tagged_people()):
        for row in _source_rows(chunk):
            if kept.pop(row[:2], None) != row:
                wrong.add(row[0])
    wrong.update(tag for tag, _ in kept)
    return sorted(wrong)
