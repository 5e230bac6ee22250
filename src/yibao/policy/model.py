"""The policy file as validated data: every figure with the document it came from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from .money import Money, Percent
from .rules import TIER_NAMES, FixedAmount, Model, NotApplicable, PercentOfStandard, SubsidyRule

Population = Literal["resident", "university_student", "newborn"]
POPULATION_NAMES: dict[str, str] = {
    "resident": "城乡居民",
    "university_student": "在渝高校大学生",
    "newborn": "新生儿",
}


class Source(Model):
    """One official document: its number (文号), issuer, date and title."""

    number: str = Field(min_length=1)
    title: str
    issuer: str
    issued_on: date | None = None
    level: Literal["city", "district", "township"]
    note: str = ""


class TierStandards(Model):
    tier1: Money
    tier2: Money
    cite: str = Field(min_length=1)

    def for_tier(self, tier: int) -> Decimal:
        return self.tier1 if tier == 1 else self.tier2


class FiscalSubsidy(Model):
    amount: Money
    cite: str = Field(min_length=1)


class LateSurcharge(Model):
    """From ``starts_on`` the person also pays the per-capita fiscal subsidy."""

    starts_on: date
    amount: Money
    newborn_exempt_days: int | None = None
    cite: str = Field(min_length=1)


class StudentYear(Model):
    """University students' school-year standards and coverage."""

    school_year_start: date
    school_year_end: date
    tier1: Money
    tier2: Money
    cite: str = Field(min_length=1)
    graduate_coverage_end: date | None = None
    graduate_cite: str | None = None


class CityPercent(Model):
    """City-wide subsidy percentage of a low-income category (渝医保发〔2021〕66号)."""

    category: str
    tier1_percent: Percent
    tier2_percent_of_tier1: Percent
    cite: str = Field(min_length=1)


class Decision(Model):
    """A product decision where the documents are silent: shown to users with its reason."""

    key: str
    value: str
    reason: str


class StatedFinding(Model):
    """Something in the documents a clerk should know is off, written down in the policy file."""

    text: str = Field(min_length=1)
    cite: str = Field(min_length=1)


CityRuleStatus = Literal["applied", "own_text", "overridden"]
CITY_RULE_STATUS_NAMES: dict[str, str] = {
    "applied": "适用",
    "own_text": "本政策文件自行规定",
    "overridden": "本政策文件写明不适用",
}


class CityRule(Model):
    """A city rule of the benefit year as this policy inherits it (or why it does not)."""

    key: str
    title: str
    cite: str = Field(min_length=1)
    source: str
    status: CityRuleStatus
    decision: str = ""
    note: str = ""


class OfflinePayment(Model):
    """Where money is taken offline: at the village during the collection period, afterwards
    only at the township office (社保所). ``channels`` are the ledger's offline channels."""

    channels: list[str] = Field(min_length=1)
    village_until: date
    cite: str = Field(min_length=1)


class PublishedPersonalStands(Model):
    """A published personal amount whose window runs past 1 July stands: no surcharge on top."""

    cite: str = Field(min_length=1)


class Identity(Model):
    """One row of a subsidy table: a hardship identity (身份标识) and its amounts per tier."""

    code: str | None = None
    printed: str = Field(min_length=1)
    names: list[str] = Field(default_factory=list)
    department: str | None = None
    population: Population = "resident"
    valid_from: date | None = None
    valid_to: date | None = None
    window_printed: str | None = None
    window_cite: str | None = None
    certified_until: date | None = None
    certified_cite: str | None = None
    city_category: str | None = None
    tier1: SubsidyRule = NotApplicable(printed="")
    tier2: SubsidyRule = NotApplicable(printed="")
    cite: str = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> Identity:
        if not self.names:
            object.__setattr__(self, "names", [self.printed])
        for name in self.names:
            if name not in self.printed:
                raise ValueError(f"身份名称“{name}”不在文件所印“{self.printed}”之中")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError(f"身份“{self.printed}”的执行起止时间颠倒")
        return self

    @property
    def key(self) -> str:
        return self.code if self.code is not None else self.names[0]

    def rule(self, tier: int) -> SubsidyRule:
        return self.tier1 if tier == 1 else self.tier2

    def label(self) -> str:
        return f"{self.code} {self.printed}" if self.code else self.printed


