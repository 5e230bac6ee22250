"""Policy files are validated on load, with errors a clerk can act on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from yibao.policy import PolicyFileError
from yibao.policy.loader import DATA_DIR, load_policy_file

SANJIANG = (DATA_DIR / "qijiang-sanjiang-2023.toml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    shutil.copy(DATA_DIR / "chongqing-2023.toml", tmp_path / "chongqing-2023.toml")
    path = tmp_path / "test-policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_loads(tmp_path: Path) -> None:
    assert load_policy_file(_write(tmp_path, SANJIANG)).id == "qijiang-sanjiang-2023"


def test_money_written_as_a_float_is_refused(tmp_path: Path) -> None:
    text = SANJIANG.replace('subsidy = "315"', "subsidy = 315.0", 1)
    with pytest.raises(PolicyFileError, match="浮点数"):
        load_policy_file(_write(tmp_path, text))


def test_an_unknown_identity_in_the_tie_break_is_refused(tmp_path: Path) -> None:
    text = SANJIANG.replace('tie_break = ["低保对象"', 'tie_break = ["低保户"', 1)
    with pytest.raises(PolicyFileError, match="未知身份“低保户”"):
        load_policy_file(_write(tmp_path, text))


def test_a_highest_rule_without_a_full_tie_break_fails_loudly(tmp_path: Path) -> None:
    text = SANJIANG.replace('tie_break = ["低保对象", ', "tie_break = [", 1)
    with pytest.raises(PolicyFileError, match="tie_break"):
        load_policy_file(_write(tmp_path, text))


def test_overlapping_coverage_windows_are_refused(tmp_path: Path) -> None:
    coverage = """[coverage]
windows = [
  { from = 2022-10-25, until = 2023-01-31, rule = "full_year", cite = "x" },
  { from = 2023-01-01, until = 2023-12-31, rule = "next_month", cite = "x" },
]
"""
    end = SANJIANG.index("[multi_identity]")
    text = SANJIANG[:end] + coverage + "\n" + SANJIANG[end:]
    with pytest.raises(PolicyFileError, match="重叠"):
        load_policy_file(_write(tmp_path, text))


def test_a_fixed_subsidy_above_the_standard_does_not_add_up(tmp_path: Path) -> None:
    text = SANJIANG.replace(
        'tier1 = { kind = "not_applicable", printed = "" }',
        'tier1 = { kind = "fixed", amount = "400" }',
        1,
    )
    with pytest.raises(PolicyFileError, match="超过缴费标准"):
        load_policy_file(_write(tmp_path, text))


def test_assessment_bands_that_overlap_need_an_explicit_precedence(tmp_path: Path) -> None:
    text = SANJIANG.replace("precedence = [0, 1, 2]", "precedence = []", 1)
    with pytest.raises(PolicyFileError, match="precedence"):
        load_policy_file(_write(tmp_path, text))


def test_an_unknown_field_is_named_in_the_error(tmp_path: Path) -> None:
    text = SANJIANG.replace(
        "period_end = 2022-12-15", "period_end = 2022-12-15\nperiod_ends = 2022-12-16", 1
    )
    with pytest.raises(PolicyFileError, match="collection.period_ends：未知字段"):
        load_policy_file(_write(tmp_path, text))
