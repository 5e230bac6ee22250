"""Subsidy rule kinds: each computes the subsidy of one identity in one tier and explains itself.

A published table is the truth; a rule that derives an amount (a percentage of a standard,
a fixed amount) is either the document's rule where it prints no table, or the cross-check
of a published row. A mismatch between the two is a finding, never a silent correction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import QuoteRefused, RuleMissing
from .money import ZERO, Money, Percent, fmt_money, fmt_plain

TIER_NAMES = {1: "一档", 2: "二档"}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True, slots=True)
class Applied:
    """What a rule gives for one identity and tier: the standard and the subsidy within it."""

    standard: Decimal
    subsidy: Decimal
    notes: tuple[str, ...] = ()

    @property
    def personal(self) -> Decimal:
        return self.standard - self.subsidy


Standards = Mapping[int, Decimal | None]


def _need_standard(standard: Decimal | None, what: str) -> Decimal:
    if standard is None:
        raise RuleMissing(f"本政策未规定{what}的个人缴费标准，无法计算", code="standard_missing")
    return standard


class PercentOfStandard(Model):
    """``一档的90%``: a percentage of a tier's standard, computed in exact decimals."""

    kind: Literal["percent"] = "percent"
    percent: Percent
    of_tier: Literal[1, 2]

    def subsidy(self, standards: Standards) -> Decimal:
        base = _need_standard(standards.get(self.of_tier), TIER_NAMES[self.of_tier])
        return base * self.percent / Decimal(100)

    def apply(self, standard: Decimal | None, standards: Standards) -> Applied:
        return Applied(_need_standard(standard, "本档"), self.subsidy(standards))

    def explain(self) -> str:
        return f"按{TIER_NAMES[self.of_tier]}个人缴费标准的{fmt_plain(self.percent)}%资助"


class FixedAmount(Model):
    """``定额50元``: a fixed subsidy."""

    kind: Literal["fixed"] = "fixed"
    amount: Money

    def subsidy(self, standards: Standards) -> Decimal:
        return self.amount

    def apply(self, standard: Decimal | None, standards: Standards) -> Applied:
        return Applied(_need_standard(standard, "本档"), self.amount)

    def explain(self) -> str:
        return f"定额资助{fmt_money(self.amount)}元"


Derivation = Annotated[PercentOfStandard | FixedAmount, Field(discriminator="kind")]


class NoSubsidy(Model):
    """``不予资助``: the identity is recognised in this tier but gets nothing."""

    kind: Literal["none"] = "none"

    def apply(self, standard: Decimal | None, standards: Standards) -> Applied:
        return Applied(_need_standard(standard, "本档"), ZERO)

    def explain(self) -> str:
        return "不予资助"


class PublishedRow(Model):
    """A row of a published table, kept exactly as printed (blank cells are ``None``).

    The applied standard is the row's own: the printed 参保金额 where the table has that
    column, else subsidy + personal. A blank subsidy (or personal) cell is derived from the
    other two and said so in the notes.
    """

    kind: Literal["published"] = "published"
    standard: Money | None = None
    ratio: str | None = None
    subsidy: Money | None = None
    personal: Money | None = None
    check: Derivation | None = None

    def apply(self, standard: Decimal | None, standards: Standards) -> Applied:
        notes: list[str] = []
        row_standard = self.standard
        subsidy, personal = self.subsidy, self.personal
        if subsidy is None and personal is None:
            raise QuoteRefused("该行资助金额与个人实缴金额均为空白，无法计算", code="row_blank")
        if subsidy is None:
            assert personal is not None
            base = row_standard if row_standard is not None else standard
            subsidy = _need_standard(base, "本档") - personal
            notes.append(
                f"附表资助金额栏空白，按参保金额{fmt_money(_need_standard(base, '本档'))}"
                f"减个人实缴{fmt_money(personal)}得资助{fmt_money(subsidy)}元"
            )
        if personal is None:
            base = row_standard if row_standard is not None else standard
            personal = _need_standard(base, "本档") - subsidy
            notes.append(f"附表个人实缴栏空白，按参保金额减资助得{fmt_money(personal)}元")
        applied_standard = subsidy + personal
        if standard is not None and applied_standard != standard:
            notes.append(
                f"附表资助{fmt_money(subsidy)}元+个人实缴{fmt_money(personal)}元"
                f"={fmt_money(applied_standard)}元，与本档个人缴费标准{fmt_money(standard)}元不符，"
                "按附表执行"
            )
        elif standard is None:
            notes.append(
                f"本政策未给出该人群本档缴费标准，按附表资助与个人实缴之和{fmt_money(applied_standard)}元计"
            )
        return Applied(applied_standard, subsidy, tuple(notes))

    def explain(self) -> str:
        parts = []
        if self.ratio:
            parts.append(self.ratio)
        parts.append("资助" + (fmt_money(self.subsidy) if self.subsidy is not None else "（空白）"))
        parts.append(
            "个人实缴" + (fmt_money(self.personal) if self.personal is not None else "（空白）")
        )
        text = "按附表：" + "，".join(parts)
        if self.check is not None:
            text += f"（核对规则：{self.check.explain()}）"
        return text

    def findings(self, standard: Decimal | None, standards: Standards) -> list[str]:
        """Arithmetic of the printed row and its cross-check rule."""
        found: list[str] = []
        if self.standard is not None and self.subsidy is not None and self.personal is not None:
            if self.subsidy + self.personal != self.standard:
                found.append(
                    f"参保金额{fmt_money(self.standard)}≠资助{fmt_money(self.subsidy)}"
                    f"+个人实缴{fmt_money(self.personal)}"
                )
        printed_standard = self.standard
        if printed_standard is None and self.subsidy is not None and self.personal is not None:
            printed_standard = self.subsidy + self.personal
        if printed_standard is not None and standard is not None and printed_standard != standard:
            found.append(
                f"附表隐含参保金额{fmt_money(printed_standard)}元，与本档个人缴费标准"
                f"{fmt_money(standard)}元不符"
            )
        if self.check is not None and self.subsidy is not None:
            try:
                expected = self.check.subsidy(standards)
            except RuleMissing:
                expected = None
            if expected is not None and expected != self.subsidy:
                found.append(
                    f"附表资助{fmt_money(self.subsidy)}元，按“{self.check.explain()}”应为"
                    f"{fmt_money(expected)}元"
                )
        return found


class NotApplicable(Model):
    """``——`` or a missing tier: the identity cannot enroll in this tier with a subsidy."""

    kind: Literal["not_applicable"] = "not_applicable"
    printed: str = "——"

    def apply(self, standard: Decimal | None, standards: Standards) -> Applied:
        raise QuoteRefused("不适用", code="tier_not_applicable")

    def explain(self) -> str:
        return f"不适用（文件标注“{self.printed}”）" if self.printed else "不适用（文件未列该档）"


class MissingRule(Model):
    """The amounts are in a document that is not part of this policy."""

    kind: Literal["missing"] = "missing"
    document: str

    def apply(self, standard: Decimal | None, standards: Standards) -> Applied:
        raise RuleMissing(
            f"资助标准见{self.document}，该文件未收录，无法计算资助金额",
            code="subsidy_rule_missing",
        )

    def explain(self) -> str:
        return f"资助标准见{self.document}（未收录）"


SubsidyRule = Annotated[
    PublishedRow | PercentOfStandard | FixedAmount | NoSubsidy | NotApplicable | MissingRule,
    Field(discriminator="kind"),
]
