"""``yibao progress``: the campaign's progress as the actor may see it.

Prints, for ``--user``'s villages, the progress per village with the ranking (as of the end
of ``--date``, default now), the payments per channel on that day and over the seven days up
to it, and the cash each collector holds. ``--json`` gives the same figures as the API's
``/api/v1/progress`` routes. Exit status: 0, or 2 when refused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from yibao.manage_cli import setup_django

if TYPE_CHECKING:
    from .selectors import ChannelTotal, VillageProgress

BOTTOM_MARK = "◀ 后三名"
WEEK = 7


def _pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}%"


def progress_table(rows: list[VillageProgress]) -> str:
    """The progress per village in rank order, with the totals row."""
    from yibao.policy.display import table

    from .selectors import progress_totals

    lines = [
        [
            str(r.rank),
            r.name,
            str(r.target),
            str(r.should_enroll),
            str(r.enrolled),
            str(r.paid),
            _pct(r.completion),
            f"{r.hardship_paid}/{r.hardship}",
            BOTTOM_MARK if r.bottom_three else "",
        ]
        for r in sorted(rows, key=lambda r: r.rank)
    ]
    totals = progress_totals(rows)
    lines.append(
        [
            "",
            "合计",
            str(totals.target),
            str(totals.should_enroll),
            str(totals.enrolled),
            str(totals.paid),
            _pct(totals.completion),
            f"{totals.hardship_paid}/{totals.hardship}",
            "",
        ]
    )
    headers = ["名次", "村（社区）", "目标任务数", "应参保人数", "已登记", "已缴费", "完成率"]
    return table([*headers, "困难群体已缴", ""], lines)


def channel_table(rows: list[ChannelTotal]) -> str:
    """Channels that have entries, most payments first, with the totals row."""
    from yibao.policy.display import table

    used = sorted(
        (r for r in rows if r.payments or r.reversals), key=lambda r: (-r.payments, r.channel)
    )
    lines = [
        [r.label, str(r.payments), str(r.zero_declarations), str(r.reversals), f"{r.amount:.2f}"]
        for r in used
    ]
    lines.append(
        [
            "合计",
            str(sum(r.payments for r in rows)),
            str(sum(r.zero_declarations for r in rows)),
            str(sum(r.reversals for r in rows)),
            f"{sum((r.amount for r in rows), Decimal(0)):.2f}",
        ]
    )
    return table(["渠道", "笔数", "零申报", "冲正", "金额（元）"], lines)


def cmd_progress(args: argparse.Namespace) -> int:
    setup_django()
    from yibao.api.progress import policy_for
    from yibao.core import clock
    from yibao.core.errors import ApplicationError
    from yibao.policy import PolicyError, get_policy
    from yibao.policy.display import table
    from yibao.transfer.cli import _actor, _print_json, _refused

    from . import selectors

    try:
        actor = _actor(args.user)
        policy_id = policy_for(actor, args.policy)
    except (ApplicationError, PolicyError) as error:
        return _refused(error, args.json)
    engine = get_policy(policy_id)
    if args.rebuild_hardship:
        from .hardship import hardship_tags_rebuild
        from .village_people import village_people_rebuild

        rows = hardship_tags_rebuild()
        print(f"已按身份标识、死亡、其他参保和缴费记录重写困难群体读取表：{rows}行")
        counts = village_people_rebuild()
        print(f"已按人员、死亡和其他参保记录重写各村应参保人数表：{counts}行")
        return 0
    if args.check:
        from .hardship import hardship_tags_check
        from .village_people import village_people_check

        wrong = selectors.paid_mirror_check(actor=actor, benefit_year=engine.benefit_year)
        stale = hardship_tags_check()
        miscounted = village_people_check()
        if args.json:
            _print_json(
                {
                    "benefit_year": engine.benefit_year,
                    "mismatched_enrollments": wrong,
                    "stale_hardship_tags": stale,
                    "miscounted_villages": [
                        {"village_id": village, "benefit_year": year}
                        for village, year in miscounted
                    ],
                }
            )
        else:
            if wrong:
                print(f"{len(wrong)}条参保登记的缴费状态与缴费台账不一致：{wrong[:50]}")
            else:
                print(f"{engine.benefit_year}年度参保登记的缴费状态与缴费台账一致")
            if stale:
                print(
                    f"困难群体读取表有{len(stale)}个身份标识与原始记录不一致：{stale[:50]}"
                    "（yibao progress --rebuild-hardship 重写）"
                )
            else:
                print("困难群体读取表与身份标识、死亡、其他参保和缴费记录一致")
            if miscounted:
                print(
                    f"各村应参保人数表有{len(miscounted)}个村（年度）与人员记录不一致："
                    f"{miscounted[:50]}（yibao progress --rebuild-hardship 重写）"
                )
            else:
                print("各村应参保人数表与人员、死亡和其他参保记录一致")
        return 1 if wrong or stale or miscounted else 0
    day = args.date or clock.today()
    rows = selectors.village_progress(actor=actor, policy_id=policy_id, on=args.date)
    week_start = day - dt.timedelta(days=WEEK - 1)
    year = engine.benefit_year
    today = selectors.channel_totals(actor=actor, benefit_year=year, since=day, until=day)
    week = selectors.channel_totals(actor=actor, benefit_year=year, since=week_start, until=day)
    cash = selectors.collector_cash(actor=actor)
    if args.json:
        _print_json(
            {
                "policy": policy_id,
                "benefit_year": year,
                "on": args.date,
                "villages": [asdict(r) for r in rows],
                "totals": asdict(
                    selectors.progress_totals(rows, floor=selectors.enrollment_floor(policy_id))
                ),
                "channels_on_day": [asdict(c) for c in today],
                "channels_week": [asdict(c) for c in week],
                "cash": [asdict(c) for c in cash],
            }
        )
        return 0
    when = f"{args.date}日终" if args.date else f"当前（{day}）"
    print(f"{engine.name}\n征缴进度，截至{when}；完成率 = 已缴费 ÷ 目标任务数")
    print(progress_table(rows))
    print(f"\n{day}各渠道缴费：")
    print(channel_table(today))
    print(f"\n{week_start}至{day}各渠道缴费：")
    print(channel_table(week))
    if cash:
        print("\n征收员现金（当前）：")
        lines = [
            [c.name, "、".join(c.villages), f"{c.taken:.2f}", f"{c.remitted:.2f}", f"{c.held:.2f}"]
            for c in cash
        ]
        print(table(["征收员", "村（社区）", "已收现金", "已解缴", "在手"], lines))
    return 0


FACT_KINDS = ("without_subsidy", "graduating", "employee_waiting")


def _fact_person(actor: object, number: str) -> object:
    """The one person in ``actor``'s scope with the full ID number ``number``."""
    from yibao.core.access import not_found
    from yibao.registry.selectors import person_list

    number = number.strip().upper()
    found = list(person_list(actor=actor, search=number)[:2]) if len(number) in (15, 18) else []
    if len(found) != 1:
        raise not_found("该证件号码的参保人（须为完整号码，且在您负责的范围内）")
    return found[0]


