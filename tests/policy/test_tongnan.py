"""Tongnan (潼医保发〔2022〕36号): periods and benefit rules; its subsidy table is in a document not given."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from yibao.cli import main
from yibao.policy import IdentityClaim, QuoteRefused, QuoteRequest, RuleMissing, get_policy

TONGNAN = "tongnan-2023"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def quote(paid_on: str, tier: int, *keys: str, **extra):  # type: ignore[no-untyped-def]
    request = QuoteRequest(
        date.fromisoformat(paid_on), tier, tuple(IdentityClaim(k) for k in keys), **extra
    )
    return get_policy(TONGNAN).quote(request)


def test_a_quote_with_a_tongnan_identity_is_refused_naming_the_missing_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", TONGNAN, "--paid-on", "2022-11-15", "--tier", "1",
        "--identity", "低保对象", "--json",
    )  # fmt: skip
    assert code != 0
    assert "潼南府办发〔2021〕77号" in out["error"]


def test_every_tongnan_identity_is_refused_as_a_missing_rule_never_guessed() -> None:
    for identity in get_policy(TONGNAN).data.identities:
        for tier in (1, 2):
            with pytest.raises(RuleMissing) as missing:
                quote("2022-11-15", tier, identity.key)
            assert missing.value.code == "subsidy_rule_missing"


def test_tongnan_names_the_low_income_categories_and_poverty_lifted_people() -> None:
    names = [i.key for i in get_policy(TONGNAN).data.identities]
    assert names == [
        "特困人员",
        "低保对象",
        "低保边缘户",
        "返贫致贫人口",
        "脱贫不稳定户",
        "边缘易致贫户",
        "突发严重困难户",
        "脱贫人口",
    ]


def test_an_ordinary_resident_pays_350_or_725_until_30_june_and_610_more_from_1_july() -> None:
    assert quote("2023-06-30", 1).standard == Decimal("350")
    assert quote("2023-06-30", 2).standard == Decimal("725")
    july = quote("2023-07-01", 2)
    assert (july.standard, july.subsidy, july.personal) == (
        Decimal("1335"),
        Decimal("0"),
        Decimal("1335"),
    )


def test_collection_runs_from_25_october_and_payment_stops_after_30_september() -> None:
    assert quote("2022-10-25", 1).coverage_start == date(2023, 1, 1)
    with pytest.raises(QuoteRefused) as early:
        quote("2022-10-24", 1)
    assert early.value.code == "before_collection"
    with pytest.raises(QuoteRefused) as late:
        quote("2023-10-01", 1)
    assert late.value.code == "after_last_payment_day" and "2023-09-30" in late.value.message


def test_tongnan_gives_low_income_people_no_later_payment_day() -> None:
    with pytest.raises(QuoteRefused) as late:
        quote("2023-10-01", 1, "特困人员")
    assert late.value.code == "after_last_payment_day"


def test_payments_in_january_and_february_are_covered_from_the_next_month() -> None:
    assert quote("2022-12-31", 1).coverage_start == date(2023, 1, 1)
    assert quote("2023-01-01", 1).coverage_start == date(2023, 2, 1)
    assert quote("2023-02-28", 1).coverage_start == date(2023, 3, 1)


def test_paid_on_1_march_the_90_days_end_on_30_may_and_cover_from_31_may(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys, "quote", "--policy", TONGNAN, "--paid-on", "2023-03-01", "--tier", "1", "--json"
    )
    assert code == 0
    assert (out["coverage_start"], out["coverage_end"]) == ("2023-05-31", "2023-12-31")
    assert out["identity"] is None and out["personal"] == "350.00"
    assert any("四（一）" in source for source in out["sources"])


def test_employee_insurance_stopped_within_3_months_needs_no_years_of_insurance_in_tongnan() -> (
    None
):
    q = quote("2023-06-10", 1, employee_insurance_ended_on=date(2023, 3, 10))
    assert q.coverage_start == date(2023, 6, 10)
    later = quote("2023-06-11", 1, employee_insurance_ended_on=date(2023, 3, 10))
    assert later.coverage_start == date(2023, 9, 10)


def test_a_newborn_within_90_days_may_pay_after_30_september_without_surcharge() -> None:
    q = quote("2023-12-31", 2, population="newborn", birth_date=date(2023, 10, 15))
    assert (q.standard, q.personal) == (Decimal("725"), Decimal("725"))
    assert (q.coverage_start, q.coverage_end) == (date(2023, 12, 31), date(2023, 12, 31))


def test_a_graduating_university_student_is_covered_to_31_december() -> None:
    q = quote("2022-11-15", 1, population="university_student", graduating=True)
    assert q.coverage_end == date(2023, 12, 31)


def test_tongnan_policy_show_says_where_the_subsidy_table_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "show", TONGNAN, "--shipped"]) == 0
    text = capsys.readouterr().out
    assert "见潼南府办发〔2021〕77号" in text and "潼医保发〔2022〕36号" in text


def test_tongnan_has_no_target_table_and_no_assessment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "targets", "check", "--policy", TONGNAN, "--json")
    assert code != 0 and "error" in out
    code, out = run(
        capsys, "assess", "--policy", TONGNAN, "--completion", "97", "--hardship", "100", "--json"
    )
    assert code != 0 and "error" in out


# --- 潼南府办发〔2021〕77号 not given: enrollment without subsidy only by an office decision ---


def test_the_refusal_names_the_document_and_says_only_an_office_may_enroll_without_subsidy() -> (
    None
):
    with pytest.raises(RuleMissing) as missing:
        quote("2022-11-15", 1, "特困人员")
    assert missing.value.code == "subsidy_rule_missing"
    assert missing.value.params["document"] == "潼南府办发〔2021〕77号"
    assert "潼南府办发〔2021〕77号" in missing.value.message
    assert "街道社保所或区医保局决定" in missing.value.message


def test_an_office_decision_enrolls_a_tongnan_low_income_person_at_the_tier_1_standard() -> None:
    answer = quote("2022-11-15", 1, "低保对象", without_missing_subsidy=True)
    # 潼医保发〔2022〕36号 二: tier 1 350 yuan; 四（一）: paid in the collection period -> 1 Jan.
    assert (answer.standard, answer.subsidy, answer.personal) == (
        Decimal("350"),
        Decimal("0"),
        Decimal("350"),
    )
    assert (answer.coverage_start, answer.coverage_end) == (date(2023, 1, 1), date(2023, 12, 31))
    assert answer.identity is None
    assert any("潼南府办发〔2021〕77号" in note and "不享受资助" in note for note in answer.notes)


def test_an_office_decision_at_tier_2_charges_the_tier_2_standard() -> None:
    answer = quote("2022-12-01", 2, "特困人员", without_missing_subsidy=True)
    assert (answer.subsidy, answer.personal) == (Decimal("0"), Decimal("725"))


def test_a_low_income_person_enrolled_without_subsidy_still_has_no_waiting_period() -> None:
    # 潼医保发〔2022〕36号 四（二）: the low-income groups have no waiting period; the decision
    # withholds only the subsidy, not the group.
    answer = quote("2023-05-10", 1, "低保对象", without_missing_subsidy=True)
    assert answer.coverage_start == date(2023, 5, 10)
    assert answer.personal == Decimal("350")


def test_after_1_july_an_office_decision_adds_the_city_surcharge() -> None:
    # 四（一）: from 1 July the person also pays the 610 yuan fiscal subsidy.
    answer = quote("2023-07-05", 1, "低保边缘户", without_missing_subsidy=True)
    assert (answer.standard, answer.subsidy, answer.personal) == (
        Decimal("960"),
        Decimal("0"),
        Decimal("960"),
    )


def test_the_cli_quotes_an_office_decision_with_without_missing_subsidy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", TONGNAN, "--paid-on", "2022-11-15", "--tier", "1",
        "--identity", "脱贫人口", "--without-missing-subsidy", "--json",
    )  # fmt: skip
    assert code == 0
    assert (out["subsidy"], out["personal"], out["coverage_start"]) == (
        "0.00",
        "350.00",
        "2023-01-01",
    )
