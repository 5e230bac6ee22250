"""``/api/v1/progress``, ``/progress/channels``, ``/progress/daily`` and ``/cash`` over HTTP.

The story: in 三河街社区 the collector ``sanhe`` took 350 in cash on 2022-11-20 and 350 by
WeChat on 2022-12-05; in 滨江社区 ``binjiang`` took 350 by Alipay on 2022-12-05. Targets are
Sanjiang annex 2's (三河街社区 1450, 滨江社区 1612).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.records import factories as f
from yibao.collection.services import payment_record

from .conftest import API, POLICY, error_of


def pay(settings, day, actor, person, channel):
    settings.YIBAO_TODAY = day.isoformat()
    payment_record(
        actor=actor, person=person, policy_id=POLICY, tier=1, amount="350", channel=channel
    )


@pytest.fixture
def story(town, settings):
    pay(settings, dt.date(2022, 11, 20), town.sanhe_collector, f.person(town.sanhe), "cash")
    pay(settings, dt.date(2022, 12, 5), town.sanhe_collector, f.person(town.sanhe), "wechat")
    pay(settings, dt.date(2022, 12, 5), town.binjiang_collector, f.person(town.binjiang), "alipay")
    f.person(town.binjiang)  # not yet paid


def test_the_clerk_sees_every_village_with_targets_rates_and_ranks(story, clerk):
    response = clerk.get(f"{API}/progress")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["policy"] == POLICY and data["benefit_year"] == 2023 and data["on"] is None
    rows = {r["name"]: r for r in data["villages"]}
    assert set(rows) == {"三河街社区", "滨江社区"}
    assert (rows["三河街社区"]["target"], rows["三河街社区"]["paid"]) == (1450, 2)
    assert rows["三河街社区"]["completion"] == "0.14"  # 2 / 1450 = 0.1379%
    assert (rows["滨江社区"]["paid"], rows["滨江社区"]["should_enroll"]) == (1, 2)
    assert rows["滨江社区"]["completion"] == "0.06"  # 1 / 1612 = 0.0620%
    assert [rows["三河街社区"]["rank"], rows["滨江社区"]["rank"]] == [1, 2]
    assert data["totals"]["paid"] == 3 and data["totals"]["target"] == 1450 + 1612


def test_a_collector_gets_only_their_own_village(story, binjiang):
    data = binjiang.get(f"{API}/progress").json()
    assert [(r["name"], r["paid"]) for r in data["villages"]] == [("滨江社区", 1)]
    cash = binjiang.get(f"{API}/cash").json()
    assert [c["username"] for c in cash] == ["binjiang"]
    days = binjiang.get(f"{API}/progress/daily?benefit_year=2023").json()
    assert days == [{"day": "2022-12-05", "paid": 1, "cumulative_paid": 1, "amount": "350.00"}]


def test_progress_on_a_day_leaves_out_later_payments(story, clerk):
    data = clerk.get(f"{API}/progress?on=2022-11-30").json()
    assert data["on"] == "2022-11-30"
    assert {r["name"]: r["paid"] for r in data["villages"]} == {"三河街社区": 1, "滨江社区": 0}


def test_channels_for_one_day(story, clerk):
    data = clerk.get(
        f"{API}/progress/channels?benefit_year=2023&since=2022-12-05&until=2022-12-05"
    ).json()
    used = {c["channel"]: (c["payments"], c["amount"]) for c in data["channels"] if c["payments"]}
    assert used == {"wechat": (1, "350.00"), "alipay": (1, "350.00")}


def test_cash_held_by_each_collector(story, clerk):
    cash = {c["username"]: c for c in clerk.get(f"{API}/cash").json()}
    assert (cash["sanhe"]["taken"], cash["sanhe"]["held"]) == ("350.00", "350.00")
    assert cash["sanhe"]["villages"] == ["三河街社区"]
    assert cash["binjiang"]["held"] == "0.00"


def test_an_unknown_policy_is_refused_in_chinese(story, clerk):
    response = clerk.get(f"{API}/progress?policy=nowhere-2023")
    assert response.status_code == 400
    assert error_of(response)["message"]


def test_the_routes_are_in_the_openapi_schema(clerk):
    paths = clerk.get(f"{API}/openapi.json").json()["paths"]
    assert {"/api/v1/progress", "/api/v1/progress/channels", "/api/v1/progress/daily"} <= set(paths)
    assert "/api/v1/cash" in paths
