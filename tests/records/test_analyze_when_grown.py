"""Statistics refreshed as small writes grow a table (yibao.core.bulk.analyze_when_grown)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yibao.collection.models import Payment
from yibao.core import bulk


def _analyses(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("ANALYZE")]


def test_a_table_is_analysed_after_commit_once_its_growth_reaches_the_threshold(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(bulk, "GROWTH_ROWS", 3)
    monkeypatch.setattr(bulk, "_GROWTH", {})
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            bulk.analyze_when_grown(Payment, 2)
        assert _analyses(queries) == []  # 2 of 3 rows: not yet
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            bulk.analyze_when_grown(Payment, 1)
            assert _analyses(queries) == []  # not inside the writing transaction
        if connection.vendor != "postgresql":
            assert callbacks == [] and _analyses(queries) == []  # SQLite's planner needs none
            return
        assert _analyses(queries) == ['ANALYZE "collection_payment"']
        with django_capture_on_commit_callbacks(execute=True):
            bulk.analyze_when_grown(Payment, 2)  # counting starts again
        assert len(_analyses(queries)) == 1


@pytest.mark.parametrize("added", [0, -1])
def test_nothing_added_counts_nothing(db, monkeypatch, added, django_capture_on_commit_callbacks):
    monkeypatch.setattr(bulk, "GROWTH_ROWS", 1)
    monkeypatch.setattr(bulk, "_GROWTH", {})
    with django_capture_on_commit_callbacks() as callbacks:
        bulk.analyze_when_grown(Payment, added)
    assert callbacks == []
