"""The fund-safety API routes, as a village collector's tablet and the township office call
them (bearer tokens)."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient, error_of
from tests.records import factories as f
from yibao.api.tokens import api_token_issue
from yibao.collection.services import payment_record

pytestmark = pytest.mark.django_db
API = "/api/v1"


def _api(user) -> ApiClient:
    return ApiClient(api_token_issue(actor=user, name="测试").secret)


@pytest.fixture
def paid(town):
    return payment_record(
        actor=town.sanhe_collector,
        person=f.person(town.sanhe, name="现金户"),
        policy_id=f.POLICY,
        tier=1,
        amount="350.00",
        channel="cash",
        paid_at=f.aware(f.CAMPAIGN_DAY, 9),
    )


def test_the_office_sets_the_limits_and_a_collector_may_not(town):
    office, sanhe = _api(town.office), _api(town.sanhe_collector)
    assert office.get(f"{API}/cash/limits").json() == {
        "township": "三江街道", "amount": "5000.00", "days": 7, "default": True
    }  # fmt: skip
    response = office.put(
        f"{API}/cash/limits", {"amount": "2000", "days": 3}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["amount"] == "2000.00"
    response = sanhe.put(
        f"{API}/cash/limits", {"amount": "9000", "days": 9}, content_type="application/json"
    )
    assert response.status_code == 404  # a village collector's area is not the township
    assert sanhe.get(f"{API}/cash/limits").json()["days"] == 3


def test_cash_status_lists_the_collector_over_the_amount_limit(town, paid):
    office = _api(town.office)
    office.put(f"{API}/cash/limits", {"amount": "300", "days": 7}, content_type="application/json")
    first = office.get(f"{API}/cash/status").json()[0]
    assert (first["username"], first["held"], first["age_days"]) == ("sanhe", "350.00", 0)
    assert (first["over_amount"], first["over_days"]) == (True, False)


def test_a_collector_remits_closes_the_day_and_the_office_acknowledges(town, paid):
    sanhe, office = _api(town.sanhe_collector), _api(town.office)
    collector = town.sanhe_collector.staff.pk
    body = {"amount": "350.00", "bank": "农商行", "slip_number": "JK-5"}
    assert sanhe.post_json(f"{API}/collectors/{collector}/remittances", body).status_code == 201
    assert sanhe.post_json(f"{API}/collectors/{collector}/remittances", body).status_code == 200
    day = f.CAMPAIGN_DAY.isoformat()
    figures = sanhe.get(f"{API}/collectors/{collector}/days/{day}").json()
    assert (figures["cash_taken"], figures["remitted"], figures["held"]) == (
        "350.00", "350.00", "0.00"
    )  # fmt: skip
    refused = office.post(f"{API}/collectors/{collector}/days/{day}/close")
    assert (refused.status_code, error_of(refused)["code"]) == (403, "collector_only")
    closed = sanhe.post(f"{API}/collectors/{collector}/days/{day}/close")
    assert closed.status_code == 201
    close_id = closed.json()["id"]
    again = sanhe.post_json(
        f"{API}/collectors/{collector}/remittances", {**body, "slip_number": "x"}
    )
    assert (again.status_code, error_of(again)["code"]) == (409, "day_closed")
    refused = sanhe.post(f"{API}/daily-closes/{close_id}/acknowledgement")
    assert refused.status_code == 403
    acknowledged = office.post(f"{API}/daily-closes/{close_id}/acknowledgement").json()
    assert acknowledged["acknowledged_by"] == "office"
    assert [c["id"] for c in office.get(f"{API}/daily-closes").json()] == [close_id]
    assert office.get(f"{API}/daily-closes?unacknowledged=true").json() == []
    other = _api(town.dashan_collector)
    assert other.post(f"{API}/daily-closes/{close_id}/acknowledgement").status_code == 404


def test_the_clerk_scripts_the_cash_status_and_acknowledges_closed_days(town, paid, capsys):
    from yibao.cli import main

    assert main(["cash", "limits", "--user", "office", "--amount", "300", "--days", "5"]) == 0
    assert main(["cash", "status", "--user", "office"]) == 0
    out = capsys.readouterr().out
    assert "限额300.00元，限时5天（街道设定）" in out and "超过双限：1人" in out
    assert main(["close", "day", "--user", "sanhe"]) == 0
    assert "日终手中现金350.00元" in capsys.readouterr().out
    assert main(["close", "list", "--user", "office", "--unacknowledged", "--acknowledge"]) == 0
    assert "已确认1份日结" in capsys.readouterr().out
    assert main(["close", "day", "--user", "office"]) == 2
    assert "日结须由征收员本人办理" in capsys.readouterr().err
