"""The campaign's progress figures, checked against a small campaign played day by day.

Every expected number below is counted by hand from the story in :func:`campaign` (who paid
on which day, who was reversed when), not computed by the selectors under test. Sanjiang's
targets are annex 2's: 三河街社区 1450, 大山村 1288, 五里村 896, 滨江社区 1612, 圆通寺社区 1760.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from yibao.campaign.selectors import hardship_by_category, hardship_missing
from yibao.cli import main
from yibao.collection.models import StaffMember
from yibao.collection.selectors import (
    channel_totals,
    collector_cash,
    daily_progress,
    progress_with_history,
    township_totals,
    village_progress,
)
from yibao.collection.services import (
    enrollment_create,
    payment_record,
    payment_reverse,
    remittance_record,
)
from yibao.registry.models import Person
from yibao.registry.services import other_insurance_record, person_mark_deceased

from . import factories as f

D = dt.date


def on_day(settings, day: dt.date) -> None:
    settings.YIBAO_TODAY = day.isoformat()


def pay(settings, day, actor, person, amount, channel):
    on_day(settings, day)
    return payment_record(
        actor=actor, person=person, policy_id=f.POLICY, tier=1, amount=amount, channel=channel
    )


@pytest.fixture
def campaign(town, settings):
    """三河街社区 (collector ``sanhe``):
    p1 cash 350 on 11-10; p5 cash 350 on 11-15, reversed on 12-03; p2 WeChat 350 on 11-20;
    p3 (低保对象) Alipay 35 on 12-01; p4 (特困人员) enrolled, unpaid; p6 (特困人员) zero
    declaration on 12-05; p9 has a 低保对象 tag that expired on 2022-06-30, not enrolled;
    p7 died (not to enroll); p8 has employee insurance (not to enroll).
    大山村 (collector ``dashan``): d1 village POS 350 on 12-02; d2 not enrolled.
    五里村, 滨江社区, 圆通寺社区: nobody. ``sanhe`` remits 200 of cash on 12-04."""
    extra = f.area(villages=("三河街社区", "大山村", "五里村", "滨江社区", "圆通寺社区"))
    sanhe, dashan, office = town.sanhe_collector, town.dashan_collector, town.office
    p = {n: f.person(town.sanhe, name=f"三河{n}") for n in range(1, 10)}
    d1, d2 = f.person(town.dashan, name="大山1"), f.person(town.dashan, name="大山2")
    f.tag(p[3], "低保对象")
    f.tag(p[4], "特困人员")
    f.tag(p[6], "特困人员")
    f.tag(p[9], "低保对象", valid_from=D(2022, 1, 1), valid_to=D(2022, 6, 30))
    person_mark_deceased(actor=office, person=p[7], died_on=D(2022, 10, 1))
    other_insurance_record(actor=office, person=p[8], kind="employee", benefit_year=2023)

    pay(settings, D(2022, 11, 10), sanhe, p[1], "350", "cash")
    reversed_later = pay(settings, D(2022, 11, 15), sanhe, p[5], "350", "cash")
    pay(settings, D(2022, 11, 20), sanhe, p[2], "350", "wechat")
    pay(settings, D(2022, 12, 1), sanhe, p[3], "35", "alipay")
    pay(settings, D(2022, 12, 2), dashan, d1, "350", "village_pos")
    on_day(settings, D(2022, 12, 3))
    payment_reverse(actor=office, payment=reversed_later, reason="重复收费，退回")
    on_day(settings, D(2022, 12, 4))
    remittance_record(
        actor=sanhe, collector=StaffMember.objects.get(user=sanhe), amount=Decimal("200")
    )
    pay(settings, D(2022, 12, 5), sanhe, p[6], "0", "wechat")
    enrollment_create(actor=sanhe, person=p[4], policy_id=f.POLICY, tier=1)
    return SimpleNamespace(town=town, villages=extra, d2=d2)


def by_name(rows):
    return {r.name: r for r in rows}


def test_progress_now_counts_live_payments_per_village(campaign):
    rows = by_name(village_progress(actor=campaign.town.office, policy_id=f.POLICY))
    sanhe = rows["三河街社区"]
    assert (sanhe.target, sanhe.period_target) == (1450, 1374)
    assert sanhe.should_enroll == 7  # p1-p6 and p9
    assert sanhe.enrolled == 6  # p1-p6 (p5 unpaid again after the reversal, p4 unpaid)
    assert sanhe.paid == 4  # p1, p2, p3, p6
    assert sanhe.completion == Decimal("0.28")  # 4 / 1450 = 0.2759%
    assert sanhe.period_completion == Decimal("0.29")  # 4 / 1374 = 0.2911%
    assert (sanhe.hardship, sanhe.hardship_paid) == (3, 2)  # p3, p4, p6; p9's tag expired
    assert sanhe.hardship_rate == Decimal("66.67")
    dashan = rows["大山村"]
    assert (dashan.should_enroll, dashan.enrolled, dashan.paid) == (2, 1, 1)
    assert dashan.completion == Decimal("0.08")  # 1 / 1288
    assert (dashan.hardship, dashan.hardship_rate) == (0, Decimal("100"))
    assert rows["五里村"].paid == 0 and rows["五里村"].target == 896


def test_villages_are_ranked_by_completion_and_the_bottom_three_are_marked(campaign):
    rows = village_progress(actor=campaign.town.office, policy_id=f.POLICY)
    assert [r.name for r in rows] == ["三河街社区", "大山村", "五里村", "滨江社区", "圆通寺社区"]
    assert [(r.name, r.rank, r.bottom_three) for r in sorted(rows, key=lambda r: r.rank)] == [
        ("三河街社区", 1, False),
        ("大山村", 2, False),
        ("五里村", 3, True),
        ("滨江社区", 4, True),
        ("圆通寺社区", 5, True),
    ]


@pytest.mark.parametrize(
    ("on", "sanhe_paid", "dashan_paid", "sanhe_enrolled", "hardship_paid"),
    [
        (D(2022, 11, 9), 0, 0, 0, 0),
        (D(2022, 11, 30), 3, 0, 3, 0),  # p1, p5, p2
        (D(2022, 12, 2), 4, 1, 4, 1),  # + p3 on 12-01; d1 on 12-02
        (D(2022, 12, 3), 3, 1, 4, 1),  # p5 reversed on 12-03: enrolled, no longer paid
        (D(2022, 12, 5), 4, 1, 6, 2),  # + p6; p4 enrolled on 12-05
    ],
)
def test_progress_on_a_day_counts_only_what_happened_by_its_end(
    campaign, on, sanhe_paid, dashan_paid, sanhe_enrolled, hardship_paid
):
    rows = by_name(village_progress(actor=campaign.town.office, policy_id=f.POLICY, on=on))
    assert rows["三河街社区"].paid == sanhe_paid
    assert rows["大山村"].paid == dashan_paid
    assert rows["三河街社区"].hardship_paid == hardship_paid
    assert rows["三河街社区"].enrolled == sanhe_enrolled
    assert rows["三河街社区"].should_enroll == 7


def test_a_person_who_died_after_the_day_still_counts_as_should_enroll_on_that_day(campaign):
    rows = by_name(
        village_progress(actor=campaign.town.office, policy_id=f.POLICY, on=D(2022, 9, 30))
    )
    assert rows["三河街社区"].should_enroll == 8  # p7 died on 2022-10-01


def test_a_person_counts_once_however_many_insurances_tags_or_categories(campaign):
    """p2 is also insured elsewhere and as an employee: taken off should-enroll once. p3
    (低保对象, paid) gets the same category from a second batch and a 特困人员 tag: still one
    hardship person, one in each category. p4 (特困人员, unpaid) gets a 低保对象 tag too: named
    once, with both categories."""
    office = campaign.town.office
    p2, p3, p4 = (Person.objects.get(name=f"三河{n}") for n in (2, 3, 4))
    for kind in ("employee", "elsewhere"):
        other_insurance_record(actor=office, person=p2, kind=kind, benefit_year=2023)
    f.tag(p3, "低保对象", batch="2022-12")
    f.tag(p3, "特困人员")
    f.tag(p4, "低保对象")
    on = D(2022, 12, 5)
    sanhe = by_name(village_progress(actor=office, policy_id=f.POLICY, on=on))["三河街社区"]
    assert sanhe.should_enroll == 6  # p1, p3-p6, p9 (p2 insured elsewhere now)
    assert (sanhe.hardship, sanhe.hardship_paid) == (3, 2)  # p3, p4, p6; p3 and p6 paid
    categories = {
        c.category: (c.people, c.paid)
        for c in hardship_by_category(actor=office, policy_id=f.POLICY, on=on)
    }
    assert categories == {"低保对象": (2, 1), "特困人员": (3, 2)}  # p3, p4; p3, p4, p6
    missing = hardship_missing(actor=office, policy_id=f.POLICY, on=on)
    assert [(m.name, m.categories) for m in missing] == [("三河4", ("低保对象", "特困人员"))]


def test_the_standings_of_earlier_days_count_who_had_paid_by_each_days_end(campaign):
    """三河街社区 by the end of 11-14: p1; 11-30: p1, p5, p2; 12-02: and p3; 12-04: p5's
    payment reversed on 12-03; 12-05: and p6. 大山村: d1 from 12-02."""
    earlier = [D(2022, 11, 14), D(2022, 11, 30), D(2022, 12, 2), D(2022, 12, 4)]
    rows, history = progress_with_history(
        actor=campaign.town.office, policy_id=f.POLICY, on=D(2022, 12, 5), earlier=earlier
    )
    names = {r.village_id: r.name for r in rows}
    paid = {
        day: {names[s.village_id]: s.paid for s in standings if s.paid}
        for day, standings in history.items()
    }
    assert paid == {
        D(2022, 11, 14): {"三河街社区": 1},
        D(2022, 11, 30): {"三河街社区": 3},
        D(2022, 12, 2): {"三河街社区": 4, "大山村": 1},
        D(2022, 12, 4): {"三河街社区": 3, "大山村": 1},
    }
    assert {r.name: r.paid for r in rows if r.paid} == {"三河街社区": 4, "大山村": 1}


def test_township_totals_add_the_villages_in_scope(campaign):
    totals = township_totals(actor=campaign.town.office, policy_id=f.POLICY)
    assert totals.villages == 5
    assert totals.target == 1450 + 1288 + 896 + 1612 + 1760
    assert totals.period_target == 1374 + 1238 + 850 + 1556 + 1655
    assert (totals.should_enroll, totals.enrolled, totals.paid) == (9, 7, 5)
    assert totals.completion == Decimal("0.07")  # 5 / 7006 = 0.0714%
    assert (totals.hardship, totals.hardship_paid) == (3, 2)


def test_a_collector_sees_only_their_villages(campaign):
    town = campaign.town
    rows = village_progress(actor=town.sanhe_collector, policy_id=f.POLICY)
    assert [(r.name, r.paid, r.rank, r.bottom_three) for r in rows] == [("三河街社区", 4, 1, False)]
    assert [r.name for r in village_progress(actor=town.dashan_collector, policy_id=f.POLICY)] == [
        "大山村"
    ]
    cash = collector_cash(actor=town.sanhe_collector)
    assert [c.username for c in cash] == ["sanhe"]
    channels = {
        c.channel: c.payments for c in channel_totals(actor=town.sanhe_collector, benefit_year=2023)
    }
    assert channels["village_pos"] == 0  # d1 paid in 大山村
    days = [d.day for d in daily_progress(actor=town.sanhe_collector, benefit_year=2023)]
    assert D(2022, 12, 2) not in days


def test_someone_without_a_profile_sees_nothing(campaign):
    nobody = f.user("nobody", superuser=False)
    nobody.staff.delete()
    assert village_progress(actor=nobody, policy_id=f.POLICY) == []
    assert collector_cash(actor=nobody) == []
    assert all(c.payments == 0 for c in channel_totals(actor=nobody, benefit_year=2023))


def test_channel_totals_count_payments_zero_declarations_reversals_and_net_money(campaign):
    rows = {c.channel: c for c in channel_totals(actor=campaign.town.office, benefit_year=2023)}
    assert list(rows) == [
        "wechat", "alipay", "yukuaiban", "unionpay", "cqrcb_app", "tax_bureau",
        "village_pos", "cash", "post_office",
    ]  # fmt: skip
    cash = rows["cash"]
    assert (cash.label, cash.payments, cash.reversals, cash.amount) == (
        "现金", 2, 1, Decimal("350")
    )  # fmt: skip
    wechat = rows["wechat"]
    assert (wechat.payments, wechat.zero_declarations, wechat.amount) == (2, 1, Decimal("350"))
    assert (rows["alipay"].payments, rows["alipay"].amount) == (1, Decimal("35"))
    assert rows["village_pos"].amount == Decimal("350")


def test_channel_totals_for_a_window_of_days(campaign):
    rows = {
        c.channel: c
        for c in channel_totals(
            actor=campaign.town.office,
            benefit_year=2023,
            since=D(2022, 12, 1),
            until=D(2022, 12, 3),
        )
    }
    assert (rows["alipay"].payments, rows["alipay"].amount) == (1, Decimal("35"))
    assert (rows["village_pos"].payments, rows["village_pos"].amount) == (1, Decimal("350"))
    assert (rows["cash"].payments, rows["cash"].reversals, rows["cash"].amount) == (
        0, 1, Decimal("-350")
    )  # fmt: skip
    assert rows["wechat"].payments == 0  # 11-20 and 12-05 are outside
    today = {
        c.channel: c.payments
        for c in channel_totals(
            actor=campaign.town.office,
            benefit_year=2023,
            since=D(2022, 12, 5),
            until=D(2022, 12, 5),
        )
    }
    assert sum(today.values()) == 1 and today["wechat"] == 1


def test_daily_progress_is_the_net_count_per_day_and_its_running_total(campaign):
    days = daily_progress(actor=campaign.town.office, benefit_year=2023)
    assert [(d.day, d.paid, d.cumulative_paid, d.amount) for d in days] == [
        (D(2022, 11, 10), 1, 1, Decimal("350")),
        (D(2022, 11, 15), 1, 2, Decimal("350")),
        (D(2022, 11, 20), 1, 3, Decimal("350")),
        (D(2022, 12, 1), 1, 4, Decimal("35")),
        (D(2022, 12, 2), 1, 5, Decimal("350")),
        (D(2022, 12, 3), -1, 4, Decimal("-350")),
        (D(2022, 12, 5), 1, 5, Decimal("0")),
    ]


def test_collector_cash_is_taken_less_remitted_per_collector(campaign):
    rows = {c.username: c for c in collector_cash(actor=campaign.town.office)}
    assert set(rows) == {"sanhe", "dashan"}
    sanhe = rows["sanhe"]
    # 350 (p1) + 350 (p5) - 350 (p5 reversed) taken; 200 remitted.
    assert (sanhe.taken, sanhe.remitted, sanhe.held) == (
        Decimal("350"), Decimal("200"), Decimal("150")
    )  # fmt: skip
    assert sanhe.villages == ("三河街社区",)
    assert (rows["dashan"].taken, rows["dashan"].held) == (Decimal("0"), Decimal("0"))


def test_the_progress_command_prints_the_ranking_channels_and_cash(campaign, settings, capsys):
    on_day(settings, D(2022, 12, 5))
    assert main(["progress", "--user", "office", "--date", "2022-12-03"]) == 0
    out = capsys.readouterr().out
    assert "截至2022-12-03日终" in out
    assert out.count("◀ 后三名") == 3
    assert "2022-11-27至2022-12-03各渠道缴费" in out
    assert "三河1" not in out  # no person is named
    assert "150.00" in out  # sanhe's cash in hand


def test_the_progress_command_as_json_shows_a_collector_their_village(campaign, capsys):
    assert main(["progress", "--user", "sanhe", "--date", "2022-11-20", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["policy"] == f.POLICY
    assert [(v["name"], v["paid"]) for v in data["villages"]] == [("三河街社区", 3)]
    assert [c["username"] for c in data["cash"]] == ["sanhe"]
    week = {c["channel"]: c["payments"] for c in data["channels_week"] if c["payments"]}
    assert week == {"cash": 1, "wechat": 1}  # 11-14 to 11-20: p5 and p2


def test_the_progress_command_refuses_an_unknown_user(campaign, capsys):
    assert main(["progress", "--user", "nobody"]) == 2
    assert "找不到用户" in capsys.readouterr().err


def test_a_payment_reversed_and_made_again_counts_once_on_each_day(town, settings):
    """大山村: 王五 (低保对象) pays 35 on 11-15; it is reversed on 12-03 and he pays 35
    again on 12-04. Paid at the end of 12-01: 1; of 12-03: 0; of 12-04 and now: 1; the
    daily line rises on 11-15, falls on 12-03 and rises again on 12-04."""
    wang = f.person(town.dashan, name="王五")
    f.tag(wang, "低保对象")
    first = pay(settings, D(2022, 11, 15), town.office, wang, "35", "cash")
    on_day(settings, D(2022, 12, 3))
    payment_reverse(actor=town.office, payment=first, reason="收错档次，退回重收")
    pay(settings, D(2022, 12, 4), town.office, wang, "35", "wechat")
    office = town.office
    for on, paid in ((D(2022, 12, 1), 1), (D(2022, 12, 3), 0), (D(2022, 12, 4), 1), (None, 1)):
        dashan = by_name(village_progress(actor=office, policy_id=f.POLICY, on=on))["大山村"]
        assert (dashan.paid, dashan.hardship, dashan.hardship_paid) == (paid, 1, paid), on
    days = daily_progress(actor=office, benefit_year=2023)
    assert [(d.day, d.paid, d.cumulative_paid) for d in days] == [
        (D(2022, 11, 15), 1, 1),
        (D(2022, 12, 3), -1, 0),
        (D(2022, 12, 4), 1, 1),
    ]


def test_every_enrollments_paid_state_mirrors_the_payment_ledger(campaign, capsys):
    """The progress figures read the enrollment's paid state; the payments (p5's reversal
    included) must agree with it, and a disagreement is found and named."""
    from yibao.collection.models import Enrollment
    from yibao.collection.selectors import paid_mirror_check

    office = campaign.town.office
    assert paid_mirror_check(actor=office, benefit_year=2023) == []
    assert main(["progress", "--user", "office", "--check"]) == 0
    assert "一致" in capsys.readouterr().out
    paid = Enrollment.objects.filter(status=Enrollment.Status.PAID).order_by("pk").first()
    Enrollment.objects.filter(pk=paid.pk).update(status=Enrollment.Status.UNPAID)
    assert paid_mirror_check(actor=office, benefit_year=2023) == [paid.pk]
    assert main(["progress", "--user", "office", "--check", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["mismatched_enrollments"] == [paid.pk]
