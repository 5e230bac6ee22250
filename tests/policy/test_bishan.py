"""Bicheng, Bishan (璧城街道办发〔2022〕36号): subsidies from the text, its order, its dates, and the CLI."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from yibao.cli import main
from yibao.policy import IdentityClaim, QuoteRefused, QuoteRequest, get_policy

BISHAN = "bishan-bicheng-2023"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def quote(paid_on: str, tier: int, *keys: str, certified_on: str | None = None, **extra):  # type: ignore[no-untyped-def]
    certified = date.fromisoformat(certified_on) if certified_on else None
    request = QuoteRequest(
        date.fromisoformat(paid_on),
        tier,
        tuple(IdentityClaim(k, certified) for k in keys),
        **extra,
    )
    return get_policy(BISHAN).quote(request)


def refused(paid_on: str, tier: int, *keys: str, **extra) -> QuoteRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(QuoteRefused) as caught:
        quote(paid_on, tier, *keys, **extra)
    return caught.value


def amounts(q) -> tuple[Decimal, Decimal, Decimal]:  # type: ignore[no-untyped-def]
    return q.standard, q.subsidy, q.personal


def test_third_grade_disability_certified_on_20_december_gets_350_in_tier_1_in_bishan() -> None:
    q = quote("2022-12-21", 1, "三、四级残疾人员", certified_on="2022-12-20")
    assert amounts(q) == (Decimal("350"), Decimal("350"), Decimal("0"))
    assert q.zero_declaration


def test_third_grade_disability_certified_after_20_december_enrolls_without_subsidy_in_bishan() -> (
    None
):
    # 五（一）4：“在2022年12月20日之后评定的三、四级残疾证人员……均不予资助”，不是不得参保
    for tier, standard in ((1, "350"), (2, "725")):
        q = quote("2022-12-22", tier, "三、四级残疾人员", certified_on="2022-12-21")
        assert amounts(q) == (Decimal(standard), Decimal("0"), Decimal(standard))
        assert q.identity is None
        assert any("2022-12-20" in note and "五（一）4" in note for note in q.notes)


def test_third_and_fourth_grade_disability_may_enroll_in_tier_2_but_gets_nothing() -> None:
    q = quote("2022-12-01", 2, "三、四级残疾人员", certified_on="2022-11-01")
    assert amounts(q) == (Decimal("725"), Decimal("0"), Decimal("725"))
    assert any("不予资助" in note for note in q.notes)


def test_other_medical_aid_objects_get_no_subsidy_after_30_june_in_bishan() -> None:
    assert quote("2023-06-30", 1, "城乡孤儿").subsidy == Decimal("350")
    q = quote("2023-07-01", 1, "城乡孤儿")
    assert amounts(q) == (Decimal("960"), Decimal("0"), Decimal("960"))
    assert any("五（一）2" in note and "2023-07-01" in note for note in q.notes)


def test_other_civil_affairs_people_paying_on_5_july_pay_960_covered_from_4_october(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", BISHAN, "--paid-on", "2023-07-05", "--tier", "1",
        "--identity", "民政部门建档其他人员", "--json",
    )  # fmt: skip
    assert code == 0
    assert (out["subsidy"], out["personal"], out["coverage_start"]) == (
        "0.00",
        "960.00",
        "2023-10-04",
    )
    assert any("不予资助" in note and "五（一）2" in note for note in out["notes"])


def test_family_planning_families_certified_in_2023_get_nothing_until_next_year() -> None:
    ok = quote("2023-01-10", 2, "国家特别扶助家庭成员", certified_on="2022-12-31")
    assert amounts(ok) == (Decimal("725"), Decimal("350"), Decimal("375"))
    late = quote("2023-01-10", 1, "国家特别扶助家庭成员", certified_on="2023-01-01")
    assert amounts(late) == (Decimal("350"), Decimal("0"), Decimal("350"))
    assert any("五（一）3" in note for note in late.notes)


def test_family_planning_families_get_nothing_after_30_june() -> None:
    q = quote("2023-07-01", 1, "国家奖励扶助对象本人", certified_on="2022-03-01")
    assert amounts(q) == (Decimal("960"), Decimal("0"), Decimal("960"))


def test_a_family_planning_identity_without_its_certification_date_is_refused() -> None:
    error = refused("2023-01-10", 1, "国家奖励扶助对象本人")
    assert error.code == "identity_not_applicable" and "认定日期" in error.message


def test_hardship_university_students_get_224_in_tier_1_and_320_in_tier_2() -> None:
    student = {"population": "university_student"}
    assert amounts(quote("2022-10-01", 1, "家庭经济困难大学生", **student)) == (
        Decimal("320"),
        Decimal("224"),
        Decimal("96"),
    )
    assert amounts(quote("2022-10-01", 2, "家庭经济困难大学生", **student)) == (
        Decimal("695"),
        Decimal("320"),
        Decimal("375"),
    )


def test_low_income_may_pay_until_31_december_but_ordinary_residents_until_30_september() -> None:
    assert quote("2023-09-30", 1).personal == Decimal("960")
    error = refused("2023-10-01", 1)
    assert error.code == "after_last_payment_day"
    assert "2023-09-30" in error.message and "四（一）4" in error.message
    late = quote("2023-12-31", 1, "边缘易致贫户")
    assert late.coverage_start == date(2023, 12, 31)
    assert any("2023-12-31" in note for note in late.notes)


def test_low_income_after_1_july_keep_their_personal_amount_and_the_district_pays_the_610(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", BISHAN, "--paid-on", "2023-07-01", "--tier", "1",
        "--identity", "低保对象", "--json",
    )  # fmt: skip
    assert code == 0
    assert out["identity"] == {"code": None, "name": "低保对象"}
    assert (out["standard"], out["subsidy"], out["personal"], out["surcharge"]) == (
        "960.00",
        "925.00",
        "35.00",
        "610.00",
    )
    assert (out["coverage_start"], out["coverage_end"]) == ("2023-07-01", "2023-12-31")
    assert any("五（一）1" in source for source in out["sources"])


def test_stable_poverty_lifted_pay_the_610_themselves_after_1_july() -> None:
    q = quote("2023-08-01", 2, "稳定脱贫人口")
    assert amounts(q) == (Decimal("1335"), Decimal("50"), Decimal("1285"))
    assert q.coverage_start == date(2023, 8, 1)


def test_a_newborn_within_90_days_pays_no_surcharge_and_has_no_waiting_period() -> None:
    q = quote("2023-08-29", 1, population="newborn", birth_date=date(2023, 6, 1))
    assert amounts(q) == (Decimal("350"), Decimal("0"), Decimal("350"))
    assert q.coverage_start == date(2023, 8, 29)


def test_payments_from_1_march_to_30_april_are_covered_from_the_next_month() -> None:
    assert quote("2023-02-28", 1).coverage_start == date(2023, 1, 1)
    assert quote("2023-03-01", 1).coverage_start == date(2023, 4, 1)
    assert quote("2023-04-30", 1).coverage_start == date(2023, 5, 1)


def test_payments_from_1_may_wait_90_days_not_counting_the_payment_day() -> None:
    q = quote("2023-05-01", 1)
    assert (q.coverage_start, q.coverage_end) == (date(2023, 7, 31), date(2023, 12, 31))


def test_employee_insurance_stopped_within_3_months_needs_2_years_of_insurance_in_bishan() -> None:
    ended = {"employee_insurance_ended_on": date(2023, 4, 10)}
    two = quote("2023-07-10", 1, continuous_insured_years=2, **ended)
    assert two.coverage_start == date(2023, 7, 10)
    one = quote("2023-07-10", 1, continuous_insured_years=1, **ended)
    assert one.coverage_start == date(2023, 10, 9)
    unknown = quote("2023-07-10", 1, **ended)
    assert unknown.coverage_start == date(2023, 10, 9)


def test_collection_opens_on_the_document_date_because_it_says_from_today() -> None:
    assert quote("2022-11-25", 1).coverage_start == date(2023, 1, 1)
    error = refused("2022-11-24", 1)
    assert error.code == "before_collection"
    assert "2022-11-25" in error.message and "即日" in error.message


def test_old_demobilised_soldier_comes_first_in_the_priority_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", BISHAN, "--paid-on", "2022-12-01", "--tier", "2",
        "--identity", "特困人员", "--identity", "在乡老复员军人", "--json",
    )  # fmt: skip
    assert code == 0
    assert out["identity"] == {"code": None, "name": "在乡老复员军人"}
    assert (out["subsidy"], out["personal"]) == ("725.00", "0.00")
    assert any("五（一）5" in source for source in out["sources"])


def test_the_old_demobilised_soldier_has_no_tier_1_subsidy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", BISHAN, "--paid-on", "2022-12-01", "--tier", "1",
        "--identity", "在乡老复员军人", "--json",
    )  # fmt: skip
    assert code != 0
    assert set(out) >= {"error"} and "一档" in out["error"] and "在乡老复员军人" in out["error"]


def test_low_income_comes_before_stable_poverty_lifted() -> None:
    q = quote("2022-12-01", 1, "稳定脱贫人口", "低保对象")
    assert q.identity is not None and q.identity.name == "低保对象"
    assert q.subsidy == Decimal("315")


def test_a_tie_within_a_group_goes_to_the_listed_order() -> None:
    q = quote("2022-12-01", 1, "城乡孤儿", "特困人员")
    assert q.identity is not None and q.identity.name == "特困人员"
    assert any("同一顺位内就高" in note for note in q.notes)


def test_disability_grades_3_4_in_tier_2_do_not_take_away_the_low_income_subsidy() -> None:
    q = quote("2022-12-01", 2, "三、四级残疾人员", "低保对象", certified_on="2022-12-01")
    assert q.identity is not None and q.identity.name == "低保对象"
    assert q.subsidy == Decimal("350")
    assert any("三、四级残疾人员" in note and "不予资助" in note for note in q.notes)


def test_a_hardship_university_student_with_another_identity_is_refused_as_not_in_the_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", BISHAN, "--paid-on", "2022-12-01", "--tier", "1",
        "--population", "university_student",
        "--identity", "家庭经济困难大学生", "--identity", "特困人员", "--json",
    )  # fmt: skip
    assert code != 0
    assert "家庭经济困难大学生" in out["error"] and "五（一）5" in out["error"]


def test_an_identity_certification_date_is_given_after_an_at_sign_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", BISHAN, "--paid-on", "2022-12-01", "--tier", "1",
        "--identity", "三、四级残疾人员@2022-12-21", "--json",
    )  # fmt: skip
    assert code == 0 and out["subsidy"] == "0.00" and out["personal"] == "350.00"
    assert any("2022-12-21" in note and "2022-12-20" in note for note in out["notes"])


def test_bishan_policy_show_prints_the_categories_departments_and_the_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "show", BISHAN, "--shipped"]) == 0
    text = capsys.readouterr().out
    for printed in (
        "在乡重点优抚对象（不含1-6级残疾军人）",
        "区卫生健康委",
        "区乡村振兴局",
        "不予资助",
    ):
        assert printed in text
    assert "在乡老复员军人 > 特困人员" in text


def test_bishan_amounts_agree_with_the_city_percentages_and_there_are_no_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "policy", "show", BISHAN, "--shipped", "--json")
    assert code == 0 and out["findings"] == []
    categories = {i["printed"]: i["city_category"] for i in out["identities"]}
    assert categories["低保对象"] == "低保对象" and categories["特困人员"] == "特困人员"


def test_bishan_has_no_target_table_and_no_assessment(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "targets", "check", "--policy", BISHAN, "--json")
    assert code != 0 and "目标任务" in out["error"]
    code, out = run(
        capsys, "assess", "--policy", BISHAN, "--completion", "97", "--hardship", "100", "--json"
    )
    assert code != 0 and "考核" in out["error"]


def test_policy_show_states_pre_enrollment_and_the_graduates_coverage_with_their_documents(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "show", BISHAN, "--shipped"]) == 0
    shown = capsys.readouterr().out
    assert "职工医保等待期内为预参保，享受居民医保待遇（璧城街道办发〔2022〕36号 八）" in shown
    assert "当年毕业的大学生待遇享受期延至2023-12-31" in shown
