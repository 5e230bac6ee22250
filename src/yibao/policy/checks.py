"""Findings in a policy's own tables: published rows that do not add up or depart from their rule."""

from __future__ import annotations

from .model import POPULATION_NAMES, Policy, tier_name
from .money import fmt_money
from .rules import FixedAmount, PercentOfStandard, PublishedRow
from .targets import Finding


def policy_findings(policy: Policy) -> list[Finding]:
    """Everything in the policy's subsidy table and schedule that a clerk should know is off."""
    found: list[Finding] = []
    resident = {1: policy.standards.tier1, 2: policy.standards.tier2}
    student = (
        {1: policy.student.tier1, 2: policy.student.tier2}
        if policy.student is not None
        else {1: None, 2: None}
    )
    percents = {p.category: p for p in policy.city_percentages}
    for identity in policy.identities:
        standards = student if identity.population == "university_student" else resident
        for tier in (1, 2):
            rule = identity.rule(tier)
            where = f"{identity.label()} {tier_name(tier)}"
            if isinstance(rule, PublishedRow):
                for message in rule.findings(standards[tier], standards):
                    found.append(Finding("warning", None, f"{where}：{message}（{identity.cite}）"))
                if (
                    standards[tier] is None
                    and rule.subsidy is not None
                    and rule.personal is not None
                ):
                    # No standard for this population (e.g. students in a year without one):
                    # say what the row adds up to instead of staying silent.
                    found.append(
                        Finding(
                            "warning",
                            None,
                            f"{where}：附表资助{fmt_money(rule.subsidy)}元+个人实缴"
                            f"{fmt_money(rule.personal)}元={fmt_money(rule.subsidy + rule.personal)}元，"
                            f"本政策未规定{POPULATION_NAMES[identity.population]}{tier_name(tier)}"
                            f"个人缴费标准，无法核对（城乡居民{tier_name(tier)}为"
                            f"{fmt_money(resident[tier])}元）（{identity.cite}）",
                        )
                    )
            city = percents.get(identity.city_category or "")
            # A published row, or a fixed amount written in the text (Bishan), against the
            # city-wide percentage of its category.
            if isinstance(rule, PublishedRow):
                subsidy = rule.subsidy
            elif isinstance(rule, FixedAmount):
                subsidy = rule.amount
            else:
                subsidy = None
            if city is not None and subsidy is not None:
                if tier == 1:
                    city_rule = PercentOfStandard(percent=city.tier1_percent, of_tier=1)
                else:
                    city_rule = PercentOfStandard(percent=city.tier2_percent_of_tier1, of_tier=1)
                expected = city_rule.subsidy(resident)
                if expected != subsidy:
                    found.append(
                        Finding(
                            "warning",
                            None,
                            f"{where}：资助{fmt_money(subsidy)}元，按市级规定“{city.category}"
                            f"{city_rule.explain()}”（{city.cite}）应为{fmt_money(expected)}元",
                        )
                    )
    for stated in policy.findings:
        found.append(Finding("warning", None, f"{stated.text}（{stated.cite}）"))
    if policy.reporting is not None:
        for period in policy.reporting.periods:
            if period.ends_printed:
                found.append(
                    Finding(
                        "warning",
                        None,
                        f"通报安排：文件所写“{period.ends_printed}”不是实有日期，按{period.ends}执行"
                        f"（{policy.reporting.cite}）",
                    )
                )
    return found
