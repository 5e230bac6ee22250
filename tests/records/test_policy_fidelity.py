"""The ledger follows the documents: who pays where, under which policy, priced on which day.

Values are typed from the documents: 三江街发〔2022〕139号 三（二）2 (offline payments at the
village during the collection period, at the 社保所 afterwards), 璧城街道办发〔2022〕36号 五（一）2
(no subsidy after 2023-06-30 is not no enrollment), the city's 350 + 610 after 1 July.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yibao.collection.models import Enrollment, Payment
from yibao.collection.services import enrollment_create, payment_record
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog

from . import factories as f

BISHAN = "bishan-bicheng-2023"


def pay(actor, person, amount, *, policy_id=f.POLICY, channel="cash", **kwargs):
    return payment_record(
        actor=actor,
        person=person,
        policy_id=policy_id,
        tier=kwargs.pop("tier", 1),
        amount=Decimal(amount),
        channel=channel,
        **kwargs,
    )


# --- 三江街发〔2022〕139号 三（二）2: where offline money is taken -------------------------------


def test_a_collector_takes_cash_at_the_village_on_the_last_day_of_the_collection_period(
    town, settings
):
    settings.YIBAO_TODAY = "2022-12-15"
    payment = pay(town.sanhe_collector, f.person(town.sanhe), "350")
    assert payment.channel == "cash" and payment.amount == Decimal("350")


def test_a_collectors_cash_after_the_collection_period_is_refused_with_the_rule(town, settings):
    settings.YIBAO_TODAY = "2022-12-16"
    person = f.person(town.sanhe, name="过期现金")
    with pytest.raises(ApplicationError) as error:
        pay(town.sanhe_collector, person, "350")
    assert error.value.code == "offline_place"
    assert (
        "过期现金" in error.value.message
        and "三江街发〔2022〕139号 三（二）2" in error.value.message
    )
    assert "社保所" in error.value.message
    for channel in ("village_pos", "post_office"):
        with pytest.raises(ApplicationError) as again:
            pay(town.sanhe_collector, person, "350", channel=channel)
        assert again.value.code == "offline_place"
    assert not Payment.objects.exists()


def test_the_township_office_takes_cash_after_the_collection_period(town, settings):
    settings.YIBAO_TODAY = "2022-12-16"
    assert pay(town.office, f.person(town.sanhe), "350").amount == Decimal("350")


def test_online_payments_need_no_place_after_the_collection_period(town, settings):
    settings.YIBAO_TODAY = "2022-12-16"
    assert pay(town.sanhe_collector, f.person(town.sanhe), "350", channel="wechat").pk


# --- a person enrolls under their own township's policy ------------------------------------


def test_a_sanjiang_resident_cannot_be_paid_or_enrolled_under_another_districts_policy(town):
    person = f.person(town.sanhe, name="三江人")
    with pytest.raises(ApplicationError) as error:
        pay(town.sanhe_collector, person, "350", policy_id="tongnan-2023", channel="wechat")
    assert error.value.code == "policy_not_for_township"
    assert "三江人" in error.value.message and "三江街道" in error.value.message
    with pytest.raises(ApplicationError) as again:
        enrollment_create(actor=town.office, person=person, policy_id=BISHAN, tier=1)
    assert again.value.code == "policy_not_for_township"
    assert not Enrollment.objects.exists()


# --- 璧城街道办发〔2022〕36号 五（一）2: no subsidy is not no enrollment -------------------------


def test_other_civil_affairs_people_enroll_and_pay_960_after_30_june_in_bishan(bicheng, settings):
    village, office = bicheng
    person = f.person(village, name="建档户")
    f.tag(person, "民政部门建档其他人员")
    settings.YIBAO_TODAY = "2023-07-05"
    enrollment = enrollment_create(actor=office, person=person, policy_id=BISHAN, tier=1)
    assert (enrollment.standard, enrollment.subsidy, enrollment.personal) == (
        Decimal("960"),
        Decimal("0"),
        Decimal("960"),
    )
    payment = pay(office, person, "960", policy_id=BISHAN)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PAID and payment.amount == Decimal("960")
    assert enrollment.coverage_start == dt.date(2023, 10, 4)
    assert enrollment.identity_name == ""
    assert any("不予资助" in note for note in enrollment.quote["notes"])


# --- the server's date prices a payment -------------------------------------------------------


def test_a_collectors_earlier_paid_at_does_not_pick_the_price(town, settings):
    settings.YIBAO_TODAY = "2023-08-01"
    person = f.person(town.sanhe)
    with pytest.raises(ApplicationError) as error:
        pay(
            town.sanhe_collector,
            person,
            "350",
            channel="wechat",
            paid_at=f.aware(dt.date(2023, 6, 30)),
        )
    assert error.value.code == "backdate_office_only"
    assert not Payment.objects.exists()
    payment = pay(town.sanhe_collector, person, "960", channel="wechat")
    assert payment.enrollment.personal == Decimal("960")
    assert payment.paid_at.date() == dt.date(2023, 8, 1)


def test_a_payment_dated_after_today_is_refused(town):
    with pytest.raises(ApplicationError) as error:
        pay(
            town.office,
            f.person(town.sanhe),
            "350",
            paid_at=f.aware(f.CAMPAIGN_DAY + dt.timedelta(days=1)),
        )
    assert error.value.code == "paid_in_future"


def test_an_office_back_dates_a_paper_receipt_with_a_reason_inside_the_window(town, settings):
    settings.YIBAO_TODAY = "2023-08-01"
    person = f.person(town.sanhe, name="停电户")
    with pytest.raises(ApplicationError) as error:
        pay(town.office, person, "350", paid_at=f.aware(dt.date(2023, 7, 5)))
    assert error.value.code == "backdate_reason_required"
    # 31 days back at most: 2023-07-01 is 31 days before 2023-08-01, 2023-06-30 is 32
    with pytest.raises(ApplicationError) as old:
        pay(
            town.office,
            person,
            "350",
            paid_at=f.aware(dt.date(2023, 6, 30)),
            backdate_reason="停电期间的纸质票据",
        )
    assert old.value.code == "backdate_too_old" and "31" in old.value.message
    payment = pay(
        town.office,
        person,
        "960",
        paid_at=f.aware(dt.date(2023, 7, 1)),
        backdate_reason="停电期间的纸质票据",
    )
    assert payment.paid_at.date() == dt.date(2023, 7, 1)
    assert payment.enrollment.quoted_on == dt.date(2023, 7, 1)
    entry = AuditLog.objects.get(action="payment.backdate", object_id=str(payment.pk))
    assert entry.after["backdate_reason"] == "停电期间的纸质票据"


def test_the_back_dating_window_is_a_setting(town, settings):
    settings.YIBAO_TODAY = "2023-08-01"
    settings.YIBAO_BACKDATE_DAYS = 40
    payment = pay(
        town.office,
        f.person(town.sanhe),
        "350",
        paid_at=f.aware(dt.date(2023, 6, 30)),
        backdate_reason="税务系统缴费名单",
    )
    assert payment.amount == Decimal("350")


# --- the ledger passes the engine what the records say (璧城街道办发〔2022〕36号 八) ----------


def _bishan_person(village, name):
    return f.person(village, name=name)


def test_employee_insurance_stopped_within_3_months_with_2_years_insured_has_no_wait_in_bishan(
    bicheng, settings
):
    from yibao.registry.services import other_insurance_record

    village, office = bicheng
    person = _bishan_person(village, "停保甲")
    # insured in resident insurance 2021 and 2022 (two consecutive years), then employee
    # insurance that stopped on 2023-04-10
    for year in (2021, 2022):
        Enrollment.objects.create(
            person=person, village=village, benefit_year=year, policy_id=BISHAN, tier=1,
            standard=Decimal("320"), subsidy=Decimal("0"), personal=Decimal("320"),
            quoted_on=dt.date(year - 1, 12, 1), status=Enrollment.Status.PAID,
        )  # fmt: skip
    other_insurance_record(
        actor=office, person=person, kind="employee", benefit_year=2023,
        place="某公司", ended_on=dt.date(2023, 4, 10),
    )  # fmt: skip
    settings.YIBAO_TODAY = "2023-06-10"
    payment = pay(office, person, "350", policy_id=BISHAN)
    # 八：中断缴费3个月内、连续2年以上 → 不设等待期，自完清费用之日起
    assert payment.enrollment.coverage_start == dt.date(2023, 6, 10)


def test_with_one_year_insured_the_same_person_waits_90_days_in_bishan(bicheng, settings):
    from yibao.registry.services import other_insurance_record

    village, office = bicheng
    person = _bishan_person(village, "停保乙")
    Enrollment.objects.create(
        person=person, village=village, benefit_year=2022, policy_id=BISHAN, tier=1,
        standard=Decimal("320"), subsidy=Decimal("0"), personal=Decimal("320"),
        quoted_on=dt.date(2021, 12, 1), status=Enrollment.Status.PAID,
    )  # fmt: skip
    other_insurance_record(
        actor=office, person=person, kind="employee", benefit_year=2023,
        ended_on=dt.date(2023, 4, 10),
    )  # fmt: skip
    settings.YIBAO_TODAY = "2023-06-10"
    payment = pay(office, person, "350", policy_id=BISHAN)
    # 5月1日后缴费满90日：6月10日缴费，9月9日起
    assert payment.enrollment.coverage_start == dt.date(2023, 9, 9)


def test_employee_insurance_still_running_or_student_insurance_elsewhere_is_refused(town):
    from yibao.registry.services import other_insurance_record

    employed = f.person(town.sanhe, name="在职")
    other_insurance_record(actor=town.office, person=employed, kind="employee", benefit_year=2023)
    with pytest.raises(ApplicationError) as error:
        pay(town.office, employed, "350")
    assert error.value.code == "employee_insured" and "参保范围" in error.value.message
    student = f.person(town.sanhe, name="在校")
    other_insurance_record(
        actor=town.office, person=student, kind="student", benefit_year=2023, place="某大学"
    )
    with pytest.raises(ApplicationError) as error:
        pay(town.office, student, "350")
    assert error.value.code == "student_insured"
    assert "万州高峰办发〔2023〕35号 二" in error.value.message


def test_employee_insurance_that_stopped_no_longer_stands_in_the_way(town):
    from yibao.registry.services import other_insurance_record

    person = f.person(town.sanhe, name="已停保")
    other_insurance_record(
        actor=town.office, person=person, kind="employee", benefit_year=2023,
        ended_on=dt.date(2022, 11, 30),
    )  # fmt: skip
    assert pay(town.office, person, "350").amount == Decimal("350")


# --- a back-dated entry names the collector who took the cash ---------------------------------


def test_an_office_entry_of_a_collectors_paper_receipt_puts_the_cash_in_their_custody(
    town, settings
):
    from yibao.collection.selectors import cash_on_hand

    settings.YIBAO_TODAY = "2022-12-20"
    taker = town.sanhe_collector.staff
    payment = pay(
        town.office,
        f.person(town.sanhe, name="停电户"),
        "350",
        paid_at=f.aware(dt.date(2022, 12, 10)),
        backdate_reason="停电期间的纸质票据",
        taken_by=taker,
    )
    assert payment.collector == taker and payment.recorded_by == town.office
    assert cash_on_hand(taker) == Decimal("350")
    assert cash_on_hand(town.office.staff) == Decimal("0")
    entry = AuditLog.objects.get(action="payment.backdate", object_id=str(payment.pk))
    assert (entry.after["taken_by"], entry.after["backdate_reason"]) == (
        "sanhe",
        "停电期间的纸质票据",
    )
    assert entry.after["collector_id"] == taker.pk


def test_the_named_collector_must_work_in_the_payments_village(town, settings):
    settings.YIBAO_TODAY = "2022-12-20"
    for taker, code in (
        (town.dashan_collector.staff, "collector_not_of_village"),
        (town.office.staff, "collector_not_of_village"),  # an office is not a collector
    ):
        with pytest.raises(ApplicationError) as error:
            pay(
                town.office,
                f.person(town.sanhe),
                "350",
                paid_at=f.aware(dt.date(2022, 12, 10)),
                backdate_reason="纸质票据",
                taken_by=taker,
            )
        assert error.value.code == code
    assert not Payment.objects.exists() and not Enrollment.objects.exists()


def test_only_an_office_names_another_collector(town):
    with pytest.raises(ApplicationError) as error:
        pay(
            town.sanhe_collector,
            f.person(town.sanhe),
            "350",
            taken_by=town.sanhe_collector.staff,
        )
    assert error.value.code == "taken_by_office_only"


def test_a_collectors_cash_after_12_15_is_refused_even_when_the_office_enters_it(town, settings):
    # 三江街发〔2022〕139号 三（二）2: after the collection period offline money is taken at the
    # 社保所, not in the village; a paper receipt a collector wrote on 12-16 breaks the rule.
    settings.YIBAO_TODAY = "2022-12-20"
    with pytest.raises(ApplicationError) as error:
        pay(
            town.office,
            f.person(town.sanhe),
            "350",
            paid_at=f.aware(dt.date(2022, 12, 16)),
            backdate_reason="纸质票据",
            taken_by=town.sanhe_collector.staff,
        )
    assert error.value.code == "offline_place"


def test_yibao_pay_back_dates_a_paper_receipt_for_the_collector_who_took_it(town, settings, capsys):
    import json

    from yibao.cli import main

    settings.YIBAO_TODAY = "2022-12-20"
    person = f.person(town.sanhe, name="停电户")
    argv = ["pay", "--person", person.id_number, "--tier", "1", "--amount", "350"]
    argv += ["--paid-on", "2022-12-10", "--taken-by", "sanhe", "--receipt", "ZP-7", "--json"]
    assert main([*argv, "--user", "office"]) == 2  # no reason
    assert json.loads(capsys.readouterr().out)["code"] == "backdate_reason_required"
    assert main([*argv, "--reason", "停电纸质票据", "--user", "office"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["amount"], out["collector"], out["paid_at"][:10]) == (
        "350.00",
        "sanhe",
        "2022-12-10",
    )
    assert main([*argv, "--reason", "停电纸质票据", "--user", "office"]) == 0  # the same receipt
    assert json.loads(capsys.readouterr().out)["created"] is False
    assert Payment.objects.count() == 1
