"""Aikou, Xiushan (隘口府发〔2022〕50号): its target table with the printed errors, and the CLI."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from yibao.cli import main
from yibao.policy import IdentityClaim, QuoteRefused, QuoteRequest, get_policy

AIKOU = "xiushan-aikou-2023"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def quote(paid_on: str, tier: int, *keys: str):  # type: ignore[no-untyped-def]
    request = QuoteRequest(date.fromisoformat(paid_on), tier, tuple(IdentityClaim(k) for k in keys))
    return get_policy(AIKOU).quote(request)


def findings(capsys: pytest.CaptureFixture[str]) -> list[dict]:  # type: ignore[type-arg]
    code, out = run(capsys, "targets", "check", "--policy", AIKOU, "--json")
    assert code == 0
    return out["findings"]


def test_aikou_targets_check_reports_bamang_and_the_should_enroll_total_as_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    errors = [f for f in findings(capsys) if f["level"] == "error"]
    assert len(errors) == 2
    bamang, total = errors
    assert bamang["village"] == "坝芒村"
    assert "3327" in bamang["message"] and "61" in bamang["message"]
    assert "3266" in bamang["message"] and "3226" in bamang["message"]
    assert total["village"] is None
    assert "23171" in total["message"] and "23131" in total["message"]


def test_aikou_targets_that_are_not_95_percent_are_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # By hand, half up: 坝芒村 3226 × 95% = 3064.7 → 3065 (印3102); 岑龙村 2052 × 95% = 1949.4
    # → 1949 (印1950); 富裕村 1257 × 95% = 1194.15 → 1194 (印1195); 合计 23171 × 95% = 22012.45
    # → 22012 (印22014). Every other village rounds to its printed target.
    warnings = [f for f in findings(capsys) if f["level"] == "warning"]
    percent = [f for f in warnings if "95%" in f["message"] and "×" in f["message"]]
    assert [f["village"] for f in percent] == ["坝芒村", "岑龙村", "富裕村", None]
    expected = [("3102", "3065"), ("1950", "1949"), ("1195", "1194"), ("22014", "22012")]
    for finding, (printed, computed) in zip(percent, expected, strict=True):
        assert f"印为{printed}" in finding["message"] and f"= {computed}" in finding["message"]


def test_aikou_body_figure_23163_disagrees_with_the_annex_total(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stated = [f for f in findings(capsys) if "23163" in f["message"]]
    assert len(stated) == 1
    assert stated[0]["level"] == "warning" and "23171" in stated[0]["message"]
    assert "隘口府发〔2022〕50号 一" in stated[0]["message"]


def test_aikou_findings_are_exactly_two_errors_and_five_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    levels = [f["level"] for f in findings(capsys)]
    assert levels.count("error") == 2 and levels.count("warning") == 5


def test_the_printed_total_23171_is_what_bamang_3266_would_give() -> None:
    targets = get_policy(AIKOU).targets
    rows = {r.village: r.values for r in targets.rows}
    assert rows["坝芒村"]["should_enroll"] == 3226  # kept as printed
    printed_sum = sum(v["should_enroll"] for v in rows.values())
    assert printed_sum == 23131
    assert printed_sum - 3226 + (3327 - 61) == 23171 == targets.totals["should_enroll"]


def test_the_other_columns_add_up_to_their_printed_totals() -> None:
    targets = get_policy(AIKOU).targets
    for key, total in (("population", 23638), ("employee_insured", 467), ("target", 22014)):
        assert sum(r.values[key] for r in targets.rows) == total == targets.totals[key]


def test_low_income_tier1_pays_ten_percent_in_aikou() -> None:
    q = quote("2022-11-20", 1, "低保对象")
    assert (q.standard, q.subsidy, q.personal) == (Decimal("350"), Decimal("315"), Decimal("35"))
    assert q.personal * 10 == q.standard


def test_collection_opens_on_the_day_the_document_was_issued() -> None:
    assert quote("2022-11-02", 1).coverage_start == date(2023, 1, 1)
    with pytest.raises(QuoteRefused) as refused:
        quote("2022-11-01", 1)
    assert refused.value.code == "before_collection"
    assert "2022-11-02" in refused.value.message and "四（一）" in refused.value.message


def test_a_payment_after_the_first_of_july_also_pays_the_610_fiscal_subsidy_without_a_wait(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", AIKOU, "--paid-on", "2023-07-01", "--tier", "2",
        "--identity", "稳定脱贫人口", "--json",
    )  # fmt: skip
    assert code == 0
    assert out["identity"] == {"code": None, "name": "稳定脱贫人口"}
    assert (out["standard"], out["subsidy"], out["personal"], out["surcharge"]) == (
        "1335.00",
        "50.00",
        "1285.00",
        "610.00",
    )
    # 稳定脱贫人口不设等待期（市级规则：潼医保发〔2022〕36号 四（二）、璧城街道办发〔2022〕36号 八）
    assert (out["coverage_start"], out["coverage_end"]) == ("2023-07-01", "2023-12-31")
    assert any("五.4" in source for source in out["sources"])


def test_a_blank_tier_is_refused_with_an_error_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", AIKOU, "--paid-on", "2022-11-20", "--tier", "1",
        "--identity", "在乡老复员军人", "--json",
    )  # fmt: skip
    assert code != 0
    assert "一档" in out["error"] and "在乡老复员军人" in out["error"]


def test_several_identities_use_the_city_rule_with_ties_in_table_order() -> None:
    rule = get_policy(AIKOU).data.multi_identity
    assert rule.rule == "highest"
    assert rule.tie_break == [i.key for i in get_policy(AIKOU).data.identities]
    q = quote("2022-11-20", 1, "事实无人抚养儿童", "城乡孤儿")
    assert q.identity is not None and q.identity.name == "城乡孤儿"
    assert any("同" in note and "顺序" in note for note in q.notes)


def test_reporting_is_weekly_on_monday_then_daily_and_names_the_bottom_three() -> None:
    reporting = get_policy(AIKOU).data.reporting
    assert reporting is not None
    weekly, daily = reporting.periods
    assert (weekly.every, weekly.weekday, weekly.ends, weekly.ends_printed) == (
        "week",
        0,
        date(2022, 11, 30),
        "11月31",
    )
    assert (daily.every, daily.starts, daily.ends) == ("day", date(2022, 12, 1), None)
    assert reporting.bottom_named == 3


def test_policy_show_reports_the_nonexistent_date_and_nothing_else_in_the_subsidy_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["policy", "show", AIKOU, "--shipped"]) == 0
    text = capsys.readouterr().out
    for expected in ("坝芒村", "3226", "23171", "计生优抚（奖抚）对象", "725.00", "核对发现"):
        assert expected in text
    found = get_policy(AIKOU).findings()
    assert [f.message for f in found] == [
        "通报安排：文件所写“11月31”不是实有日期，按2022-11-30执行（隘口府发〔2022〕50号 七（五））"
    ]