def _fact_row(fact: Any) -> dict[str, Any]:
    return {
        "id": fact.pk,
        "person": fact.person.label,
        "benefit_year": fact.benefit_year,
        "policy": fact.policy_id,
        "kind": fact.kind,
        "kind_label": fact.get_kind_display(),
        "starts_on": fact.starts_on.isoformat() if fact.starts_on else None,
        "ends_on": fact.ends_on.isoformat() if fact.ends_on else None,
        "reason": fact.reason,
        "ended": fact.ended_at is not None,
        "end_reason": fact.end_reason,
    }


def cmd_fact(args: argparse.Namespace) -> int:
    """``yibao fact record|end|list``: what an office records about a person's benefit year."""
    setup_django()
    from yibao.api.progress import policy_for
    from yibao.core.access import access_enrollment_fact
    from yibao.core.errors import ApplicationError
    from yibao.policy import PolicyError
    from yibao.transfer.cli import _actor, _print_json, _refused

    from .selectors import enrollment_facts
    from .services import enrollment_fact_end, enrollment_fact_record

    try:
        actor = _actor(args.user)
        if args.action == "record":
            fact = enrollment_fact_record(
                actor=actor,
                person=_fact_person(actor, args.person),
                policy_id=policy_for(actor, args.policy),
                kind=args.kind,
                reason=args.reason,
                starts_on=args.starts_on,
                ends_on=args.ends_on,
            )
            rows = [_fact_row(fact)]
        elif args.action == "end":
            fact = enrollment_fact_end(
                actor=actor, fact=access_enrollment_fact(actor, args.id), reason=args.reason
            )
            rows = [_fact_row(fact)]
        else:
            person = _fact_person(actor, args.person)
            rows = [_fact_row(f) for f in enrollment_facts(actor=actor, person=person)]
    except (ApplicationError, PolicyError) as error:
        return _refused(error, args.json)
    if args.json:
        _print_json(rows)
        return 0
    for row in rows:
        window = f"：{row['starts_on']} 至 {row['ends_on']}" if row["starts_on"] else ""
        state = f"（已撤销：{row['end_reason']}）" if row["ended"] else ""
        print(
            f"#{row['id']} {row['person']} {row['benefit_year']}年度 {row['kind_label']}"
            f"{window}　依据：{row['reason']}{state}"
        )
    if not rows:
        print("没有经办登记")
    return 0


