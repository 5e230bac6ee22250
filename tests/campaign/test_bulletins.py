"""Bulletins (通报) on the documents' schedules, played over simulated campaign days, and
their figures checked against what the test itself recorded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from tests.records import factories as f
from yibao.campaign.exports import bulletin_workbook, subsidy_workbook, workbook_save
from yibao.campaign.models import Bulletin
from yibao.campaign.selectors import assessment_list, bulletin_compute, subsidy_accounts
from yibao.campaign.services import (
    TargetLine,
    bulletin_issue,
    bulletins_due,
    target_table_accept,
    target_table_draft,
)
from yibao.collection.services import payment_record
from yibao.core.errors import ApplicationError

D = dt.date
SANJIANG = f.POLICY
AIKOU = "xiushan-aikou-2023"


def days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def play(settings, *, policy, office, villages, first, last, skip=()):
    """One resident pays each day, in turn in each village; the cron job runs each evening
    (except on ``skip`` days). Returns (issued dates in order of issue, paid per day)."""
    issued, paid_by = [], {}
    for n, day in enumerate(days(first, last)):
        settings.YIBAO_TODAY = day.isoformat()
        village = villages[n % len(villages)]
        payment_record(
            actor=office,
            person=f.person(village),
            policy_id=policy,
            tier=1,
            amount="350",
            channel="wechat",
        )
        paid_by[day] = n + 1
        if day not in skip:
            issued += [b.on for b in bulletins_due(actor=office, policy_id=policy)]
    return issued, paid_by


def test_sanjiang_reports_by_dekad_in_november_and_weekly_in_its_december_period(town, settings):
    villages = [town.sanhe, town.dashan, town.wuli]
    issued, paid_by = play(
        settings,
        policy=SANJIANG,
        office=town.office,
        villages=villages,
        first=D(2022, 11, 1),
        last=D(2022, 12, 15),
    )
    # 三江街发〔2022〕139号 五（四）: every 旬 in November, weekly in December.
    assert issued == [
        D(2022, 11, 10), D(2022, 11, 20), D(2022, 11, 30), D(2022, 12, 7), D(2022, 12, 14),
    ]  # fmt: skip
    for bulletin in Bulletin.objects.filter(policy_id=SANJIANG):
        figures = bulletin.figures
        assert figures["totals"]["paid"] == paid_by[bulletin.on]
        assert bulletin.scheduled
    dec7 = Bulletin.objects.get(on=D(2022, 12, 7)).figures
    assert dec7["previous_on"] == "2022-11-30"
    # 11 payments from 12-01 to 12-11 were made in turn: 12-01..12-07 is 7 days.
    assert sum(r["change_paid"] for r in dec7["rows"]) == 7
    assert sum(r["paid_last_7_days"] for r in dec7["rows"]) == 7


def test_aikou_reports_on_mondays_in_november_and_daily_from_1_december(aikou, settings):
    villages = [aikou.villages[n] for n in ("隘口居委", "坝芒村", "百岁村")]
    issued, paid_by = play(
        settings,
        policy=AIKOU,
        office=aikou.office,
        villages=villages,
        first=D(2022, 11, 2),
        last=D(2022, 12, 15),
        skip={D(2022, 12, 3)},
    )
    mondays = [D(2022, 11, 7), D(2022, 11, 14), D(2022, 11, 21), D(2022, 11, 28)]
    assert [d.weekday() for d in mondays] == [0, 0, 0, 0]
    assert issued == [*mondays, *days(D(2022, 12, 1), D(2022, 12, 15))]  # 12-03 caught up on 12-04
    assert (
        Bulletin.objects.get(on=D(2022, 12, 3)).figures["totals"]["paid"] == paid_by[D(2022, 12, 3)]
    )
    # Aikou 七（五）: the bottom three are named; a village there twice running is marked.
    rows = Bulletin.objects.get(on=D(2022, 12, 15)).figures["rows"]
    assert sum(r["progress"]["bottom_three"] for r in rows) == 3
    assert {r["progress"]["name"] for r in rows if r["interview"]} <= {
        r["progress"]["name"] for r in rows if r["progress"]["bottom_three"]
    }


def test_a_bulletin_is_issued_once_per_day_and_not_for_a_day_not_yet_over(town, settings):
    settings.YIBAO_TODAY = "2022-12-05"
    first, created = bulletin_issue(actor=town.office, policy_id=SANJIANG, on=D(2022, 12, 5))
    again, created_again = bulletin_issue(actor=town.office, policy_id=SANJIANG, on=D(2022, 12, 5))
    assert (created, created_again, again.pk) == (True, False, first.pk)
    with pytest.raises(ApplicationError) as error:
        bulletin_issue(actor=town.office, policy_id=SANJIANG, on=D(2022, 12, 6))
    assert error.value.code == "future_date"
    with pytest.raises(ApplicationError) as error:
        bulletin_issue(actor=town.sanhe_collector, policy_id=SANJIANG, on=D(2022, 12, 4))
    assert error.value.code == "office_required"


def small_targets(town, targets):
    table = target_table_draft(
        actor=town.office,
        policy_id=SANJIANG,
        source_name="测试任务表",
        columns=[("target", "目标任务数")],
        lines=[TargetLine(village=v, values={"target": t}) for v, t in targets.items()],
        totals={"target": sum(targets.values())},
    )
    return target_table_accept(actor=town.office, table=table)


def test_assessment_follows_sanjiangs_rule_through_the_policy_engine(town, settings):
    small_targets(town, {"三河街社区": 50, "大山村": 10, "五里村": 10})
    settings.YIBAO_TODAY = "2022-12-05"
    for _ in range(49):  # 49 / 50 = 98%: +0.1 per full point above 96 -> +0.2 (DOMAIN)
        payment_record(actor=town.office, person=f.person(town.sanhe), policy_id=SANJIANG,
                       tier=1, amount="350", channel="cash")  # fmt: skip
    for _ in range(8):  # 大山村 80% with its hardship person unpaid -> -1
        payment_record(actor=town.office, person=f.person(town.dashan), policy_id=SANJIANG,
                       tier=1, amount="350", channel="cash")  # fmt: skip
    f.tag(f.person(town.dashan, name="困难户"), "低保对象")
    rows = {r.name: r for r in assessment_list(actor=town.office, policy_id=SANJIANG)}
    assert rows["三河街社区"].assessment.score == Decimal("0.2")
    assert rows["大山村"].assessment.score == Decimal("-1.0")
    # 五里村: 0% but nobody there is a hardship case: a case the rule does not cover.
    assert rows["五里村"].assessment.score is None
    assert "未规定此情形" in rows["五里村"].assessment.reason
    assert rows["合计"].completion == Decimal("81.43")  # 57 / 70


def test_subsidy_accounts_per_department_and_identity(town, settings):
    settings.YIBAO_TODAY = "2022-12-05"
    poor = f.person(town.sanhe, name="低保户")
    f.tag(poor, "低保对象", department="綦江区民政局")
    destitute = f.person(town.dashan, name="特困户")
    f.tag(destitute, "特困人员", department="綦江区民政局")
    for person, amount in ((poor, "35"), (destitute, "0")):
        payment_record(actor=town.office, person=person, policy_id=SANJIANG, tier=1,
                       amount=amount, channel="cash")  # fmt: skip
    lines, totals = subsidy_accounts(actor=town.office, policy_id=SANJIANG)
    # Sanjiang 2023 tier 1 is 350: 低保对象 pays 35 (subsidy 315), 特困人员 0 (subsidy 350).
    assert [(t.department, t.identity, t.people, t.subsidy) for t in totals] == [
        ("綦江区民政局", "低保对象", 1, Decimal("315")),
        ("綦江区民政局", "特困人员", 1, Decimal("350")),
    ]
    assert {(x.village, x.identity) for x in lines} == {
        ("三河街社区", "低保对象"),
        ("大山村", "特困人员"),
    }
    sanhe_only, _ = subsidy_accounts(actor=town.sanhe_collector, policy_id=SANJIANG)
    assert [x.village for x in sanhe_only] == ["三河街社区"]


def test_bulletin_and_subsidy_workbooks(town, settings, tmp_path):
    settings.YIBAO_TODAY = "2022-12-05"
    poor = f.person(town.sanhe, name="低保户", phone="13900000001")
    f.tag(poor, "低保对象")
    payment_record(actor=town.office, person=f.person(town.wuli), policy_id=SANJIANG, tier=1,
                   amount="350", channel="cash")  # fmt: skip
    figures = bulletin_compute(actor=town.office, policy_id=SANJIANG, on=D(2022, 12, 5))
    path = workbook_save(bulletin_workbook(figures, township="三江街道"), tmp_path / "通报.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["通报"]
    assert sheet["A1"].value == "三江街道2023年度城乡居民医保征缴进度通报"
    assert [c.value for c in sheet[3]][:6] == [
        "名次",
        "村（社区）",
        "目标任务数",
        "核减",
        "已缴费",
        "完成率",
    ]
    assert [c.value for c in sheet[4]][:5] == [1, "五里村", 896, 0, 1]
    assert sheet["F4"].number_format == "0.00%"
    missing = book["困难群体未参保名单"]
    assert [c.value for c in missing[4]][:2] == ["三河街社区", "低保户"]
    assert "*" in missing["C4"].value  # masked
    lines, totals = subsidy_accounts(actor=town.office, policy_id=SANJIANG)
    book = subsidy_workbook(lines, totals, title="资助", subtitle="测试")
    assert book.sheetnames == ["按部门和类别", "按村（社区）"]


def pay_on(settings, office, village, day, *, recorded_on=None):
    """One resident of ``village`` pays 350 on ``day``; recorded that day, or on
    ``recorded_on`` by the office as a back-dated paper receipt."""
    settings.YIBAO_TODAY = (recorded_on or day).isoformat()
    return payment_record(
        actor=office,
        person=f.person(village),
        policy_id=SANJIANG,
        tier=1,
        amount="350",
        channel="cash",
        paid_at=f.aware(day),
        backdate_reason="停电期间的纸质票据" if recorded_on else "",
    )


def test_the_change_since_the_previous_bulletin_is_read_from_the_figures_it_published(
    town, settings
):
    """三河街社区: two paid on 11-10 and the 11-10 bulletin issued that evening (paid 2);
    on 11-12 the office back-dates a paper receipt to 11-10, and one more pays on 11-15.
    The 11-20 bulletin shows 4 paid, +2 against the 2 the 11-10 bulletin published (the
    ledger as of 11-10 now says 3, which would give +1)."""
    for _ in range(2):
        pay_on(settings, town.office, town.sanhe, D(2022, 11, 10))
    bulletin_issue(actor=town.office, policy_id=SANJIANG, on=D(2022, 11, 10))
    pay_on(settings, town.office, town.sanhe, D(2022, 11, 10), recorded_on=D(2022, 11, 12))
    pay_on(settings, town.office, town.sanhe, D(2022, 11, 15))
    settings.YIBAO_TODAY = "2022-11-20"
    figures = bulletin_compute(actor=town.office, policy_id=SANJIANG, on=D(2022, 11, 20))
    sanhe = next(r for r in figures.rows if r.progress.name == "三河街社区")
    assert (figures.previous_on, figures.previous_source) == (D(2022, 11, 10), "issued")
    assert (sanhe.progress.paid, sanhe.previous_paid, sanhe.change_paid) == (4, 2, 2)
    assert any("11-10已发布通报" in note for note in figures.notes)


def test_an_issued_bulletin_is_shown_and_exported_with_the_figures_it_published(town, settings):
    """The 11-10 bulletin published 2 paid in 三河街社区; a receipt back-dated into 11-10
    afterwards changes the ledger (3), not the issued bulletin."""
    from yibao.campaign.selectors import BulletinFigures, bulletin_figures

    for _ in range(2):
        pay_on(settings, town.office, town.sanhe, D(2022, 11, 10))
    bulletin, _ = bulletin_issue(actor=town.office, policy_id=SANJIANG, on=D(2022, 11, 10))
    pay_on(settings, town.office, town.sanhe, D(2022, 11, 10), recorded_on=D(2022, 11, 12))
    shown = bulletin_figures(actor=town.office, policy_id=SANJIANG, on=D(2022, 11, 10))
    now = bulletin_compute(actor=town.office, policy_id=SANJIANG, on=D(2022, 11, 10))
    paid = {r.progress.name: r.progress.paid for r in shown.rows}
    assert (paid["三河街社区"], shown.totals.paid, now.totals.paid) == (2, 2, 3)
    assert shown == BulletinFigures.from_dict(bulletin.figures)


def test_without_an_issued_bulletin_the_change_is_against_the_ledger_on_the_scheduled_day(
    town, settings
):
    """Same payments, no bulletin issued on 11-10: the change is against the ledger at the
    end of 11-10 (3 paid, the back-dated receipt included), +1."""
    for _ in range(2):
        pay_on(settings, town.office, town.sanhe, D(2022, 11, 10))
    pay_on(settings, town.office, town.sanhe, D(2022, 11, 10), recorded_on=D(2022, 11, 12))
    pay_on(settings, town.office, town.sanhe, D(2022, 11, 15))
    settings.YIBAO_TODAY = "2022-11-20"
    figures = bulletin_compute(actor=town.office, policy_id=SANJIANG, on=D(2022, 11, 20))
    sanhe = next(r for r in figures.rows if r.progress.name == "三河街社区")
    assert (figures.previous_on, figures.previous_source) == (D(2022, 11, 10), "ledger")
    assert (sanhe.progress.paid, sanhe.previous_paid, sanhe.change_paid) == (4, 3, 1)


def test_aikou_marks_the_villages_below_its_95_percent_enrollment_floor(aikou, settings, tmp_path):
    """隘口府发〔2022〕50号 一: 参保率达95%以上. Annex 1 prints 坝芒村's should-enroll
    population as 3226; with 3 of them paid every village is far below 95%, and so is the
    township; Sanjiang's document sets no floor and marks nothing."""
    settings.YIBAO_TODAY = "2022-11-20"
    for _ in range(3):
        payment_record(
            actor=aikou.office,
            person=f.person(aikou.villages["坝芒村"]),
            policy_id=AIKOU,
            tier=1,
            amount="350",
            channel="wechat",
        )
    figures = bulletin_compute(actor=aikou.office, policy_id=AIKOU, on=D(2022, 11, 20))
    bamang = next(r for r in figures.rows if r.progress.name == "坝芒村")
    assert figures.floor is not None
    assert (figures.floor.percent, figures.floor.cite) == (Decimal("95"), "隘口府发〔2022〕50号 一")
    assert (bamang.enrollment_base, bamang.progress.paid) == (3226, 3)
    assert all(r.progress.below_floor for r in figures.rows)
    assert figures.totals.below_floor
    assert any("参保率达95%以上" in note for note in figures.notes)
    sheet = openpyxl.load_workbook(
        workbook_save(bulletin_workbook(figures), tmp_path / "通报.xlsx")
    )["通报"]
    marks = [row[-1].value or "" for row in sheet.iter_rows(min_row=4, max_row=3 + 11)]
    assert all("低于95%" in mark for mark in marks)


def test_sanjiang_sets_no_enrollment_floor_and_marks_no_village(town, settings):
    settings.YIBAO_TODAY = "2022-11-20"
    figures = bulletin_compute(actor=town.office, policy_id=SANJIANG, on=D(2022, 11, 20))
    assert figures.floor is None
    assert not any(r.progress.below_floor for r in figures.rows)


def test_the_bulletin_command_writes_a_pdf_beside_the_workbook(town, settings, tmp_path, capsys):
    from yibao.cli import main

    pay_on(settings, town.office, town.sanhe, D(2022, 11, 10))
    settings.YIBAO_TODAY = "2022-11-10"
    code = main(
        ["bulletin", "--user", "office", "--date", "2022-11-10", "--pdf", "--out-dir",
         str(tmp_path)]
    )  # fmt: skip
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        f"{town.sanhe.township.name}征缴进度通报2022-11-10.{ext}" for ext in ("pdf", "xlsx")
    ]
    assert (tmp_path / names[0]).read_bytes().startswith(b"%PDF-")
    assert "已写入" in capsys.readouterr().out
