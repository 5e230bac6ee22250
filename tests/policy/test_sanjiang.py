"""Sanjiang (三江街发〔2022〕139号): its target table, its assessment rule and the CLI over them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from yibao.cli import main
from yibao.policy import get_policy

SANJIANG = "qijiang-sanjiang-2023"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def test_sanjiang_target_table_has_no_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "targets", "check", "--policy", SANJIANG, "--json")
    assert code == 0
    assert out == {"findings": []}


def test_sanjiang_targets_add_up_to_the_stated_totals() -> None:
    targets = get_policy(SANJIANG).targets
    assert len(targets.rows) == 24
    assert sum(r.values["target"] for r in targets.rows) == 25920
    assert sum(r.values["period_target"] for r in targets.rows) == 24624


@pytest.mark.parametrize(
    ("completion", "hardship", "score"),
    [
        ("96", "100", "0.0"),
        ("96.99", "100", "0.0"),
        ("97", "100", "0.1"),
        ("97.5", "100", "0.1"),
        ("98", "100", "0.2"),
        ("100", "100", "0.4"),
        ("95.99", "100", "-0.5"),
        ("90", "100", "-0.5"),
        ("89.99", "99.5", "-1.0"),
        ("60", "0", "-1.0"),
    ],
)
def test_sanjiang_assessment_scores(
    capsys: pytest.CaptureFixture[str], completion: str, hardship: str, score: str
) -> None:
    code, out = run(
        capsys,
        "assess",
        "--policy",
        SANJIANG,
        "--completion",
        completion,
        "--hardship",
        hardship,
        "--json",
    )
    assert code == 0
    assert out["score"] == score


@pytest.mark.parametrize(
    ("completion", "hardship"),
    [("97", "99"), ("96", "99.9"), ("93", "80"), ("89", "100"), ("50", "100")],
)
def test_cases_the_sanjiang_rule_does_not_cover_get_no_score(
    capsys: pytest.CaptureFixture[str], completion: str, hardship: str
) -> None:
    code, out = run(
        capsys,
        "assess",
        "--policy",
        SANJIANG,
        "--completion",
        completion,
        "--hardship",
        hardship,
        "--json",
    )
    assert code == 0
    assert out["score"] is None
    assert "未规定此情形" in out["reason"]


def test_exactly_ninety_percent_is_decided_by_the_hardship_condition() -> None:
    # 以上 and 以下 both include 90: all hardship people enrolled -> -0.5; not all -> -1
    engine = get_policy(SANJIANG)
    all_in = engine.assess(completion=Decimal("90"), hardship=Decimal("100"))
    assert all_in.score == Decimal("-0.5") and "90%以上96%以下" in (all_in.band or "")
    not_all = engine.assess(completion=Decimal("90"), hardship=Decimal("99"))
    assert not_all.score == Decimal("-1.0") and "90%以下" in (not_all.band or "")


def test_weekly_december_bulletins_run_only_in_the_collection_period() -> None:
    # 五（四）：在集中缴费期……12月按周通报；集中缴费期至2022年12月15日（二（一））
    periods = get_policy(SANJIANG).data.reporting.periods  # type: ignore[union-attr]
    assert [(p.every, p.starts, p.ends) for p in periods] == [
        ("dekad", date(2022, 11, 1), date(2022, 11, 30)),
        ("week", date(2022, 12, 1), date(2022, 12, 15)),
    ]


def test_quote_json_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", SANJIANG, "--paid-on", "2022-11-20", "--tier", "1",
        "--identity", "低保对象", "--identity", "计划生育独子户", "--json",
    )  # fmt: skip
    assert code == 0
    assert out["identity"] == {"code": None, "name": "低保对象"}
    assert (out["standard"], out["subsidy"], out["personal"]) == ("350.00", "315.00", "35.00")
    # 方案未规定待遇享受期：按市级规则，2022年12月31日前缴费的自2023年1月1日起
    assert (out["coverage_start"], out["coverage_end"]) == ("2023-01-01", "2023-12-31")
    assert "三江街发〔2022〕139号 附件1" in out["sources"]
    assert out["paid_on"] == "2022-11-20" and out["population"] == "resident" and out["tier"] == 1


def test_a_refused_quote_exits_non_zero_with_an_error_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(
        capsys,
        "quote", "--policy", SANJIANG, "--paid-on", "2022-11-20", "--tier", "1",
        "--identity", "民政在乡老复员军人", "--json",
    )  # fmt: skip
    assert code != 0
    assert "一档" in out["error"] and "民政在乡老复员军人" in out["error"]


def test_policy_show_prints_the_annex_as_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "show", SANJIANG, "--shipped"]) == 0
    text = capsys.readouterr().out
    for expected in ("资助标准", "一档的90%", "315.00", "三河街社区", "25920", "考核办法"):
        assert expected in text


def test_policy_list_names_every_shipped_policy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "policy", "list", "--json")
    assert code == 0
    assert SANJIANG in [p["id"] for p in out]


def test_a_grouped_row_is_found_by_each_name_and_by_the_whole_printed_name() -> None:
    from yibao.policy import IdentityClaim, QuoteRequest

    engine = get_policy(SANJIANG)
    printed = "返贫致贫人口、脱贫不稳定户、边缘易致贫户、突发严重困难户"
    for key in [printed, *printed.split("、")]:
        quote = engine.quote(QuoteRequest(date(2022, 11, 1), 1, (IdentityClaim(key),)))
        assert quote.identity is not None and quote.identity.name == key
        assert quote.subsidy == Decimal("245")


def test_sanjiang_inherits_the_city_rules_of_2023(capsys: pytest.CaptureFixture[str]) -> None:
    from yibao.policy import QuoteRefused, QuoteRequest

    engine = get_policy(SANJIANG)
    newborn = engine.quote(
        QuoteRequest(date(2023, 8, 1), 1, population="newborn", birth_date=date(2023, 7, 20))
    )
    assert (newborn.standard, newborn.personal, newborn.surcharge) == (
        Decimal("350"),
        Decimal("350"),
        Decimal("0"),
    )
    assert newborn.coverage_start == date(2023, 8, 1)
    assert engine.quote(QuoteRequest(date(2022, 11, 15), 1)).coverage_start == date(2023, 1, 1)
    with pytest.raises(QuoteRefused) as refused:
        engine.quote(QuoteRequest(date(2023, 11, 15), 1))
    assert refused.value.code == "after_last_payment_day" and "2023-09-30" in refused.value.message
    assert main(["policy", "show", SANJIANG, "--shipped"]) == 0
    text = capsys.readouterr().out
    assert "同一年度的市级规则" in text and "[适用]" in text and "chongqing-2023" in text
    assert "产品决定" in text
