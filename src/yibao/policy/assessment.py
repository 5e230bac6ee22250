"""A township's assessment rule: a score from completion and hardship enrollment, or no score."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from .errors import PolicyError, RuleMissing
from .model import AssessmentBand, Policy
from .money import fmt_plain

HUNDRED = Decimal(100)
TENTH = Decimal("0.1")


@dataclass(frozen=True, slots=True)
class AssessmentResult:
    score: Decimal | None
    band: str | None
    reason: str
    cite: str

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"score": None if self.score is None else str(self.score)}
        if self.score is None:
            data["reason"] = self.reason
        else:
            data["band"] = self.band
            data["explanation"] = self.reason
        data["cite"] = self.cite
        return data


def _band_for(policy: Policy, completion: Decimal, hardship_all: bool) -> AssessmentBand | None:
    """The band holding ``completion``; where bands share an edge (以上 and 以下 both include
    the number), the band whose hardship condition holds decides, then the stated precedence."""
    assessment = policy.assessment
    assert assessment is not None
    matching = [i for i, band in enumerate(assessment.bands) if band.contains(completion)]
    if not matching:
        return None
    if len(matching) > 1:
        fitting = [i for i in matching if _hardship_holds(assessment.bands[i], hardship_all)]
        if len(fitting) == 1:
            return assessment.bands[fitting[0]]
        pool = fitting or matching
        ranked = [i for i in assessment.precedence if i in pool]
        return assessment.bands[ranked[0]]
    return assessment.bands[matching[0]]


def _hardship_holds(band: AssessmentBand, hardship_all: bool) -> bool:
    return (
        band.hardship == "any"
        or (band.hardship == "all" and hardship_all)
        or (band.hardship == "not_all" and not hardship_all)
    )


def assess(policy: Policy, *, completion: Decimal, hardship: Decimal) -> AssessmentResult:
    """Score a village: ``completion`` and ``hardship`` are percentages (``97.5``, ``100``)."""
    assessment = policy.assessment
    if assessment is None:
        raise RuleMissing(f"本政策（{policy.name}）没有考核办法", code="assessment_missing")
    if completion < 0 or hardship < 0 or hardship > HUNDRED:
        raise PolicyError(
            "完成率与困难群体参保率须为非负百分数，参保率不超过100", code="invalid_percent"
        )
    hardship_all = hardship == HUNDRED
    band = _band_for(policy, completion, hardship_all)
    if band is None:
        return AssessmentResult(
            None, None, f"完成率{fmt_plain(completion)}%不在考核办法任何一档之内", assessment.cite
        )
    wanted = band.hardship
    if not _hardship_holds(band, hardship_all):
        state = (
            "困难群体已100%参保"
            if hardship_all
            else f"困难群体参保率{fmt_plain(hardship)}%（未达100%）"
        )
        return AssessmentResult(
            None,
            None,
            f"完成率{fmt_plain(completion)}%属“{band.label}”一档，但该档要求"
            f"{'困难群体100%参保' if wanted == 'all' else '困难群体未100%参保'}，而{state}："
            f"考核办法（{assessment.cite}）未规定此情形，不计分",
            assessment.cite,
        )
    rule = band.score
    if rule.fixed is not None:
        score = rule.fixed
        why = f"属“{band.label}”，计{fmt_plain(score)}分"
    else:
        assert rule.per_full_point_above is not None and rule.points is not None
        full_points = (completion - rule.per_full_point_above).to_integral_value(
            rounding=ROUND_FLOOR
        )
        score = full_points * rule.points
        why = (
            f"属“{band.label}”，超过{fmt_plain(rule.per_full_point_above)}%的整百分点数为"
            f"{full_points}，每点{fmt_plain(rule.points)}分"
        )
    return AssessmentResult(score.quantize(TENTH), band.label, why, assessment.cite)
