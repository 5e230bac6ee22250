"""``yibao cash``, ``close``, ``receipts``, ``tax`` and ``notice``: fund safety from the command line, as a clerk scripts it.

Every command acts as ``--user`` (or ``YIBAO_USER``) within that user's scope, through the
same selectors and services as the pages and the API. Exit status: 0, or 2 when refused.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from typing import Any

from yibao.manage_cli import setup_django

USER_HELP = "操作人用户名（默认取环境变量 YIBAO_USER）"


def _collector_named(actor: Any, username: str) -> Any:
    from yibao.collection.models import StaffMember
    from yibao.core.access import access_collector
    from yibao.core.errors import ApplicationError

    found = StaffMember.objects.filter(user__username=username).first()
    if found is None:
        raise ApplicationError("not_found", f"找不到征收员“{username}”", username=username)
    return access_collector(actor, found.pk)


def _run(args: argparse.Namespace, action: Any) -> int:
    setup_django()
    from yibao.core.errors import ApplicationError
    from yibao.transfer.cli import _actor, _refused

    try:
        return int(action(_actor(args.user), args))
    except ApplicationError as error:
        return _refused(error, getattr(args, "json", False))


def _status_lines(rows: list[Any]) -> str:
    from yibao.policy.display import table

    lines = [
        [
            r.cash.name,
            "、".join(r.cash.villages),
            f"{r.cash.held:.2f}",
            "" if r.age_days is None else f"{r.age_days}天",
            ("超限额 " if r.over_amount else "") + ("超限时" if r.over_days else "") or "正常",
        ]
        for r in rows
    ]
    return table(["征收员", "村（社区）", "手中现金", "最早未解缴", "双限"], lines)


def cash_status(actor: Any, args: argparse.Namespace) -> int:
    from yibao.transfer.cli import _print_json

    from . import selectors

    rows = selectors.cash_status(actor=actor, on=args.date)
    if args.json:
        _print_json(
            [
                {
                    **asdict(r.cash),
                    "age_days": r.age_days,
                    "over_amount": r.over_amount,
                    "over_days": r.over_days,
                    "limit_amount": r.limits.amount,
                    "limit_days": r.limits.days,
                }
                for r in rows
            ]  # fmt: skip
        )
        return 0
    if rows:
        limits = rows[0].limits
        print(f"双限：限额{limits.amount:.2f}元，限时{limits.days}天（{limits.source}）")
    print(_status_lines(rows))
    over = [r for r in rows if r.over]
    print(f"超过双限：{len(over)}人" if over else "没有超过双限的征收员")
    return 0


def cash_limits(actor: Any, args: argparse.Namespace) -> int:
    from . import selectors, services

    township = selectors.actor_township(actor)
    if args.amount is not None or args.days is not None:
        from yibao.core.errors import ApplicationError

        if township is None or args.amount is None or args.days is None:
            raise ApplicationError(
                "invalid_limit", "设置双限须同时给出 --amount 和 --days，且操作人属于一个街道"
            )
        services.cash_limit_set(actor=actor, township=township, amount=args.amount, days=args.days)
    limits = selectors.township_limits(township)
    name = township.name if township else ""
    print(f"{name}现金双限：限额{limits.amount:.2f}元，限时{limits.days}天（{limits.source}）")
    return 0


def cash_remit(actor: Any, args: argparse.Namespace) -> int:
    from yibao.collection.services import remittance_record

    collector = _collector_named(actor, args.collector)
    remittance = remittance_record(
        actor=actor,
        collector=collector,
        amount=args.amount,
        bank=args.bank,
        slip_number=args.slip,
        note=args.note,
    )
    print(f"已登记解缴：{args.collector} {remittance.amount:.2f}元，{remittance.bank}，"
          f"凭证号{remittance.slip_number}")  # fmt: skip
    return 0


def close_day(actor: Any, args: argparse.Namespace) -> int:
    from yibao.collection.models import StaffMember
    from yibao.core import clock
    from yibao.core.errors import ApplicationError

    from . import services

    collector = StaffMember.objects.filter(user=actor).first()
    if collector is None:
        raise ApplicationError("collector_only", "日结须由征收员本人办理")
    closed = services.daily_close(actor=actor, collector=collector, day=args.date or clock.today())
    print(
        f"{closed.day}已日结：现金{closed.cash_count}笔{closed.cash_taken:.2f}元，"
        f"零申报{closed.zero_declarations}笔，冲正{closed.reversal_count}笔"
        f"（退还现金{closed.reversed_cash:.2f}元），解缴{closed.remitted:.2f}元，"
        f"日终手中现金{closed.held:.2f}元"
    )
    return 0


def close_list(actor: Any, args: argparse.Namespace) -> int:
    from yibao.policy.display import table

    from . import selectors, services

    closes = list(selectors.daily_close_list(actor=actor, unacknowledged=args.unacknowledged))
    if args.acknowledge:
        closes = [services.daily_close_acknowledge(actor=actor, close=c) for c in closes]
    lines = [
        [
            str(c.day),
            c.collector.user.get_username(),
            f"{c.cash_taken:.2f}",
            f"{c.remitted:.2f}",
            f"{c.held:.2f}",
            "已确认" if c.acknowledged_at else "待确认",
        ]
        for c in closes
    ]
    print(table(["日期", "征收员", "现金缴费", "解缴", "日终手中现金", "街道确认"], lines))
    if args.acknowledge:
        print(f"已确认{len(closes)}份日结")
    return 0


def tax_import(actor: Any, args: argparse.Namespace) -> int:
    from yibao.transfer.cli import _print_json

    from .tax import tax_payments_import

    report = tax_payments_import(actor=actor, path=args.file)
    if args.json:
        _print_json(report.to_dict())
        return 0
    for item in report.discrepancies:
        print(
            f"第{item.row}行\t{item.label}\t{item.name}\t{item.masked_id_number}\t"
            f"{item.amount}\t{item.voucher_number}\t{item.detail}"
        )
    print(f"{report.source}：{report.summary()}")
    return 0


def notice_export(actor: Any, args: argparse.Namespace) -> int:
    from yibao.collection.selectors import campaign_policy
    from yibao.policy import get_policy
    from yibao.transfer.imports import village_resolve

    from .notice import notice_workbook, public_notice

    village = village_resolve(actor=actor, text=args.village)
    year = args.year or get_policy(campaign_policy(actor=actor) or "").benefit_year
    with open(args.out, "wb") as handle:
        handle.write(notice_workbook(actor=actor, village=village, benefit_year=year))
    count = len(public_notice(actor=actor, village=village, benefit_year=year))
    print(f"已导出{village.name}{year}年度缴费信息公示（{count}人）：{args.out}")
    return 0


def receipts_issue(actor: Any, args: argparse.Namespace) -> int:
    from .receipts import receipt_book_issue

    collector = _collector_named(actor, args.collector)
    book = receipt_book_issue(
        actor=actor, collector=collector, prefix=args.prefix, first=args.first, last=args.last
    )
    print(f"已向{args.collector}发放收据{book}（编号{book.pk}）")
    return 0


def receipts_void(actor: Any, args: argparse.Namespace) -> int:
    from .receipts import access_receipt_book, receipt_void

    book = access_receipt_book(actor, args.book)
    receipt_void(actor=actor, book=book, number=args.number, reason=args.reason)
    print(f"已作废收据{book.number(args.number)}")
    return 0


def receipts_report(actor: Any, args: argparse.Namespace) -> int:
    from yibao.policy.display import table

    from .receipts import receipt_report

    report = receipt_report(actor=actor)
    lines = [
        [str(r.book), r.book.collector.user.get_username(), str(r.used), str(r.voided),
         r.next_number or "已用完", "、".join(r.gaps[:10]), "、".join(r.duplicates)]
        for r in report.books
    ]  # fmt: skip
    print(table(["号段", "征收员", "已用", "作废", "下一号", "跳号", "重号"], lines))
    for o in report.outside:
        print(f"号段外：{o.collector}\t{o.receipt_number or '（无）'}\t{o.person}\t{o.reason}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from yibao.cli import _date

    user = {"default": os.environ.get("YIBAO_USER"), "help": USER_HELP}
    cash = subparsers.add_parser("cash", help="现金双限报解：征收员手中现金、限额限时、解缴")
    commands = cash.add_subparsers(dest="what", required=True)
    p = commands.add_parser("status", help="各征收员手中现金、最早未解缴天数，超限在前")
    p.add_argument("--user", **user)
    p.add_argument("--date", type=_date, help="截至该日日终（YYYY-MM-DD）；缺省为当前")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=lambda a: _run(a, cash_status))
    p = commands.add_parser("limits", help="查看或设置本街道现金双限（限额、限时）")
    p.add_argument("--user", **user)
    p.add_argument("--amount", help="限额（元）")
    p.add_argument("--days", help="限时（天）")
    p.set_defaults(func=lambda a: _run(a, cash_limits))
    p = commands.add_parser("remit", help="登记解缴入库")
    p.add_argument("--user", **user)
    p.add_argument("--collector", required=True, help="征收员用户名")
    p.add_argument("--amount", required=True)
    p.add_argument("--bank", required=True, help="收款银行")
    p.add_argument("--slip", required=True, help="解缴凭证号（同一凭证号再次提交不重复登记）")
    p.add_argument("--note", default="")
    p.set_defaults(func=lambda a: _run(a, cash_remit))

    close = subparsers.add_parser("close", help="日结：征收员日结，街道确认")
    commands = close.add_subparsers(dest="what", required=True)
    p = commands.add_parser("day", help="征收员本人日结（缺省为今天）")
    p.add_argument("--user", **user)
    p.add_argument("--date", type=_date, help="日期（YYYY-MM-DD）")
    p.set_defaults(func=lambda a: _run(a, close_day))
    p = commands.add_parser("list", help="列出范围内的日结；--acknowledge 确认列出的日结")
    p.add_argument("--user", **user)
    p.add_argument("--unacknowledged", action="store_true", help="只列待确认的")
    p.add_argument("--acknowledge", action="store_true", help="确认列出的全部日结（街道社保所）")
    p.set_defaults(func=lambda a: _run(a, close_list))

    tax = subparsers.add_parser("tax", help="税务缴费明细：导入、登记、列出差异")
    commands = tax.add_subparsers(dest="what", required=True)
    p = commands.add_parser(
        "import",
        help="导入税务系统的缴费明细（.xlsx/.csv，UTF-8 或 GBK）；同一文件再导入不重复登记",
    )
    p.add_argument("file", help="缴费明细文件")
    p.add_argument("--user", **user)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=lambda a: _run(a, tax_import))

    p = subparsers.add_parser(
        "notice", help="缴费信息公示：导出村（社区）本年度已缴费人员（姓名部分隐去）为 .xlsx"
    )
    p.add_argument("--village", required=True, help="村（社区）名称或区划代码")
    p.add_argument("--year", type=int, help="待遇年度；缺省为本街道当期政策的年度")
    p.add_argument("--out", required=True, help="输出文件（.xlsx）")
    p.add_argument("--user", **user)
    p.set_defaults(func=lambda a: _run(a, notice_export))

    receipts = subparsers.add_parser(
        "receipts", help="现金收缴凭证：发放收据本、作废、跳号重号报告"
    )
    commands = receipts.add_subparsers(dest="what", required=True)
    p = commands.add_parser("issue", help="向征收员发放号段（街道社保所）")
    p.add_argument("--user", **user)
    p.add_argument("--collector", required=True, help="征收员用户名")
    p.add_argument("--prefix", required=True, help="字头")
    p.add_argument("--first", type=int, required=True)
    p.add_argument("--last", type=int, required=True)
    p.set_defaults(func=lambda a: _run(a, receipts_issue))
    p = commands.add_parser("void", help="作废一张收据")
    p.add_argument("--user", **user)
    p.add_argument("--book", type=int, required=True, help="收据本编号")
    p.add_argument("--number", type=int, required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=lambda a: _run(a, receipts_void))
    p = commands.add_parser("report", help="跳号、重号、号段外的现金收据")
    p.add_argument("--user", **user)
    p.set_defaults(func=lambda a: _run(a, receipts_report))
