"""The full-size plan (pure Python, no database): proportions a township office would expect."""

from __future__ import annotations

import datetime as dt

import pytest

from yibao.demo.plan import plan_township
from yibao.policy import get_policy


@pytest.fixture(scope="module")
def plan():
    return plan_township(seed=2023, residents=26000, today=dt.date(2022, 12, 5))


def _share(people, predicate):
    return sum(1 for p in people if predicate(p)) / len(people)


def test_villages_and_people_follow_the_published_targets(plan):
    rows = get_policy("qijiang-sanjiang-2023").targets.rows
    assert [v.name for v in plan.villages] == [r.village for r in rows]
    for village, row in zip(plan.villages, rows, strict=True):
        should_enroll = [p for p in village.persons if p.fate is None]
        assert len(should_enroll) >= row.values["target"] * 0.99
        assert len(village.persons) <= row.values["target"] * 1.15
        assert len(village.code) == 12 and village.code.startswith("500110003")
    assert 26000 <= sum(len(v.persons) for v in plan.villages) <= 29000


def test_identity_and_fate_proportions(plan):
    people = [p for v in plan.villages for p in v.persons]
    assert 0.025 <= _share(people, lambda p: "低保对象" in p.identities) <= 0.035
    assert 0.003 <= _share(people, lambda p: "特困人员" in p.identities) <= 0.007
    assert 0.007 <= _share(people, lambda p: "低保边缘户" in p.identities) <= 0.013
    assert 0.016 <= _share(people, lambda p: "稳定脱贫人口" in p.identities) <= 0.024
    assert _share(people, lambda p: "重度（一、二级）残疾人员" in p.identities) > 0.005
    assert _share(people, lambda p: any("计划生育" in i for i in p.identities)) > 0.005
    assert any(
        i in ("返贫致贫人口", "脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
        for p in people
        for i in p.identities
    )
    assert 10 <= sum(1 for p in people if len(p.identities) >= 2) <= 200
    assert 0.004 <= _share(people, lambda p: p.fate == "deceased") <= 0.006
    assert 0.035 <= _share(people, lambda p: p.fate == "employee") <= 0.045


def test_campaign_progress_varies_between_sixty_and_ninety_eight_percent(plan):
    rates = []
    for village in plan.villages:
        paid = len(village.payments)
        rates.append(paid / village.target)
    assert min(rates) >= 0.58 and max(rates) <= 0.99
    assert min(rates) < 0.7 and max(rates) > 0.95


def test_channels_reversals_and_dates(plan):
    payments = [p for v in plan.villages for p in v.payments]
    channels = {p.channel for p in payments}
    assert channels == {
        "wechat", "alipay", "yukuaiban", "unionpay", "cqrcb_app", "village_pos", "cash",
        "post_office", "tax_bureau",
    }  # fmt: skip
    assert all(p.channel == "tax_bureau" for p in payments if p.amount == 0)
    assert 20 <= sum(1 for p in payments if p.reversal) <= 150
    days = {p.paid_at.date() for p in payments}
    assert min(days) == dt.date(2022, 10, 25) and max(days) == dt.date(2022, 12, 5)


def test_same_seed_same_plan():
    one = plan_township(seed=7, residents=500)
    two = plan_township(seed=7, residents=500)
    ids = lambda plan: [p.id_number for v in plan.villages for p in v.persons]  # noqa: E731
    assert ids(one) == ids(two)
    assert ids(one) != ids(plan_township(seed=8, residents=500))
