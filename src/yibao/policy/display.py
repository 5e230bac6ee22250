"""Plain-text rendering of a policy for a terminal: tables laid out as the documents print them."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from .model import CITY_RULE_STATUS_NAMES, Policy, tier_name
from .money import fmt_money, fmt_plain
from .rules import MissingRule, NoSubsidy, NotApplicable, PublishedRow, SubsidyRule


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(width(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]

    def line(cells: Sequence[str]) -> str:
        return " | ".join(
            str(c) + " " * (w - width(str(c))) for c, w in zip(cells, widths, strict=False)
        )

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _cells(rule: SubsidyRule) -> tuple[str, str, str, str]:
    """(参保金额, 资助比例, 资助金额, 个人实缴) as printed."""
    if isinstance(rule, PublishedRow):
        return (
            fmt_plain(rule.standard) if rule.standard is not None else "",
            rule.ratio or "",
            fmt_money(rule.subsidy) if rule.subsidy is not None else "",
            fmt_money(rule.personal) if rule.personal is not None else "",
        )
    if isinstance(rule, NotApplicable):
        return ("", "", rule.printed, rule.printed)
    if isinstance(rule, MissingRule):
        return ("", "", f"见{rule.document}", "")
    if isinstance(rule, NoSubsidy):
        return ("", "不予资助", "0.00", "")
    return ("", rule.explain(), fmt_money(rule.subsidy({})) if rule.kind == "fixed" else "", "")


def render(policy: Policy) -> str:
    out: list[str] = [
        f"{policy.name}（{policy.id}）",
        f"待遇年度：{policy.benefit_year}年　{policy.district}",
    ]
    out.append("依据文件：")
    out += [
        f"  {s.number}　{s.title}" + (f"（{s.note}）" if s.note else "") for s in policy.sources
    ]
    std = policy.standards
    out.append(
        f"\n个人缴费标准：一档{fmt_plain(std.tier1)}元/人·年，二档{fmt_plain(std.tier2)}元/人·年（{std.cite}）"
    )
    if policy.student:
        s = policy.student
        out.append(
            f"在渝高校大学生{s.school_year_start:%Y年%-m月}至{s.school_year_end:%Y年%-m月}学年："
            f"一档{fmt_plain(s.tier1)}元，二档{fmt_plain(s.tier2)}元（{s.cite}）"
        )
        if s.graduate_coverage_end:
            out.append(
                f"当年毕业的大学生待遇享受期延至{s.graduate_coverage_end}（{s.graduate_cite}），"
                "毕业情况由经办机构登记"
            )
    if policy.late_surcharge:
        late = policy.late_surcharge
        out.append(
            f"{late.starts_on}起参保缴费另缴财政补助{fmt_plain(late.amount)}元（{late.cite}）"
        )
    c = policy.collection
    out.append(f"集中缴费期：{c.opens_on or '（未规定起始日）'}至{c.period_end}（{c.period_cite}）")
    if c.last_payment_day:
        out.append(f"最迟缴费日：{c.last_payment_day}（{c.last_cite}）")
    if c.extended_last_day:
        e = c.extended_last_day
        out.append(f"延长缴费日：{e.until}，适用于{'、'.join(e.identities)}（{e.cite}）")
    if policy.offline_payment:
        o = policy.offline_payment
        out.append(
            f"线下缴费地点：{o.village_until}前在村（社区）或邮政代缴，其后在街道社保所（{o.cite}）"
        )
    out.append("\n待遇享受期：")
    if policy.coverage.missing:
        out.append(f"  {policy.coverage.missing}")
    for w in policy.coverage.windows:
        days = f"{w.waiting_days}日" if w.waiting_days else ""
        rule_text = {
            "full_year": "当年1月1日至12月31日",
            "next_month": "完清费用次月1日起",
            "waiting_period": f"等待期{days}",
        }[w.rule]
        out.append(f"  {w.starts or '……'}至{w.ends or '……'}缴费：{rule_text}（{w.cite}）")
    if policy.coverage.pre_enrollment:
        out.append(
            "  年度内由居民医保转为参加职工医保的，职工医保等待期内为预参保，"
            f"享受居民医保待遇（{policy.coverage.pre_enrollment}）"
        )
    if policy.coverage.no_waiting:
        nw = policy.coverage.no_waiting
        who = list(nw.identities)
        if nw.newborn_days:
            who.append(f"出生{nw.newborn_days}日内新生儿")
        if nw.employee_insurance_months:
            who.append(f"职工医保中断{nw.employee_insurance_months}个月内人员")
        out.append(f"  不设等待期：{'、'.join(who)}（{nw.cite}）")
    if policy.identities:
        out.append("\n资助标准：")
        headers = [
            "代码",
            "类别",
            "档次",
            "参保金额",
            "资助比例",
            "资助金额",
            "个人实缴",
            "执行起止",
            "认定部门",
        ]
        rows: list[list[str]] = []
        for identity in policy.identities:
            for tier in (1, 2):
                cells = _cells(identity.rule(tier))
                first = tier == 1
                rows.append(
                    [
                        identity.code or "" if first else "",
                        identity.printed if first else "",
                        tier_name(tier),
                        *cells,
                        (identity.window_printed or "") if first else "",
                        (identity.department or "") if first else "",
                    ]
                )
        keep = [i for i in range(len(headers)) if i in (1, 2, 5, 6) or any(r[i] for r in rows)]
        out.append(table([headers[i] for i in keep], [[r[i] for i in keep] for r in rows]))
        rule = policy.multi_identity
        out.append(f"多重身份：{'就高' if rule.rule == 'highest' else '按顺序认定'}（{rule.cite}）")
        if rule.rule == "priority":
            out.append("  顺序：" + " > ".join("、".join(group) for group in rule.order))
    if policy.targets:
        t = policy.targets
        out.append(f"\n{t.title}（{t.cite}，单位：{t.unit}）")
        headers = ["序号", "村（社区）", *[col.label for col in t.columns]]
        rows = [
            [str(r.seq or ""), r.village, *[str(r.values[col.key]) for col in t.columns]]
            for r in t.rows
        ]
        rows.append(["", "合计", *[str(t.totals.get(col.key, "")) for col in t.columns]])
        out.append(table(headers, rows))
    if policy.assessment:
        out.append(f"\n考核办法（{policy.assessment.cite}）：")
        for band in policy.assessment.bands:
            score = band.score
            text = (
                f"{fmt_plain(score.fixed)}分"
                if score.fixed is not None
                else f"超过{fmt_plain(score.per_full_point_above or Decimal(0))}%每个百分点{fmt_plain(score.points or Decimal(0))}分"
            )
            out.append(f"  {band.label}：{text}")
        if policy.assessment.precedence_reason:
            out.append(f"  边界：{policy.assessment.precedence_reason}")
    if policy.city_rules:
        out.append("\n同一年度的市级规则（本政策文件未另行规定的，照此执行）：")
        for r in policy.city_rules:
            out.append(f"  [{CITY_RULE_STATUS_NAMES[r.status]}] {r.title}（{r.cite}；{r.source}）")
            if r.decision:
                out.append(f"      产品决定：{r.decision}")
            if r.note:
                out.append(f"      {r.note}")
    if policy.published_personal_stands:
        out.append(
            f"附表个人实缴金额执行期跨过7月1日的，期内按附表金额缴费，不另加财政补助"
            f"（{policy.published_personal_stands.cite}）"
        )
    if policy.decisions:
        out.append("\n文件未规定事项的处理（产品决定）：")
        out += [f"  {d.value}——{d.reason}" for d in policy.decisions]
    return "\n".join(out)


def subsidy_rows(policy: Policy) -> list[dict[str, str]]:
    """The subsidy table as printed, one row per identity and tier (for pages)."""
    rows: list[dict[str, str]] = []
    for identity in policy.identities:
        for tier in (1, 2):
            standard, ratio, subsidy, personal = _cells(identity.rule(tier))
            rows.append(
                {
                    "code": identity.code or "",
                    "name": identity.printed,
                    "first": "1" if tier == 1 else "",
                    "tier": tier_name(tier),
                    "standard": standard,
                    "ratio": ratio,
                    "subsidy": subsidy,
                    "personal": personal,
                    "window": identity.window_printed or "",
                    "department": identity.department or "",
                    "cite": identity.cite,
                }
            )
    return rows
