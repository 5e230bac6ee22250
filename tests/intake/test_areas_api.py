"""The areas routes of the API: a district office loads and sets up; others are refused."""

from __future__ import annotations

from django.test import Client

from yibao.api.tokens import api_token_issue

API = "/api/v1"


def client(user) -> Client:
    token = api_token_issue(actor=user, name="测试").secret
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_a_collector_and_a_township_clerk_may_not_load_or_set_up_areas(town):
    for user in (town.sanhe_collector, town.office):
        for path, body in (("/divisions/load", {}), ("/townships/setup", {"code": "500110003"})):
            response = client(user).post(API + path, body, content_type="application/json")
            assert response.status_code == 403
            assert response.json()["error"]["code"] == "office_required"


def test_the_district_office_loads_the_codes_and_sets_the_township_up(town):
    bureau = client(town.bureau)

    loaded = bureau.post(f"{API}/divisions/load", {}, content_type="application/json").json()
    setup = bureau.post(
        f"{API}/townships/setup", {"code": "500110003"}, content_type="application/json"
    ).json()
    villages = bureau.get(f"{API}/divisions?parent=500110003&limit=3").json()

    assert loaded["by_level"]["village"] == 11270
    assert setup["township_code"] == "500110003"
    assert setup["coded"] == ["三江街道", "三河街社区", "大山村", "五里村"]
    assert [v["name"] for v in villages["items"]] == [
        "重钢四厂社区居民委员会",
        "重绳社区居民委员会",
        "重冶社区居民委员会",
    ]
