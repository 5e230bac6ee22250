"""Gaofeng, Wanzhou (万州高峰办发〔2023〕35号): its 24-category table, targets and the CLI."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.policy.cases import FIXTURES, build_request, load_fixture
from yibao.cli import main
from yibao.policy import IdentityClaim, QuoteRefused, QuoteRequest, get_policy

GAOFENG = "wanzhou-gaofeng-2024"
FIXTURE = load_fixture(Path(FIXTURES, f"{GAOFENG}.toml"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def quote(paid_on: str, tier: int, *keys: str, population: str = "resident", **extra):  # type: ignore[no-untyped-def]
    request = QuoteRequest(
        date.fromisoformat(paid_on),
        tier,
        tuple(IdentityClaim(k) for k in keys),
        population=population,
        **extra,
    )
    return get_policy(GAOFENG).quote(request)


def test_low_income_tier1_pays_ten_percent_in_wanzhou() -> None:
    q = quote("2023-11-20", 1, "101")
    assert (q.standard, q.subsidy, q.personal) == (Decimal("380"), Decimal("342"), Decimal("38"))
    assert q.personal * 10 == q.standard


def test_the_table_has_24_categories_in_the_printed_code_order() -> None:
    codes = [i.code for i in get_policy(GAOFENG).data.identities]
    assert codes == [
        "101", "104", "105", "106", "108", "109", "110", "113", "114", "301", "302", "304",
        "305", "520", "602", "603", "604", "605", "607", "608", "609", "2104", "2105", "2106",
    ]  # fmt: skip
    assert get_policy(GAOFENG).data.multi_identity.tie_break == codes


@pytest.mark.parametrize("row", FIXTURE["rows"], ids=lambda r: f"{r['identity']}:t{r['tier']}")
def test_every_row_is_quoted_the_same_by_its_printed_name_as_by_its_code(row: dict) -> None:  # type: ignore[type-arg]
    by_code = get_policy(GAOFENG).quote(build_request(row, FIXTURE["paid_on"]))
    by_name = get_policy(GAOFENG).quote(
        build_request({**row, "identity": row["name"]}, FIXTURE["paid_on"])
    )
    assert by_code.identity is not None and by_name.identity is not None
    assert by_code.identity.code == by_name.identity.code == row["identity"]
    assert by_name.identity.name == row["name"]
    assert (by_name.subsidy, by_name.personal) == (
        Decimal(row["subsidy"]),
        Decimal(row["personal"]),
    )


def test_a_category_name_with_a_comma_is_one_category_not_several() -> None:
    assert quote("2023-11-20", 1, "民政、计生重复类").identity.code == "602"  # type: ignore[union-attr]
    with pytest.raises(QuoteRefused) as refused:
        quote("2023-11-20", 1, "计生重复类")
    assert refused.value.code == "unknown_identity"


def test_an_identity_past_its_window_enrolls_at_full_price_naming_the_printed_window() -> None:
    q = quote("2024-07-01", 1, "104")
    assert (q.standard, q.subsidy, q.personal) == (Decimal("1020"), Decimal("0"), Decimal("1020"))
    assert any("2023年9月1日到2024年6月30日" in note and "附件2" in note for note in q.notes)


def test_a_tier_marked_not_applicable_opens_at_full_price_once_the_identity_has_lapsed() -> None:
    with pytest.raises(QuoteRefused) as refused:
        quote("2024-06-30", 1, "109")
    assert refused.value.code == "identity_not_applicable"
    q = quote("2024-07-05", 1, "109")
    assert (q.standard, q.subsidy, q.personal) == (Decimal("1020"), Decimal("0"), Decimal("1020"))


def test_codes_valid_to_year_end_keep_the_published_personal_amount_after_1_july() -> None:
    # 附件2：101 一档资助342.00、个人实缴38.00，标准执行至2024年12月31日
    q = quote("2024-07-05", 1, "101")
    assert (q.standard, q.subsidy, q.personal) == (Decimal("380"), Decimal("342"), Decimal("38"))
    assert q.surcharge == Decimal("0")
    assert quote("2024-10-01", 1, "113").personal == Decimal("0")
    tier2 = quote("2024-10-01", 2, "607")
    assert (tier2.standard, tier2.subsidy, tier2.personal) == (
        Decimal("755"),
        Decimal("380"),
        Decimal("375"),
    )
    assert tier2.coverage_start == date(2024, 12, 31)


def test_a_newborn_within_90_days_pays_no_surcharge_under_the_city_rule() -> None:
    q = quote("2024-07-05", 1, population="newborn", birth_date=date(2024, 6, 1))
    assert (q.standard, q.personal) == (Decimal("380"), Decimal("380"))
    # 万州高峰办发〔2023〕35号 四 governs the wait: no 2024 text exempts newborns from it
    assert q.coverage_start == date(2024, 10, 4)


def test_no_opening_day_is_said_not_refused() -> None:
    q = quote("2023-06-01", 1)
    assert q.coverage_start == date(2024, 1, 1)
    assert any("未规定集中缴费期起始日" in note for note in q.notes)


def test_a_payment_on_the_leap_day_is_covered_from_the_first_of_march() -> None:
    q = quote("2024-02-29", 1)
    assert (q.coverage_start, q.coverage_end) == (date(2024, 3, 1), date(2024, 12, 31))
    assert any("次月1日" in note for note in q.notes)


def test_the_ninety_days_do_not_count_the_payment_day() -> None:
    q = quote("2024-03-01", 1)
    assert q.coverage_start == date(2024, 5, 31)
    assert any("90日" in note and "缴费当日不计入" in note for note in q.notes)


def test_the_student_row_is_kept_as_printed_and_its_sum_is_reported() -> None:
    q = quote("2023-11-20", 1, "108", population="university_student")
    assert (q.standard, q.subsidy, q.personal) == (Decimal("350"), Decimal("245"), Decimal("105"))
    messages = [f.message for f in get_policy(GAOFENG).findings()]
    assert len(messages) == 2
    assert all(m.startswith("108 民政家庭经济困难大学生") for m in messages)
    assert "=350.00元" in messages[0] and "380.00" in messages[0]
    assert "=725.00元" in messages[1] and "755.00" in messages[1]


def test_the_percentages_of_section_six_agree_with_every_checked_row() -> None:
    # Only the student row (no standard to check against) is reported; every check rule holds.
    findings = get_policy(GAOFENG).findings()
    assert not [f for f in findings if "108" not in f.message]


def test_gaofeng_target_table_has_no_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "targets", "check", "--policy", GAOFENG, "--json")
    assert code == 0
    assert out == {"findings": []}


def test_gaofeng_villages_add_up_to_22690_by_hand() -> None:
    printed = [1445, 1332, 2581, 1943, 2487, 1851, 1829, 1905, 3370, 1229, 1088, 1630]
    targets = get_policy(GAOFENG).targets
    assert [r.values["target"] for r in targets.rows] == printed
    assert sum(printed) == 22690 == targets.totals["target"]


def test_quote_json_names_the_code_and_the_applied_identity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", GAOFENG, "--paid-on", "2023-12-31", "--tier", "1",
        "--identity", "101", "--identity", "113", "--json",
    )  # fmt: skip
    assert code == 0
    assert out["identity"] == {"code": "113", "name": "特困人员"}
    assert (out["standard"], out["subsidy"], out["personal"]) == ("380.00", "380.00", "0.00")
    assert out["zero_declaration"] is True
    assert (out["coverage_start"], out["coverage_end"]) == ("2024-01-01", "2024-12-31")
    assert "万州高峰办发〔2023〕35号 附件2" in out["sources"]
    assert any("就高" in note for note in out["notes"])


def test_a_refused_tier_exits_non_zero_with_an_error_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", GAOFENG, "--paid-on", "2023-11-20", "--tier", "1",
        "--identity", "2104", "--json",
    )  # fmt: skip
    assert code != 0
    assert "一档" in out["error"] and "——" in out["error"] and "烈士遗属" in out["error"]


def test_policy_show_prints_codes_windows_and_departments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "show", GAOFENG, "--shipped"]) == 0
    text = capsys.readouterr().out
    for expected in (
        "2104",
        "民政、残联、计生重复类",
        "区民政局、区残联、区卫生健康委",
        "2023年9月1日到2024年12月31日",
        "在万各高校",
        "——",
        "高峰居委会",
        "22690",
        "核对发现",
    ):
        assert expected in text
