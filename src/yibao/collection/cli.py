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
from typing import TYPE_CHECKING

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
    if args.check:
        wrong = selectors.paid_mirror_check(actor=actor, benefit_year=engine.benefit_year)
        if args.json:
            _print_json({"benefit_year": engine.benefit_year, "mismatched_enrollments": wrong})
        elif wrong:
            print(f"{len(wrong)}条参保登记的缴费状态与缴费台账不一致：{wrong[:50]}")
        else:
            print(f"{engine.benefit_year}年度参保登记的缴费状态与缴费台账一致")
        return 1 if wrong else 0
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


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from yibao.cli import _date

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
        help="核对：每条参保登记的已缴状态与缴费时间是否与缴费台账（未冲正的缴费）一致",
    )
    p.set_defaults(func=cmd_progress)
