"""Recompute a published target table: row arithmetic, column totals, the stated derivation."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from .errors import RuleMissing
from .model import DifferenceCheck, PercentCheck, Policy, Targets
from .money import fmt_plain

ROUNDING = {"half_up": ROUND_HALF_UP, "floor": ROUND_FLOOR, "ceiling": ROUND_CEILING}
TOTAL_LABEL = "合计"


@dataclass(frozen=True, slots=True)
class Finding:
    level: Literal["error", "warning"]
    village: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _expected(check: DifferenceCheck | PercentCheck, values: dict[str, int]) -> int:
    if isinstance(check, DifferenceCheck):
        return values[check.minuend] - values[check.subtrahend]
    exact = Decimal(values[check.of]) * check.percent / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUNDING[check.rounding]))


def _describe(
    targets: Targets, check: DifferenceCheck | PercentCheck, values: dict[str, int]
) -> str:
    if isinstance(check, DifferenceCheck):
        return (
            f"{targets.label(check.minuend)}{values[check.minuend]} − "
            f"{targets.label(check.subtrahend)}{values[check.subtrahend]} = {_expected(check, values)}"
        )
    return (
        f"{targets.label(check.of)}{values[check.of]} × {fmt_plain(check.percent)}% = "
        f"{_expected(check, values)}"
    )


def targets_check(policy: Policy) -> list[Finding]:
    """Every arithmetic error (level ``error``) and every departure from a stated rule (``warning``)."""
    targets = policy.targets
    if targets is None:
        raise RuleMissing(f"本政策（{policy.name}）没有目标任务表", code="targets_missing")
    findings: list[Finding] = []
    rows = [(row.village, row.values) for row in targets.rows]
    for village, values in [*rows, (None, targets.totals)]:
        if village is None and sorted(targets.totals) != sorted(c.key for c in targets.columns):
            continue
        where = village or TOTAL_LABEL
        for check in targets.checks:
            expected = _expected(check, values)
            printed = values[check.column]
            if printed != expected:
                findings.append(
                    Finding(
                        check.level,
                        village,
                        f"{where}：{targets.label(check.column)}印为{printed}，"
                        f"按{_describe(targets, check, values)}，相差{printed - expected}",
                    )
                )
    for column in targets.columns:
        if column.key not in targets.totals:
            continue
        column_sum = sum(values[column.key] for _, values in rows)
        stated = targets.totals[column.key]
        if column_sum != stated:
            findings.append(
                Finding(
                    "error",
                    None,
                    f"{TOTAL_LABEL}：{column.label}合计印为{stated}，各行相加为{column_sum}，"
                    f"相差{stated - column_sum}",
                )
            )
    for figure in targets.stated:
        in_table = targets.totals.get(figure.column)
        if in_table is not None and figure.value != in_table:
            findings.append(
                Finding(
                    "warning",
                    None,
                    f"{figure.cite}所述{targets.label(figure.column)}{figure.value}，"
                    f"与{targets.cite}合计{in_table}不一致",
                )
            )
    return findings
