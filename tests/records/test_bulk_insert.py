"""Rows written without the ORM's compiler (yibao.core.bulk.insert_models and insert_rows'
few-row INSERT) come back exactly as given, whatever their text holds."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection
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
