"""The policy as the ledger applies it, and supplements loaded by the district office."""

from __future__ import annotations

import pytest

from tests.records import factories as f
from tests.records.test_policy_supplements import SUPPLEMENT
from yibao.collection.models import PolicySupplement, StaffMember
from yibao.registry.models import District

from .conftest import API, error_of


@pytest.fixture
def tongnan_bureau(as_user, db):
    district = District.objects.create(name="潼南区", code="500152")
    return as_user(f.user("tongnan_bureau", role=StaffMember.Role.DISTRICT, district=district))


def test_the_policy_lists_its_inherited_city_rules_findings_and_decisions(clerk):
    response = clerk.get(f"{API}/policies/tongnan-2023")
    assert response.status_code == 200
    body = response.json()
    rules = {rule["key"]: rule["status"] for rule in body["city_rules"]}
    # 潼医保发〔2022〕36号 三 states its own last day and names no exception for low income
    assert rules["last_payment_day"] == "own_text"
    assert rules["low_income_last_day"] == "overridden"
    assert any("潼南的最迟缴费日" in finding["message"] for finding in body["findings"])
    assert any(d["key"] == "tongnan_subsidy_missing" for d in body["decisions"])
    assert body["supplements"] == []


def test_a_collector_does_not_read_the_policy_page_data(sanhe):
    response = sanhe.get(f"{API}/policies/tongnan-2023")
    assert response.status_code == 403 and error_of(response)["code"] == "office_required"


def test_only_the_district_office_loads_a_supplement(clerk, tongnan_bureau):
    refused = clerk.post_json(f"{API}/policy-supplements", {"text": SUPPLEMENT})
    assert refused.status_code == 403 and error_of(refused)["code"] == "office_required"
    loaded = tongnan_bureau.post_json(f"{API}/policy-supplements", {"text": SUPPLEMENT})
    assert loaded.status_code == 201, loaded.json()
    assert loaded.json()["version"] == 1 and loaded.json()["document"] == "潼南府办发〔2021〕77号"
    shown = tongnan_bureau.get(f"{API}/policies/tongnan-2023").json()
    assert [s["version"] for s in shown["supplements"]] == [1]
    assert PolicySupplement.objects.count() == 1


def test_a_quote_uses_the_loaded_supplement(tongnan_bureau, clerk):
    body = {
        "policy": "tongnan-2023",
        "paid_on": "2022-11-15",
        "tier": 1,
        "identities": [{"key": "特困人员"}],
    }
    before = clerk.post_json(f"{API}/quotes", body)
    assert before.status_code == 400 and error_of(before)["code"] == "subsidy_rule_missing"
    tongnan_bureau.post_json(f"{API}/policy-supplements", {"text": SUPPLEMENT})
    after = clerk.post_json(f"{API}/quotes", body)
    assert after.status_code == 200 and after.json()["personal"] == "0.00"