class ExtendedLastDay(Model):
    until: date
    identities: list[str]
    cite: str = Field(min_length=1)


class Collection(Model):
    """The collection period and the last payment days."""

    opens_on: date | None = None
    opens_cite: str | None = None
    period_end: date
    period_cite: str = Field(min_length=1)
    last_payment_day: date | None = None
    last_cite: str | None = None
    extended_last_day: ExtendedLastDay | None = None
    newborn_days: int | None = None
    newborn_cite: str | None = None


CoverageKind = Literal["full_year", "next_month", "waiting_period"]
COVERAGE_NAMES = {
    "full_year": "全年享受待遇",
    "next_month": "完清费用次月1日起享受",
    "waiting_period": "设待遇等待期",
}


class CoverageWindow(Model):
    starts: date | None = Field(default=None, alias="from")
    ends: date | None = Field(default=None, alias="until")
    rule: CoverageKind
    waiting_days: int | None = None
    cite: str = Field(min_length=1)

    def contains(self, day: date) -> bool:
        return (self.starts is None or self.starts <= day) and (
            self.ends is None or day <= self.ends
        )


class NoWaiting(Model):
    """Who has no waiting period (不设待遇等待期)."""

    identities: list[str] = Field(default_factory=list)
    newborn_days: int | None = None
    employee_insurance_months: int | None = None
    min_continuous_years: int | None = None
    cite: str = Field(min_length=1)


class Coverage(Model):
    missing: str | None = None
    windows: list[CoverageWindow] = Field(default_factory=list)
    no_waiting: NoWaiting | None = None
    pre_enrollment: str | None = None
    """The cite where the document says that a person moving to employee insurance during the
    year is 预参保 (keeps resident benefits) during its waiting period; ``None``: not stated."""

    @model_validator(mode="after")
    def _windows(self) -> Coverage:
        if self.missing is None and not self.windows:
            raise ValueError("待遇享受期：既无规则也未说明缺失原因")
        for before, after in zip(self.windows, self.windows[1:], strict=False):
            if before.ends is None or after.starts is None or after.starts <= before.ends:
                raise ValueError(
                    f"待遇享受期时段重叠：{before.starts}—{before.ends} 与 {after.starts}—{after.ends}"
                )
            if (after.starts - before.ends).days != 1:
                raise ValueError(
                    f"待遇享受期时段不连续：{before.ends} 与 {after.starts} 之间有空档"
                )
        for window in self.windows:
            if window.rule == "waiting_period" and not window.waiting_days:
                raise ValueError("等待期时段须写明天数 waiting_days")
        return self


class MultiIdentity(Model):
    """Which identity applies when a person has several: 就高 (highest) or an explicit order."""

    rule: Literal["highest", "priority"]
    tie_break: list[str] = Field(default_factory=list)
    order: list[list[str]] = Field(default_factory=list)
    cite: str = Field(min_length=1)
    note: str = ""


class SurchargeBorne(Model):
    """Identities whose late surcharge is paid by public funds, not by the person."""

    identities: list[str]
    until: date
    cite: str = Field(min_length=1)


class TargetColumn(Model):
    key: str
    label: str


class TargetRow(Model):
    seq: int | None = None
    village: str
    values: dict[str, int]


class DifferenceCheck(Model):
    kind: Literal["difference"] = "difference"
    column: str
    minuend: str
    subtrahend: str
    level: Literal["error", "warning"] = "error"


class PercentCheck(Model):
    kind: Literal["percent_of"] = "percent_of"
    column: str
    of: str
    percent: Percent
    rounding: Literal["half_up", "floor", "ceiling"] = "half_up"
    rounding_reason: str = ""
    level: Literal["error", "warning"] = "warning"


class StatedFigure(Model):
    column: str
    value: int
    cite: str = Field(min_length=1)


