"""What an office records about a person's benefit year and the engine needs: its decision to
enroll without the subsidy of a document the project lacks (潼医保发〔2022〕36号 四（三） cites
潼南府办发〔2021〕77号), a graduating student (三江街发〔2022〕139号 一（一）: covered to 31
December instead of 31 August), a resident moving to employee insurance (璧城街道办发〔2022〕36号
八: 预参保 during its waiting period).

Amounts are typed from the documents: tier 1 350, tier 2 725, students' tier 1 320.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client

from yibao.api.tokens import api_token_issue
from yibao.cli import main
from yibao.collection.campaign import desk_statuses
from yibao.collection.models import Enrollment, EnrollmentFact, StaffMember
from yibao.collection.selectors import ledger_rows
from yibao.collection.services import (
    enrollment_fact_end,
    enrollment_fact_record,
    payment_record,
    policy_supplement_load,
)
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.models import District, Township, Village

from . import factories as f
from .test_policy_supplements import SUPPLEMENT

TONGNAN = "tongnan-2023"
BISHAN = "bishan-bicheng-2023"
WITHOUT = EnrollmentFact.Kind.WITHOUT_SUBSIDY
GRADUATING = EnrollmentFact.Kind.GRADUATING
MOVING = EnrollmentFact.Kind.EMPLOYEE_WAITING


@pytest.fixture
def tongnan(db, settings):
    settings.YIBAO_TODAY = "2022-11-15"  # 潼医保发〔2022〕36号 三: the period opens 2022-10-25
    district = District.objects.create(name="潼南区", code="500152")
    township = Township.objects.create(district=district, name="桂林街道")
    village = Village.objects.create(township=township, name="金佛社区", seq=1)
    person = f.person(village, name="特困甲")
    f.tag(person, "特困人员")
    return (
        village,
        person,
        f.user("jinfo", villages=(village,)),
        f.user("guilin_office", role=StaffMember.Role.TOWNSHIP, township=township),
        f.user("tongnan_bureau", role=StaffMember.Role.DISTRICT, district=district),
    )


def decide(
    actor, person, *, kind=WITHOUT, policy_id=TONGNAN, reason="77号文件未到，本人要求先参保"
):
    return enrollment_fact_record(
        actor=actor, person=person, policy_id=policy_id, kind=kind, reason=reason
    )


def pay(actor, person, amount, *, policy_id=TONGNAN, **kwargs):
    return payment_record(
        actor=actor,
        person=person,
        policy_id=policy_id,
        tier=kwargs.pop("tier", 1),
        amount=Decimal(amount),
        channel=kwargs.pop("channel", "cash"),
        **kwargs,
    )


# --- 潼南府办发〔2021〕77号 missing: enrollment without subsidy only by an office's decision ---


def test_a_collector_cannot_decide_to_enroll_a_hardship_person_without_the_missing_subsidy(
    tongnan,
):
    _village, person, collector, _office, _bureau = tongnan
    with pytest.raises(ApplicationError) as error:
        decide(collector, person)
    assert error.value.code == "office_required"
    with pytest.raises(ApplicationError) as error:
        pay(collector, person, "350")
    assert error.value.code == "subsidy_rule_missing"
    assert not EnrollmentFact.objects.exists() and not Enrollment.objects.exists()


def test_after_the_township_offices_decision_the_person_pays_the_full_350_without_subsidy(
    tongnan,
):
    _village, person, collector, office, _bureau = tongnan
    fact = decide(office, person)
    entry = AuditLog.objects.get(action="enrollment_fact.record")
    assert entry.after["reason"] == "77号文件未到，本人要求先参保"
    assert entry.after["kind"] == "without_subsidy" and fact.benefit_year == 2023
    # the decision is the office's; the village collector then takes the money
    payment = pay(collector, person, "350")
    enrollment = payment.enrollment
    assert (enrollment.standard, enrollment.subsidy, enrollment.personal) == (
        Decimal("350"),
        Decimal("0"),
        Decimal("350"),
    )
    assert enrollment.identity_name == ""
    assert enrollment.coverage_start == dt.date(2023, 1, 1)  # 四（一）: paid in the period
    assert any("潼南府办发〔2021〕77号" in note for note in enrollment.quote["notes"])


def test_the_district_office_may_decide_as_well_and_tier_2_costs_725(tongnan):
    _village, person, _collector, _office, bureau = tongnan
    decide(bureau, person)
    assert pay(bureau, person, "725", tier=2).enrollment.subsidy == Decimal("0")


def test_a_decision_needs_a_reason_and_something_missing(tongnan):
    village, person, _collector, office, _bureau = tongnan
    with pytest.raises(ApplicationError) as error:
        decide(office, person, reason="  ")
    assert error.value.code == "reason_required"
    plain = f.person(village, name="普通乙")
    with pytest.raises(ApplicationError) as error:
        decide(office, plain)
    assert error.value.code == "nothing_missing"
    decide(office, person)
    with pytest.raises(ApplicationError) as error:
        decide(office, person)
    assert error.value.code == "already_recorded"
    assert EnrollmentFact.objects.count() == 1


def test_once_the_supplement_is_loaded_the_quote_applies_it_despite_the_decision(tongnan):
    _village, person, _collector, office, bureau = tongnan
    decide(office, person)
    policy_supplement_load(actor=bureau, text=SUPPLEMENT)
    payment = pay(office, person, "0")
    assert payment.is_zero_declaration
    assert payment.enrollment.subsidy == Decimal("350")


def test_an_ended_decision_no_longer_applies(tongnan):
    _village, person, _collector, office, _bureau = tongnan
    fact = decide(office, person)
    with pytest.raises(ApplicationError) as error:
        enrollment_fact_end(actor=office, fact=fact, reason="")
    assert error.value.code == "reason_required"
    enrollment_fact_end(actor=office, fact=fact, reason="登记错人")
    fact.refresh_from_db()
    assert fact.ended_at is not None and fact.end_reason == "登记错人"
    assert AuditLog.objects.filter(action="enrollment_fact.end").count() == 1
    with pytest.raises(ApplicationError) as error:
        pay(office, person, "350")
    assert error.value.code == "subsidy_rule_missing"


# --- graduating: 三江街发〔2022〕139号 一（一） ------------------------------------------------


def _student_paid(town):
    student = f.person(town.sanhe, name="大学生丙")
    pay(town.office, student, "320", policy_id=f.POLICY, population="university_student")
    return student, Enrollment.objects.get(person=student)


def test_recording_a_graduate_extends_a_paid_students_coverage_to_31_december(town):
    student, enrollment = _student_paid(town)
    assert enrollment.coverage_end == dt.date(2023, 8, 31)
    fact = decide(town.office, student, kind=GRADUATING, policy_id=f.POLICY, reason="2023届毕业")
    enrollment.refresh_from_db()
    assert enrollment.coverage_end == dt.date(2023, 12, 31)
    assert enrollment.personal == Decimal("320")
    change = AuditLog.objects.get(action="enrollment.coverage_end")
    assert (change.before["coverage_end"], change.after["coverage_end"]) == (
        "2023-08-31",
        "2023-12-31",
    )
    enrollment_fact_end(actor=town.office, fact=fact, reason="延期毕业")
    enrollment.refresh_from_db()
    assert enrollment.coverage_end == dt.date(2023, 8, 31)


def test_a_graduate_recorded_before_paying_is_covered_to_31_december_when_paid(town):
    student = f.person(town.sanhe, name="大学生丁")
    decide(town.office, student, kind=GRADUATING, policy_id=f.POLICY, reason="2023届毕业")
    payment = pay(
        town.sanhe_collector, student, "320", policy_id=f.POLICY, population="university_student"
    )
    assert payment.enrollment.coverage_end == dt.date(2023, 12, 31)


def test_a_resident_enrollment_is_not_a_graduates(town):
    resident = f.person(town.sanhe, name="居民戊")
    pay(town.office, resident, "350", policy_id=f.POLICY)
    with pytest.raises(ApplicationError) as error:
        decide(town.office, resident, kind=GRADUATING, policy_id=f.POLICY)
    assert error.value.code == "not_a_student"


# --- 预参保: 璧城街道办发〔2022〕36号 八 ---------------------------------------------------


def _moving(bicheng, settings):
    village, office = bicheng
    person = f.person(village, name="转职工己")
    settings.YIBAO_TODAY = "2022-12-01"
    pay(office, person, "350", policy_id=BISHAN)
    settings.YIBAO_TODAY = "2023-06-01"
    enrollment_fact_record(
        actor=office,
        person=person,
        policy_id=BISHAN,
        kind=MOVING,
        reason="某公司参加职工医保",
        starts_on=dt.date(2023, 6, 1),
        ends_on=dt.date(2023, 8, 31),
    )
    return village, person


@pytest.mark.parametrize(
    ("today", "desk", "ledger"),
    [
        ("2023-05-31", "paid", "已缴费"),
        ("2023-06-01", "pre_enrolled", "预参保"),
        ("2023-08-31", "pre_enrolled", "预参保"),
        ("2023-09-01", "employee", "已转职工医保"),
    ],
)
def test_a_resident_moving_to_employee_insurance_is_pre_enrolled_during_its_waiting_period(
    bicheng, settings, today, desk, ledger
):
    village, person = _moving(bicheng, settings)
    settings.YIBAO_TODAY = today
    status = desk_statuses([person], 2023)[person.pk]
    assert status.key == desk and status.settled
    [row] = ledger_rows(persons=[person], village=village, benefit_year=2023)
    assert row.status == ledger


def test_pre_enrollment_needs_the_rule_a_paid_enrollment_and_both_dates(town, bicheng, settings):
    village, office = bicheng
    unpaid = f.person(village, name="未缴庚")
    settings.YIBAO_TODAY = "2023-06-01"
    window = {"starts_on": dt.date(2023, 6, 1), "ends_on": dt.date(2023, 8, 31)}
    with pytest.raises(ApplicationError) as error:
        enrollment_fact_record(
            actor=office, person=unpaid, policy_id=BISHAN, kind=MOVING, reason="转职工", **window
        )
    assert error.value.code == "not_insured"
    with pytest.raises(ApplicationError) as error:
        enrollment_fact_record(
            actor=office, person=unpaid, policy_id=BISHAN, kind=MOVING, reason="转职工"
        )
    assert error.value.code == "dates_required"
    # 三江街发〔2022〕139号 states no 预参保
    sanjiang = f.person(town.sanhe, name="三江辛")
    with pytest.raises(ApplicationError) as error:
        enrollment_fact_record(
            actor=town.office, person=sanjiang, policy_id=f.POLICY, kind=MOVING, reason="转职工",
            **window,
        )  # fmt: skip
    assert error.value.code == "rule_missing"


# --- the edges: page, API, CLI -------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_the_collectors_card_shows_what_is_missing_and_offers_no_decision(tongnan):
    _village, person, collector, _office, _bureau = tongnan
    client = _client(collector)
    page = client.get(f"/desk/person/{person.pk}/").content.decode()
    assert 'data-test="missing-document"' in page and "潼南府办发〔2021〕77号" in page
    assert 'data-test="office-only"' in page and 'data-test="fact-form"' not in page
    response = client.post(
        f"/desk/person/{person.pk}/facts/", {"kind": "without_subsidy", "reason": "试图"}
    )
    assert response.status_code == 403
    assert not EnrollmentFact.objects.exists()


def test_the_office_decides_on_the_card_and_a_bad_submit_keeps_what_was_typed(tongnan):
    _village, person, _collector, office, _bureau = tongnan
    client = _client(office)
    page = client.get(f"/desk/person/{person.pk}/").content.decode()
    assert 'data-test="fact-form"' in page
    bad = client.post(
        f"/desk/person/{person.pk}/facts/",
        {"kind": "employee_waiting", "reason": "转职工", "starts_on": "2023-13-01"},
    )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "日期格式应为 YYYY-MM-DD" in text and 'value="转职工"' in text
    response = client.post(
        f"/desk/person/{person.pk}/facts/", {"kind": "without_subsidy", "reason": "77号未到"}
    )
    assert response.status_code == 302
    page = client.get(f"/desk/person/{person.pk}/").content.decode()
    assert "文件未收录期间不享受资助参保（经办决定）" in page and "350.00" in page
    fact = EnrollmentFact.objects.get()
    assert client.post(f"/desk/facts/{fact.pk}/end/", {"reason": "撤回"}).status_code == 302
    fact.refresh_from_db()
    assert fact.end_reason == "撤回"


def test_the_api_records_lists_and_ends_a_decision_for_offices_only(tongnan):
    _village, person, collector, office, _bureau = tongnan
    body = {"policy": TONGNAN, "kind": "without_subsidy", "reason": "77号未到"}
    path = f"/api/v1/persons/{person.pk}/enrollment-facts"

    def headers(user):
        return {"HTTP_AUTHORIZATION": f"Bearer {api_token_issue(actor=user, name='t').secret}"}

    refused = Client().post(path, body, content_type="application/json", **headers(collector))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "office_required"
    created = Client().post(path, body, content_type="application/json", **headers(office))
    assert created.status_code == 201, created.json()
    assert created.json()["kind_label"] == "文件未收录期间不享受资助参保（经办决定）"
    listed = Client().get(path, **headers(collector)).json()
    assert [fact["kind"] for fact in listed] == ["without_subsidy"]
    ended = Client().post(
        f"/api/v1/enrollment-facts/{created.json()['id']}/end",
        {"reason": "撤回"},
        content_type="application/json",
        **headers(office),
    )
    assert ended.status_code == 200 and ended.json()["end_reason"] == "撤回"


def test_yibao_fact_records_and_lists_as_the_named_user(tongnan, capsys):
    _village, person, _collector, _office, _bureau = tongnan
    argv = ["fact", "record", "--person", person.id_number, "--kind", "without_subsidy"]
    assert main([*argv, "--reason", "77号未到", "--user", "jinfo"]) == 2
    assert "街道社保所或区医保局" in capsys.readouterr().err
    assert main([*argv, "--reason", "77号未到", "--user", "guilin_office", "--json"]) == 0
    [recorded] = json.loads(capsys.readouterr().out)
    assert (recorded["policy"], recorded["benefit_year"]) == (TONGNAN, 2023)
    assert main(["fact", "list", "--person", person.id_number, "--user", "jinfo"]) == 0
    assert "文件未收录期间不享受资助参保（经办决定）　依据：77号未到" in capsys.readouterr().out


def test_after_the_last_payment_day_the_decision_is_refused_with_that_rule(tongnan, settings):
    # 潼医保发〔2022〕36号 三: no payment after 2023-09-30 (newborns excepted)
    _village, person, _collector, office, _bureau = tongnan
    settings.YIBAO_TODAY = "2023-10-08"
    with pytest.raises(ApplicationError) as error:
        decide(office, person)
    assert error.value.code == "after_last_payment_day"
    assert not EnrollmentFact.objects.exists()


def test_yibao_pay_charges_a_recorded_graduate_320_covered_to_31_december(town, capsys):
    student = f.person(town.sanhe, name="大学生壬")
    decide(town.office, student, kind=GRADUATING, policy_id=f.POLICY, reason="2023届毕业")
    argv = ["pay", "--person", student.id_number, "--tier", "1", "--amount", "320"]
    argv += ["--population", "university_student", "--user", "sanhe", "--json"]
    assert main(argv) == 0
    enrollment = Enrollment.objects.get(person=student)
    assert (enrollment.personal, enrollment.coverage_end) == (
        Decimal("320"),
        dt.date(2023, 12, 31),
    )
