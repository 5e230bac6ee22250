"""Rows written without the ORM's compiler (yibao.core.bulk.insert_models and insert_rows'
few-row INSERT) come back exactly as given, whatever their text holds."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from yibao.core import bulk
from yibao.core.models import AuditLog
from yibao.registry.models import District, Household, Township, Village

# Quotes, backslashes, percent signs and placeholders, Chinese, a newline: none of it may be
# taken for SQL or for a parameter marker.
AWKWARD = ["石角镇'一社", "C:\\户\\%s", "100% 缴清 %(x)s", "第二行\n“引号”", ""]


def _village() -> Village:
    district = District.objects.create(name="綦江区", code="500110")
    township = Township.objects.create(district=district, name="三江街道")
    return Village.objects.create(township=township, name="天星村")


def test_insert_models_returns_keys_in_order_and_keeps_every_value(db):
    village = _village()
    households = [
        Household(village=village, number=f"H{i:03d}" if i % 2 else None, address=text)
        for i, text in enumerate(AWKWARD * 2)
    ]
    with CaptureQueriesContext(connection) as queries:
        bulk.insert_models(households)
    assert len([q for q in queries.captured_queries if "INSERT" in q["sql"]]) == 1
    assert all(h.pk is not None and not h._state.adding for h in households)
    stored = {h.pk: (h.number, h.address, h.created_at) for h in Household.objects.all()}
    assert stored == {h.pk: (h.number, h.address, h.created_at) for h in households}
    assert [h.pk for h in households] == sorted(h.pk for h in households)


def test_insert_rows_few_rows_keep_json_and_text_exactly(db):
    at = dt.datetime(2022, 12, 5, 2, 0, 0, 123456, tzinfo=dt.UTC)
    rows = [
        (
            at, None, text, "test.awkward", "registry.household", str(i), None,
            # As the audit passes it (dumped once, for its hash) and as data.
            bulk.JSONText(json.dumps({"地址": text, "n": i}, ensure_ascii=False))
            if i % 2 else {"地址": text, "n": i},
            None, bytes([i]) * 32,
        )
        for i, text in enumerate(AWKWARD)
    ]  # fmt: skip
    fields = ("at", "actor_id", "actor_name", "action", "object_type", "object_id", "before",
              "after", "prev_hash", "row_hash")  # fmt: skip
    assert bulk.insert_rows(AuditLog, fields, rows) == len(AWKWARD)
    stored = list(
        AuditLog.objects.filter(action="test.awkward")
        .order_by("object_id")
        .values_list("at", "actor_name", "after", "row_hash")
    )
    assert [(a, n, j, bytes(h)) for a, n, j, h in stored] == [
        (at, text, {"地址": text, "n": i}, bytes([i]) * 32) for i, text in enumerate(AWKWARD)
    ]


def _executed(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]


def test_a_trip_runs_its_writes_in_order_before_the_statement_it_asks(transactional_db):
    village = _village()
    with transaction.atomic():
        [household_ids] = bulk.reserve_ids((Household, len(AWKWARD)))
        households = [
            Household(pk=pk, village=village, number=f"T{pk}", address=text)
            for pk, text in zip(household_ids, AWKWARD, strict=True)
        ]
        trip = bulk.Trip()
        with CaptureQueriesContext(connection) as queries:
            bulk.insert_models(households[:2], trip=trip)
            bulk.insert_models(households[2:], trip=trip)
            trip.add(
                "UPDATE registry_household SET address = %s WHERE id = %s",
                ["改过的'地址 %s", household_ids[0]],
            )
            asked = trip.ask(
                "SELECT id, address FROM registry_household WHERE id IN (%s, %s) ORDER BY id",
                household_ids[:2],
            )
            trip.send()  # nothing waits: no statement
        # What the trip asked saw the writes added before it.
        assert asked == [(household_ids[0], "改过的'地址 %s"), (household_ids[1], AWKWARD[1])]
        sent = _executed(queries)
        if connection.vendor == "postgresql":
            assert len(sent) == 1  # three writes and the question: one round trip
        else:
            assert len(sent) == 4  # SQLite: each statement when added
    stored = dict(Household.objects.values_list("pk", "address"))
    assert stored == {
        **dict(zip(household_ids, AWKWARD, strict=True)),
        household_ids[0]: "改过的'地址 %s",
    }
    assert all(not h._state.adding for h in households)


def test_a_trip_write_that_fails_fails_the_transaction(transactional_db):
    village = _village()
    Household.objects.create(village=village, number="DUP")
    with pytest.raises(IntegrityError), transaction.atomic():
        [ids] = bulk.reserve_ids((Household, 1))
        trip = bulk.Trip()
        bulk.insert_models([Household(pk=ids[0], village=village, number="DUP")], trip=trip)
        trip.ask("SELECT 1")
    assert list(Household.objects.values_list("number", flat=True)) == ["DUP"]


def test_insert_models_with_a_trip_needs_reserved_ids(db):
    village = _village()
    with pytest.raises(ValueError):
        bulk.insert_models([Household(village=village, number="X")], trip=bulk.Trip())