class Targets(Model):
    cite: str = Field(min_length=1)
    title: str
    unit: str = "人"
    columns: list[TargetColumn]
    rows: list[TargetRow]
    totals: dict[str, int]
    checks: list[DifferenceCheck | PercentCheck] = Field(default_factory=list)
    stated: list[StatedFigure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> Targets:
        keys = [c.key for c in self.columns]
        for row in self.rows:
            if sorted(row.values) != sorted(keys):
                raise ValueError(f"任务表“{row.village}”行的栏目与表头不一致")
        villages = [row.village for row in self.rows]
        if len(set(villages)) != len(villages):
            raise ValueError("任务表中村（社区）名称重复")
        for key in self.totals:
            if key not in keys:
                raise ValueError(f"合计栏目“{key}”不在表头中")
        for check in self.checks:
            used = [check.column] + (
                [check.minuend, check.subtrahend]
                if isinstance(check, DifferenceCheck)
                else [check.of]
            )
            for key in used:
                if key not in keys:
                    raise ValueError(f"任务表核对规则引用了不存在的栏目“{key}”")
        for figure in self.stated:
            if figure.column not in keys:
                raise ValueError(f"正文数字引用了不存在的栏目“{figure.column}”")
        return self

    def label(self, key: str) -> str:
        return next(c.label for c in self.columns if c.key == key)


class ScoreRule(Model):
    fixed: Decimal | None = None
    per_full_point_above: Percent | None = None
    points: Decimal | None = None

    @model_validator(mode="after")
    def _one(self) -> ScoreRule:
        if (self.fixed is None) == (self.per_full_point_above is None):
            raise ValueError("考核分值须为固定分值或按百分点计分，二者取一")
        if self.per_full_point_above is not None and self.points is None:
            raise ValueError("按百分点计分须写明每个百分点的分值 points")
        return self


class AssessmentBand(Model):
    label: str
    completion_min: Percent | None = None
    min_inclusive: bool = True
    completion_max: Percent | None = None
    max_inclusive: bool = True
    hardship: Literal["all", "not_all", "any"]
    score: ScoreRule

    def contains(self, completion: Decimal) -> bool:
        if self.completion_min is not None:
            if completion < self.completion_min or (
                completion == self.completion_min and not self.min_inclusive
            ):
                return False
        if self.completion_max is not None:
            if completion > self.completion_max or (
                completion == self.completion_max and not self.max_inclusive
            ):
                return False
        return True


class Assessment(Model):
    cite: str = Field(min_length=1)
    bands: list[AssessmentBand]
    precedence: list[int] = Field(default_factory=list)
    precedence_reason: str = ""


class ReportingPeriod(Model):
    starts: date = Field(alias="from")
    ends: date | None = Field(default=None, alias="until")
    ends_printed: str | None = None
    every: Literal["dekad", "week", "day"]
    weekday: int | None = None


class Reporting(Model):
    cite: str = Field(min_length=1)
    periods: list[ReportingPeriod]
    bottom_named: int | None = None
    bottom_cite: str | None = None


class EnrollmentFloor(Model):
    """A minimum enrollment rate a document sets (参保率达95%以上): paid people against the
    should-enroll population (``of = "should_enroll"``) or against each village's target
    (``of = "target"``), for the township as a whole or for every village (``per``).
    以上 includes the figure itself (Civil Code art. 1259)."""

    cite: str = Field(min_length=1)
    text: str = Field(min_length=1)  # the document's words
    percent: Percent
    of: Literal["should_enroll", "target"]
    per: Literal["township", "village"]


class Policy(Model):
    """A district's or township's policy for one benefit year, layered over the city's."""

    id: str
    name: str
    level: Literal["district", "township"]
    district: str
    township: str | None = None
    benefit_year: int
    city: str
    sources: list[Source]
    standards: TierStandards
    fiscal_subsidy: FiscalSubsidy | None = None
    late_surcharge: LateSurcharge | None = None
    student: StudentYear | None = None
    city_percentages: list[CityPercent] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    city_rules: list[CityRule] = Field(default_factory=list)
    findings: list[StatedFinding] = Field(default_factory=list)
    published_personal_stands: PublishedPersonalStands | None = None
    offline_payment: OfflinePayment | None = None
    collection: Collection
    coverage: Coverage
    identities: list[Identity] = Field(default_factory=list)
    multi_identity: MultiIdentity
    surcharge_borne: SurchargeBorne | None = None
    targets: Targets | None = None
    assessment: Assessment | None = None
    reporting: Reporting | None = None
    enrollment_floor: EnrollmentFloor | None = None

    @model_validator(mode="after")
    def _references(self) -> Policy:
        seen: dict[str, str] = {}
        for identity in self.identities:
            for name in [*identity.names, *([identity.code] if identity.code else [])]:
                if name in seen:
                    raise ValueError(f"身份名称或代码“{name}”重复（{seen[name]}）")
                seen[name] = identity.printed
        keys = {i.key for i in self.identities}

        def known(where: str, refs: list[str]) -> None:
            for ref in refs:
                if ref not in keys:
                    raise ValueError(
                        f"{where}引用了未知身份“{ref}”（须为本政策身份表中的代码或首个名称）"
                    )

        if self.collection.extended_last_day:
            known("延长缴费期", self.collection.extended_last_day.identities)
        if self.coverage.no_waiting:
            known("不设等待期", self.coverage.no_waiting.identities)
        if self.surcharge_borne:
            known("财政承担补缴", self.surcharge_borne.identities)
        rule = self.multi_identity
        if rule.rule == "highest" and self.identities:
            known("多重身份就高顺序", rule.tie_break)
            if sorted(rule.tie_break) != sorted(keys):
                missing = sorted(keys - set(rule.tie_break))
                raise ValueError(
                    f"就高规则须写明全部身份的同额先后顺序 tie_break，缺：{'、'.join(missing)}"
                )
        if rule.rule == "priority":
            flat = [key for group in rule.order for key in group]
            known("多重身份认定顺序", flat)
            if len(set(flat)) != len(flat):
                raise ValueError("多重身份认定顺序中有重复身份")
        cities = {p.category for p in self.city_percentages}
        for identity in self.identities:
            if identity.city_category and identity.city_category not in cities:
                raise ValueError(
                    f"身份“{identity.printed}”引用了未知的市级资助类别“{identity.city_category}”"
                )
        if self.collection.opens_on and self.collection.opens_on > self.collection.period_end:
            raise ValueError("集中缴费期起止颠倒")
        if self.assessment is not None:
            _check_bands(self.assessment)
        self._amounts_add_up()
        return self

    def _amounts_add_up(self) -> None:
        resident = {1: self.standards.tier1, 2: self.standards.tier2}
        student = {1: self.student.tier1, 2: self.student.tier2} if self.student else None
        for identity in self.identities:
            standards = student if identity.population == "university_student" else resident
            for tier in (1, 2):
                rule = identity.rule(tier)
                if standards is None or not isinstance(rule, PercentOfStandard | FixedAmount):
                    continue
                standard = standards[tier]
                if standard is not None and rule.subsidy(standards) > standard:
                    raise ValueError(
                        f"身份“{identity.label()}”{TIER_NAMES[tier]}资助{rule.subsidy(standards)}元"
                        f"超过缴费标准{standard}元，数据不能相加"
                    )

    def source_numbers(self) -> list[str]:
        return [s.number for s in self.sources]

    def identity(self, key: str) -> Identity | None:
        for identity in self.identities:
            if identity.code == key or key in identity.names or key == identity.printed:
                return identity
        return None


def _check_bands(assessment: Assessment) -> None:
    bands = assessment.bands
    for i, a in enumerate(bands):
        for j, b in enumerate(bands[i + 1 :], start=i + 1):
            if _bands_overlap(a, b) and not (
                i in assessment.precedence and j in assessment.precedence
            ):
                raise ValueError(
                    f"考核档次“{a.label}”与“{b.label}”在边界上重叠，须以 precedence 写明哪一档优先"
                )
    for index in assessment.precedence:
        if not 0 <= index < len(bands):
            raise ValueError(f"考核优先顺序引用了不存在的档次 {index}")


def _bands_overlap(a: AssessmentBand, b: AssessmentBand) -> bool:
    points = {
        p
        for p in (a.completion_min, a.completion_max, b.completion_min, b.completion_max)
        if p is not None
    }
    probes = set(points)
    probes |= {p + Decimal("0.001") for p in points} | {p - Decimal("0.001") for p in points}
    return any(a.contains(p) and b.contains(p) for p in probes)


def tier_name(tier: int) -> str:
    return TIER_NAMES[tier]
