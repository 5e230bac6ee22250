"""The unpaid list and contacts through the API and the CLI: the same list as the page."""

from __future__ import annotations

import io
from typing import get_args

import pytest
from openpyxl import load_workbook

from tests.records import factories as f
from yibao.api.outreach import Group, Outcome
from yibao.api.tokens import api_token_issue
from yibao.collection.campaign import UNPAID_GROUPS
from yibao.collection.models import ContactAttempt

pytestmark = pytest.mark.django_db


def test_the_api_literals_name_every_group_and_outcome():
    assert set(get_args(Group)) == set(UNPAID_GROUPS)
    assert set(get_args(Outcome)) == set(ContactAttempt.Outcome.values)


def _bearer(client, user):
    secret = api_token_issue(actor=user, name="测试").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_the_api_lists_hardship_people_first_and_records_a_contact(client, town):
    poor = f.person(town.sanhe, name="钱特困")
    f.tag(poor, "特困人员")
    f.person(town.sanhe, name="王普通")
    f.person(town.dashan, name="外村人")
    auth = _bearer(client, town.sanhe_collector)
    rows = client.get(f"/api/v1/villages/{town.sanhe.pk}/unpaid", **auth).json()
    assert [r["name"] for r in rows] == ["钱特困", "王普通"]
    assert rows[0]["group"] == "hardship"
    assert "birth_date" not in rows[0]
    response = client.post(
        f"/api/v1/persons/{poor.pk}/contacts",
        data={"outcome": "away", "note": "在广东务工"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201
    assert response.json()["outcome_label"] == "外出务工"
    rows = client.get(f"/api/v1/villages/{town.sanhe.pk}/unpaid", **auth).json()
    assert rows[0]["last_outcome"] == "外出务工"


def test_another_villages_list_is_refused_as_absent(client, town):
    auth = _bearer(client, town.sanhe_collector)
    response = client.get(f"/api/v1/villages/{town.dashan.pk}/unpaid", **auth)
    assert response.status_code == 404


def test_the_cli_exports_the_village_list(town, tmp_path, capsys):
    from yibao.transfer.cli import cmd_export_unpaid

    f.person(town.sanhe, name="王普通")
    out = tmp_path / "未缴.xlsx"

    class Args:
        user = "sanhe"
        village = "三河街社区"
        year = None
        group = None

    Args.out = str(out)
    assert cmd_export_unpaid(Args()) == 0
    rows = list(load_workbook(io.BytesIO(out.read_bytes())).active.iter_rows(values_only=True))
    assert rows[2][1] == "王普通"
    assert "1人" in capsys.readouterr().out
