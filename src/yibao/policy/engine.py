"""The questions the engine answers: what does this person owe, and from when are they covered."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .errors import QuoteRefused, RuleMissing
from .model import COVERAGE_NAMES, POPULATION_NAMES, Identity, LateSurcharge, Policy, tier_name
from .money import ZERO, fmt_money
from .rules import Applied, MissingRule, NotApplicable, PublishedRow, Standards


@dataclass(frozen=True, slots=True)
class IdentityClaim:
    """An identity a person holds: a code (``101``) or a name as printed, and when certified."""

    key: str
    certified_on: date | None = None


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    paid_on: date
    tier: int
    identities: tuple[IdentityClaim, ...] = ()
    population: str = "resident"
    birth_date: date | None = None
    graduating: bool = False
    employee_insurance_ended_on: date | None = None
    continuous_insured_years: int | None = None
    without_missing_subsidy: bool = False
    """An office decided the person enrolls now at full price, without the subsidy a
    document the policy cites but lacks (kind ``missing``) would give."""


@dataclass(frozen=True, slots=True)
class IdentityRef:
    code: str | None
    name: str


@dataclass(frozen=True, slots=True)
class Quote:
    """The answer: ``standard == subsidy + personal``, the late surcharge included."""

    policy: str
    tier: int
    population: str
    paid_on: date
    identity: IdentityRef | None
    standard: Decimal
    subsidy: Decimal
    personal: Decimal
    surcharge: Decimal
    coverage_start: date | None
    coverage_end: date | None
    notes: tuple[str, ...]
    sources: tuple[str, ...]

    @property
    def zero_declaration(self) -> bool:
        """A fully subsidised person is declared with zero (零申报)."""
        return self.personal == ZERO

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "tier": self.tier,
            "population": self.population,
            "paid_on": self.paid_on.isoformat(),
            "identity": (
                {"code": self.identity.code, "name": self.identity.name} if self.identity else None
            ),
            "standard": fmt_money(self.standard),
            "subsidy": fmt_money(self.subsidy),
            "personal": fmt_money(self.personal),
            "surcharge": fmt_money(self.surcharge),
            "zero_declaration": self.zero_declaration,
            "coverage_start": self.coverage_start.isoformat() if self.coverage_start else None,
            "coverage_end": self.coverage_end.isoformat() if self.coverage_end else None,
            "notes": list(self.notes),
            "sources": list(self.sources),
        }


@dataclass
class _Trace:
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def cite(self, citation: str | None) -> None:
        if citation and citation not in self.sources:
            self.sources.append(citation)


@dataclass(frozen=True, slots=True)
class _Candidate:
    identity: Identity
    claim: IdentityClaim
    applied: Applied
    applied_tier: int


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def compute_quote(policy: Policy, request: QuoteRequest) -> Quote:
    """Quote one person under ``policy``; raises :class:`QuoteRefused` naming the rule that refuses."""
    trace = _Trace()
    tier = request.tier
    if tier not in (1, 2):
        raise QuoteRefused(f"缴费档次须为一档或二档，收到“{tier}”", code="invalid_tier", tier=tier)
    if request.population not in POPULATION_NAMES:
        raise QuoteRefused(
            f"未知的参保人群“{request.population}”",
            code="invalid_population",
            population=request.population,
        )
    student = request.population == "university_student"
    newborn_window = _newborn_window(policy, request, trace)
    resolved = _resolve(policy, request)
    if student:
        standards = _student_standards(policy, request, trace)
    else:
        _check_payment_day(policy, request, resolved, newborn_window, trace)
        trace.cite(policy.standards.cite)
        standards = {1: policy.standards.tier1, 2: policy.standards.tier2}

    chosen = _select_identity(policy, request, resolved, standards, trace)
    if chosen is None:
        standard = standards[tier]
        if standard is None:
            raise RuleMissing(
                f"本政策未规定{POPULATION_NAMES[request.population]}{tier_name(tier)}个人缴费标准，无法报价",
                code="standard_missing",
            )
        applied = Applied(standard, ZERO)
    else:
        applied = chosen.applied
        trace.notes.extend(applied.notes)
    standard, subsidy = applied.standard, applied.subsidy

    surcharge = ZERO
    late = policy.late_surcharge
    if late is not None and not student and request.paid_on >= late.starts_on:
        stands = _published_personal_stands(policy, chosen, late.starts_on)
        if _newborn_exempt(late, request):
            trace.notes.append(
                f"出生{late.newborn_exempt_days}日内独立参保的新生儿不补缴财政补助"
                f"（{_city_rule_cite(policy, 'newborn_surcharge') or late.cite}）"
            )
            trace.cite(late.cite)
        elif stands is not None:
            trace.cite(stands)
            trace.notes.append(
                f"附表所列个人实缴金额执行至{chosen.identity.valid_to if chosen else ''}，"
                f"{late.starts_on:%Y年%-m月%-d日}后缴费仍按附表金额，不另加财政补助（{stands}）"
            )
        else:
            surcharge = late.amount
            standard += surcharge
            trace.cite(late.cite)
            borne = policy.surcharge_borne
            if (
                borne is not None
                and chosen is not None
                and chosen.identity.key in borne.identities
                and request.paid_on <= borne.until
            ):
                subsidy += surcharge
                trace.cite(borne.cite)
                trace.notes.append(
                    f"{late.starts_on:%Y年%-m月%-d日}起参保缴费应另缴财政补助{fmt_money(surcharge)}元，"
                    f"该身份个人缴费标准不变，由财政专项资金承担（{borne.cite}）"
                )
            else:
                trace.notes.append(
                    f"{late.starts_on:%Y年%-m月%-d日}起参保缴费，个人另缴财政补助{fmt_money(surcharge)}元"
                    f"（{late.cite}）"
                )
    personal = standard - subsidy
    if personal < ZERO:
        raise QuoteRefused(
            f"资助{fmt_money(subsidy)}元超过缴费标准{fmt_money(standard)}元，政策数据有误",
            code="negative_personal",
        )

    start, end = _coverage(policy, request, resolved, newborn_window, trace)
    identity_ref = None
    if chosen is not None:
        key = chosen.claim.key
        name = key if key in chosen.identity.names else chosen.identity.printed
        identity_ref = IdentityRef(code=chosen.identity.code, name=name)
    return Quote(
        policy=policy.id,
        tier=tier,
        population=request.population,
        paid_on=request.paid_on,
        identity=identity_ref,
        standard=standard,
        subsidy=subsidy,
        personal=personal,
        surcharge=surcharge,
        coverage_start=start,
        coverage_end=end,
        notes=tuple(trace.notes),
        sources=tuple(trace.sources),
    )


def _newborn_exempt(late: LateSurcharge, request: QuoteRequest) -> bool:
    """A newborn enrolling alone within the exempt days of birth pays no late surcharge."""
    days = late.newborn_exempt_days
    return (
        days is not None
        and request.population == "newborn"
        and request.birth_date is not None
        and request.paid_on <= request.birth_date + timedelta(days=days)
    )


def _city_rule_cite(policy: Policy, key: str) -> str | None:
    rule = next((r for r in policy.city_rules if r.key == key and r.status == "applied"), None)
    return f"市级规则，{rule.cite}" if rule is not None else None


def _published_personal_stands(
    policy: Policy, chosen: _Candidate | None, surcharge_from: date
) -> str | None:
    """The cite when the chosen identity's published personal amount stands after 1 July.

    Only a printed row (资助 and 个人实缴 as published) whose own validity window runs past
    the surcharge date: the table was published for payments after that date.
    """
    stands = policy.published_personal_stands
    if stands is None or chosen is None:
        return None
    identity = chosen.identity
    rule = identity.rule(chosen.applied_tier)
    if not isinstance(rule, PublishedRow) or rule.personal is None:
        return None
    if identity.valid_to is None or identity.valid_to < surcharge_from:
        return None
    return stands.cite


def _newborn_window(policy: Policy, request: QuoteRequest, trace: _Trace) -> bool:
    if request.population != "newborn":
        return False
    if request.birth_date is None:
        raise QuoteRefused("新生儿报价须提供出生日期", code="birth_date_required")
    if request.birth_date > request.paid_on:
        raise QuoteRefused("出生日期晚于缴费日期", code="birth_after_payment")
    days = policy.collection.newborn_days
    if days is None:
        trace.notes.append("本政策未规定新生儿独立参保期限，按普通居民计算")
        return False
    if request.paid_on <= request.birth_date + timedelta(days=days):
        trace.cite(policy.collection.newborn_cite)
        return True
    trace.notes.append(f"出生已超过{days}日，不属新生儿独立参保期限，按普通居民计算")
    return False


def _resolve(policy: Policy, request: QuoteRequest) -> list[tuple[Identity, IdentityClaim]]:
    resolved: list[tuple[Identity, IdentityClaim]] = []
    for claim in request.identities:
        identity = policy.identity(claim.key)
        if identity is None:
            raise QuoteRefused(
                f"本政策（{policy.name}）没有身份“{claim.key}”，请使用文件所列代码或名称",
                code="unknown_identity",
                identity=claim.key,
            )
        if all(identity is not other for other, _ in resolved):
            resolved.append((identity, claim))
    return resolved


def _student_standards(policy: Policy, request: QuoteRequest, trace: _Trace) -> Standards:
    student = policy.student
    if student is None:
        trace.notes.append("本政策未规定在渝高校大学生的学年个人缴费标准")
        return {1: None, 2: None}
    if request.paid_on > student.school_year_end:
        raise QuoteRefused(
            f"{request.paid_on}已过{student.school_year_start}至{student.school_year_end}学年，"
            f"不能参加该学年大学生医保（{student.cite}）",
            code="after_school_year",
        )
    trace.cite(student.cite)
    return {1: student.tier1, 2: student.tier2}


def _check_payment_day(
    policy: Policy,
    request: QuoteRequest,
    resolved: list[tuple[Identity, IdentityClaim]],
    newborn_window: bool,
    trace: _Trace,
) -> None:
    paid_on, collection = request.paid_on, policy.collection
    year_end = date(policy.benefit_year, 12, 31)
    if paid_on > year_end:
        raise QuoteRefused(
            f"{paid_on}已过{policy.benefit_year}年度，不能再缴纳该年度居民医保",
            code="after_benefit_year",
        )
    if collection.opens_on and paid_on < collection.opens_on and not newborn_window:
        raise QuoteRefused(
            f"{paid_on}早于集中缴费期开始日{collection.opens_on}（{collection.opens_cite}），尚未开始缴费",
            code="before_collection",
            opens_on=collection.opens_on.isoformat(),
        )
    trace.cite(collection.period_cite)
    if collection.opens_on is None and paid_on < date(policy.benefit_year, 1, 1):
        trace.notes.append("本政策未规定集中缴费期起始日，未据此拒收")
    last = collection.last_payment_day
    if last is None:
        if paid_on > collection.period_end:
            trace.notes.append("本政策未规定集中缴费期后的最迟缴费日")
        return
    if paid_on <= last or newborn_window:
        return
    extended = collection.extended_last_day
    if extended and paid_on <= extended.until:
        holders = [i for i, _ in resolved if i.key in extended.identities]
        if holders:
            trace.cite(extended.cite)
            trace.notes.append(
                f"{holders[0].printed}最迟缴费日为{extended.until}（{extended.cite}）"
            )
            return
    raise QuoteRefused(
        f"{paid_on}已过最迟缴费日{last}（{collection.last_cite}），不再受理缴费",
        code="after_last_payment_day",
        last_payment_day=last.isoformat(),
    )


@dataclass(frozen=True, slots=True)
class _SetAside:
    """Why a held identity gives nothing; ``refuse`` when the quote cannot go on without it."""

    reason: str
    refuse: bool


def _ineligible(
    policy: Policy, identity: Identity, claim: IdentityClaim, request: QuoteRequest
) -> _SetAside | None:
    wants_student = request.population == "university_student"
    if (identity.population == "university_student") != wants_student:
        return _SetAside(
            f"身份“{identity.label()}”适用于{POPULATION_NAMES[identity.population]}，"
            f"与所选参保人群“{POPULATION_NAMES[request.population]}”不符",
            refuse=True,
        )
    paid_on = request.paid_on
    if (identity.valid_from and paid_on < identity.valid_from) or (
        identity.valid_to and paid_on > identity.valid_to
    ):
        window = (
            identity.window_printed or f"{identity.valid_from or ''}至{identity.valid_to or ''}"
        )
        return _SetAside(
            f"身份“{identity.label()}”的资助执行时间为{window}（{identity.window_cite}），"
            f"{paid_on}缴费不予资助",
            refuse=False,
        )
    if identity.certified_until is not None:
        if claim.certified_on is None:
            return _SetAside(
                f"身份“{identity.label()}”须在{identity.certified_until}前认定"
                f"（{identity.certified_cite}），请提供认定日期",
                refuse=True,
            )
        if claim.certified_on > identity.certified_until:
            return _SetAside(
                f"身份“{identity.label()}”于{claim.certified_on}认定，晚于{identity.certified_until}"
                f"（{identity.certified_cite}），不予资助",
                refuse=False,
            )
    return None


def _select_identity(
    policy: Policy,
    request: QuoteRequest,
    resolved: list[tuple[Identity, IdentityClaim]],
    standards: Standards,
    trace: _Trace,
) -> _Candidate | None:
    if not resolved:
        return None
    tier = request.tier
    _check_priority_lists(policy, resolved)
    candidates: list[_Candidate] = []
    set_aside: list[_SetAside] = []
    for identity, claim in resolved:
        aside = _ineligible(policy, identity, claim, request)
        rule = identity.rule(tier)
        if aside is None and isinstance(rule, NotApplicable):
            aside = _SetAside(
                f"身份“{identity.label()}”不能以{tier_name(tier)}享受资助参保：{rule.explain()}"
                f"（{identity.cite}）",
                refuse=True,
            )
        if aside is None and isinstance(rule, MissingRule):
            if not request.without_missing_subsidy:
                raise RuleMissing(
                    f"身份“{identity.label()}”的资助标准见{rule.document}（{identity.cite}），"
                    "该文件尚未收录，无法计算资助金额；区医保局载入该文件的补充文件后按文件资助，"
                    "在此之前只能由街道社保所或区医保局决定先按普通居民全额缴费参保（不享受资助）",
                    code="subsidy_rule_missing",
                    document=rule.document,
                    identity=identity.label(),
                )
            aside = _SetAside(
                f"身份“{identity.label()}”的资助标准见{rule.document}，该文件尚未收录；"
                "经办机构决定先按普通居民全额缴费参保，不享受资助",
                refuse=False,
            )
        if aside is not None:
            set_aside.append(aside)
            continue
        applied = rule.apply(standards[tier], standards)
        candidates.append(_Candidate(identity, claim, applied, tier))
    reasons = [aside.reason for aside in set_aside]
    if not candidates and any(aside.refuse for aside in set_aside):
        raise QuoteRefused("；".join(reasons), code="identity_not_applicable", reasons=reasons)
    if not candidates:
        # 不予资助 is not a refusal: the person enrolls as an ordinary resident at full price.
        trace.notes.extend(f"未适用：{reason}" for reason in reasons)
        trace.notes.append("无可适用的资助身份，按普通居民全额缴费")
        return None
    trace.notes.extend(f"未适用：{reason}" for reason in reasons)
    chosen = candidates[0] if len(candidates) == 1 else _apply_multi_rule(policy, candidates, trace)
    trace.cite(chosen.identity.cite)
    trace.notes.append(f"资助：{chosen.identity.label()}，{chosen.identity.rule(tier).explain()}")
    return chosen


def _check_priority_lists(policy: Policy, resolved: list[tuple[Identity, IdentityClaim]]) -> None:
    """A person holding several identities, one of them outside the stated order, is refused.

    Checked on every identity held, before any is set aside (another population, a window,
    a certification date): the order does not say where the unlisted one stands.
    """
    rule = policy.multi_identity
    if rule.rule != "priority" or len(resolved) < 2:
        return
    listed = {key for group in rule.order for key in group}
    unlisted = [identity.label() for identity, _ in resolved if identity.key not in listed]
    if unlisted:
        raise QuoteRefused(
            f"多重身份认定顺序（{rule.cite}）未列入“{'、'.join(unlisted)}”，文件未规定其先后，无法确定适用身份",
            code="identity_order_missing",
        )


def _apply_multi_rule(policy: Policy, candidates: list[_Candidate], trace: _Trace) -> _Candidate:
    rule = policy.multi_identity
    trace.cite(rule.cite)
    if rule.rule == "priority":
        paying = [c for c in candidates if c.applied.subsidy > ZERO]
        if paying and len(paying) < len(candidates):
            # 本档“不予资助”的身份不排在能获资助的身份之前：否则多一个身份反而少得资助，与就高相反。
            trace.notes.extend(
                f"未适用：身份“{c.identity.label()}”本档不予资助，按其余身份认定"
                for c in candidates
                if c not in paying
            )
            candidates = paying
            if len(candidates) == 1:
                return candidates[0]
        group_of = {key: g for g, group in enumerate(rule.order) for key in group}
        unlisted = [c.identity.label() for c in candidates if c.identity.key not in group_of]
        if unlisted:
            raise QuoteRefused(
                f"多重身份认定顺序（{rule.cite}）未列入“{'、'.join(unlisted)}”，文件未规定其先后，无法确定适用身份",
                code="identity_order_missing",
            )
        best_group = min(group_of[c.identity.key] for c in candidates)
        pool = [c for c in candidates if group_of[c.identity.key] == best_group]
        position = {key: i for i, key in enumerate(rule.order[best_group])}
        chosen = max(pool, key=lambda c: (c.applied.subsidy, -position[c.identity.key]))
        trace.notes.append(
            f"多重身份按认定顺序（{rule.cite}）适用“{chosen.identity.label()}”"
            + ("，同一顺位内就高" if len(pool) > 1 else "")
        )
        return chosen
    order = {key: i for i, key in enumerate(rule.tie_break)}
    chosen = max(candidates, key=lambda c: (c.applied.subsidy, -order[c.identity.key]))
    tied = [c for c in candidates if c.applied.subsidy == chosen.applied.subsidy]
    text = f"多重身份按就高原则（{rule.cite}）适用“{chosen.identity.label()}”"
    if len(tied) > 1:
        text += "；资助金额相同，按政策文件所列身份顺序取先者"
    trace.notes.append(text)
    return chosen


def _no_waiting_reason(
    policy: Policy, request: QuoteRequest, resolved: list[tuple[Identity, IdentityClaim]]
) -> str | None:
    rule = policy.coverage.no_waiting
    if rule is None:
        return None
    if (
        rule.newborn_days is not None
        and request.population == "newborn"
        and request.birth_date is not None
        and request.paid_on <= request.birth_date + timedelta(days=rule.newborn_days)
    ):
        return f"出生{rule.newborn_days}日内参保的新生儿不设等待期（{rule.cite}）"
    for identity, _ in resolved:
        if identity.key in rule.identities:
            return f"{identity.label()}不设等待期（{rule.cite}）"
    ended = request.employee_insurance_ended_on
    if rule.employee_insurance_months is not None and ended is not None:
        within = request.paid_on <= add_months(ended, rule.employee_insurance_months)
        years_ok = rule.min_continuous_years is None or (
            (request.continuous_insured_years or 0) >= rule.min_continuous_years
        )
        if within and years_ok:
            return f"职工医保中断缴费{rule.employee_insurance_months}个月内参保，不设等待期（{rule.cite}）"
    return None


def _coverage(
    policy: Policy,
    request: QuoteRequest,
    resolved: list[tuple[Identity, IdentityClaim]],
    newborn_window: bool,
    trace: _Trace,
) -> tuple[date | None, date | None]:
    year = policy.benefit_year
    jan1, dec31 = date(year, 1, 1), date(year, 12, 31)
    if request.population == "university_student":
        student = policy.student
        if student is None:
            trace.notes.append("待遇享受期：本政策未规定在渝高校大学生的待遇享受期")
            return None, None
        end = student.school_year_end
        if request.graduating and student.graduate_coverage_end:
            end = student.graduate_coverage_end
            trace.cite(student.graduate_cite)
            trace.notes.append(f"当年毕业的大学生待遇享受期延长至{end}")
        return student.school_year_start, end
    coverage = policy.coverage
    if coverage.missing:
        trace.notes.append(f"待遇享受期：{coverage.missing}")
        return None, None
    paid_on = request.paid_on
    window = next((w for w in coverage.windows if w.contains(paid_on)), None)
    if window is None:
        trace.notes.append(f"待遇享受期：{paid_on}不在本政策任何待遇时段内")
        return None, None
    trace.cite(window.cite)
    exempt = _no_waiting_reason(policy, request, resolved)
    if window.rule == "full_year":
        start = jan1
    elif exempt is not None:
        start = max(paid_on, jan1)
        trace.notes.append(exempt + "，自完清费用之日起享受待遇")
    elif window.rule == "next_month":
        start = first_of_next_month(paid_on)
        trace.notes.append(f"{COVERAGE_NAMES['next_month']}（{window.cite}）")
    else:
        days = window.waiting_days or 0
        # The payment day is not counted (民法典第二百零一条): paid 3-01, 90 days end 5-30, covered 5-31.
        start = paid_on + timedelta(days=days + 1)
        trace.notes.append(
            f"待遇等待期{days}日，缴费当日不计入，{start}起享受待遇（{window.cite}）"
        )
    if start > dec31:
        raise QuoteRefused(
            f"{paid_on}缴费，等待期满（{start}）已超出{year}年度，本年度无法享受待遇（{window.cite}）",
            code="coverage_after_year_end",
        )
    return start, dec31


def offline_payment_refusal(
    policy: Policy, *, paid_on: date, channel: str, at_village: bool
) -> str | None:
    """Why an offline payment taken at the village on ``paid_on`` is refused, or ``None``.

    ``at_village``: taken by a village collector rather than at the township office.
    """
    rule = policy.offline_payment
    if rule is None or not at_village or channel not in rule.channels:
        return None
    if paid_on <= rule.village_until:
        return None
    return (
        f"{paid_on}已过集中参保期（至{rule.village_until}），线下缴费须到街道社保所办理，"
        f"村（社区）不再收取（{rule.cite}）"
    )