def cmd_pay(args: argparse.Namespace) -> int:
    """``yibao pay``: record one payment as ``--user``; ``--paid-on`` an earlier day is an
    office's back-dated entry (``--reason``; ``--taken-by`` the collector who took the cash)."""
    setup_django()
    from django.contrib.auth import get_user_model

    from yibao.api.progress import policy_for
    from yibao.core import clock
    from yibao.core.access import access_collector, not_found
    from yibao.core.errors import ApplicationError
    from yibao.policy import PolicyError
    from yibao.transfer.cli import _actor, _print_json, _refused

    from .models import StaffMember
    from .services import payment_submit

    try:
        actor = _actor(args.user)
        taker = None
        if args.taken_by:
            user = get_user_model().objects.filter(username=args.taken_by).first()
            profile = StaffMember.objects.filter(user=user).first() if user else None
            if profile is None:
                raise not_found(f"征收员“{args.taken_by}”")
            taker = access_collector(actor, profile.pk)
        paid_at = None
        if args.paid_on is not None:
            paid_at = dt.datetime.combine(args.paid_on, dt.time(12, 0), tzinfo=clock.now().tzinfo)
        result = payment_submit(
            actor=actor,
            person=_fact_person(actor, args.person),
            policy_id=policy_for(actor, args.policy),
            tier=args.tier,
            amount=args.amount,
            channel=args.channel,
            paid_at=paid_at,
            backdate_reason=args.reason or "",
            receipt_number=args.receipt,
            taken_by=taker,
            population=args.population,
        )
    except (ApplicationError, PolicyError) as error:
        return _refused(error, args.json)
    payment = result.payment
    row = {
        "id": payment.pk,
        "created": result.created,
        "amount": f"{payment.amount:.2f}",
        "channel": payment.channel,
        "paid_at": payment.paid_at.isoformat(),
        "receipt_number": payment.receipt_number,
        "collector": payment.collector.user.get_username() if payment.collector else None,
    }
    if args.json:
        _print_json(row)
    else:
        state = "已登记" if result.created else "此前已登记（未重复缴费）"
        print(
            f"{state}：缴费 #{row['id']} {row['amount']}元 {row['paid_at'][:10]}，收款人 {row['collector']}"
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from yibao.cli import _date

    user = {
        "default": os.environ.get("YIBAO_USER"),
        "help": "操作人用户名（默认取环境变量 YIBAO_USER）",
    }
    facts = subparsers.add_parser(
        "fact",
        help="经办登记：当年毕业、年度内转职工医保（预参保）、未收录文件期间不享受资助参保",
    ).add_subparsers(dest="action", required=True)
    p = facts.add_parser("record", help="登记一项（街道社保所、区医保局），须写明依据")
    p.add_argument("--person", required=True, help="完整证件号码")
    p.add_argument("--kind", required=True, choices=FACT_KINDS)
    p.add_argument("--reason", required=True, help="依据或原因")
    p.add_argument("--from", dest="starts_on", type=_date, help="参加职工医保日期")
    p.add_argument("--to", dest="ends_on", type=_date, help="职工医保等待期最后一天")
    p.add_argument("--policy", default=None, help="政策编号；缺省为操作人范围内的街道政策")
    p.add_argument("--user", **user)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fact)
    p = facts.add_parser("end", help="撤销一项登记，须写明原因")
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True)
    p.add_argument("--user", **user)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fact)
    p = subparsers.add_parser(
        "pay",
        help="登记一笔缴费；--paid-on 往日为经办补录（须 --reason，可用 --taken-by 记入收款征收员）",
    )
    p.add_argument("--person", required=True, help="完整证件号码")
    p.add_argument("--tier", required=True, type=int, choices=(1, 2))
    p.add_argument("--amount", required=True, help="实收金额（须等于按缴费日核定的个人缴费）")
    p.add_argument("--channel", default="cash", help="缴费渠道，如 cash、wechat、village_pos")
    p.add_argument("--paid-on", type=_date, help="纸质票据上的缴费日期（往日为补录）")
    p.add_argument("--reason", help="补录原因")
    p.add_argument("--taken-by", help="收取现金的村（社区）征收员用户名")
    p.add_argument("--receipt", help="票据号（同一票据号再次提交不会重复缴费）")
    p.add_argument(
        "--population", default="resident", choices=("resident", "university_student", "newborn")
    )
    p.add_argument("--policy", default=None, help="政策编号；缺省为操作人范围内的街道政策")
    p.add_argument("--user", **user)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_pay)
    p = facts.add_parser("list", help="列出一人的经办登记（含已撤销）")
    p.add_argument("--person", required=True, help="完整证件号码")
    p.add_argument("--user", **user)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fact)

    p = subparsers.add_parser(
        "progress",
        help="征缴进度：各村完成率与排名、各渠道缴费、征收员现金（按操作人的范围）",
        description=__doc__,
    )
    p.add_argument(
        "--user",
        default=os.environ.get("YIBAO_USER"),
        help="操作人用户名（默认取环境变量 YIBAO_USER）",
    )
    p.add_argument(
        "--date", type=_date, default=None, help="截至该日日终（YYYY-MM-DD）；缺省为当前"
    )
    p.add_argument("--policy", default=None, help="政策编号；缺省为操作人范围内的街道政策")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.add_argument(
        "--check",
        action="store_true",
        help="核对：每条参保登记的已缴状态与缴费时间是否与缴费台账（未冲正的缴费）一致；"
        "困难群体读取表和各村应参保人数表是否与原始记录一致",
    )
    p.add_argument(
        "--rebuild-hardship",
        action="store_true",
        help="按原始记录重写通报的困难群体读取表和各村应参保人数表（绕过业务服务批量写入后使用）",
    )
    p.set_defaults(func=cmd_progress)
