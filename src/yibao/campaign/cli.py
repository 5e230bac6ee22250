"""``yibao target-table``, ``yibao reduction``, ``yibao bulletin``, ``yibao assessment``,
``yibao subsidy``: the township's campaign records from the console (and cron).

The acting user is ``--user`` (or ``YIBAO_USER``); their scope applies as on the pages. The
policy defaults to the township policy of their villages. Exit status: 0, or 2 when refused.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from yibao.manage_cli import setup_django

LEVELS = {"error": "错误", "warning": "提示"}


def _context(args: argparse.Namespace) -> tuple[Any, str]:
    from yibao.api.progress import policy_for
    from yibao.transfer.cli import _actor

    actor = _actor(args.user)
    return actor, policy_for(actor, getattr(args, "policy", None))


def _run(args: argparse.Namespace, body: Any) -> int:
    setup_django()
    from yibao.core.errors import ApplicationError
    from yibao.policy import PolicyError
    from yibao.transfer.cli import _refused

    try:
        return int(body(args))
    except (ApplicationError, PolicyError) as error:
        return _refused(error, getattr(args, "json", False))


def _print_findings(findings: list[dict[str, Any]]) -> None:
    if not findings:
        print("核对：未发现问题")
        return
    print(f"核对发现（{len(findings)}）：")
    for f in findings:
        print(f"  [{LEVELS.get(f['level'], f['level'])}] {f['message']}")


def _targets_import(args: argparse.Namespace) -> int:
    from yibao.transfer.cli import _print_json

    from .services import target_table_import

    actor, policy_id = _context(args)
    table = target_table_import(actor=actor, policy_id=policy_id, path=args.file)
    if args.json:
        _print_json(
            {
                "id": table.pk,
                "status": table.status,
                "rows": table.rows.count(),
                "findings": table.findings,
            }
        )
        return 0
    print(
        f"已导入任务表 #{table.pk}（{table.source_name}，{table.rows.count()}个村（社区）），待核对"
    )
    _print_findings(table.findings)
    print(f"核对后采用：yibao target-table accept {table.pk} --user {args.user}")
    return 0


def _targets_accept(args: argparse.Namespace) -> int:
    from yibao.core.errors import ApplicationError
    from yibao.transfer.cli import _actor

    from .selectors import target_table_list
    from .services import target_table_accept

    actor = _actor(args.user)
    table = target_table_list(actor=actor).filter(pk=args.id).first()
    if table is None:
        raise ApplicationError("not_found", f"找不到编号为{args.id}的任务表", table_id=args.id)
    _print_findings(table.findings)
    target_table_accept(actor=actor, table=table)
    print(f"任务表 #{table.pk} 已采用；所列数字按原表为准")
    return 0


def _targets_list(args: argparse.Namespace) -> int:
    from yibao.policy.display import table as text_table
    from yibao.transfer.cli import _actor

    from .selectors import target_table_list

    actor = _actor(args.user)
    lines = [
        [
            str(t.pk),
            t.policy_id,
            t.township.name,
            t.source_name,
            t.get_status_display(),
            str(sum(1 for f in t.findings if f["level"] == "error")),
            str(sum(1 for f in t.findings if f["level"] == "warning")),
        ]
        for t in target_table_list(actor=actor)
    ]
    print(text_table(["编号", "政策", "街道（镇）", "来源", "状态", "错误", "提示"], lines))
    return 0


def _reduction_add(args: argparse.Namespace) -> int:
    from yibao.core.access import not_found
    from yibao.registry.idcrypto import id_digest
    from yibao.registry.models import Person

    from .services import target_reduction_record

    actor, policy_id = _context(args)
    person = Person.objects.filter(id_digest=id_digest(args.person)).first()
    if person is None:
        raise not_found("该公民身份号码的参保人")
    reduction = target_reduction_record(
        actor=actor,
        person=person,
        policy_id=policy_id,
        scope=args.scope,
        insured_where=args.where,
        evidence=args.evidence,
        coverage_from=args.coverage_from,
        coverage_to=args.coverage_to,
    )
    print(f"已核减 #{reduction.pk}：{person.label}，{reduction.village.name}")
    return 0


def _reduction_revoke(args: argparse.Namespace) -> int:
    from yibao.transfer.cli import _actor

    from .selectors import target_reduction_get
    from .services import target_reduction_revoke

    actor = _actor(args.user)
    reduction = target_reduction_get(actor=actor, reduction_id=args.id)
    target_reduction_revoke(actor=actor, reduction=reduction, reason=args.reason)
    print(f"核减 #{reduction.pk} 已撤销")
    return 0


def _bulletin(args: argparse.Namespace) -> int:
    from yibao.core.errors import ApplicationError
    from yibao.transfer.cli import _print_json

    from .exports import bulletin_pdf, bulletin_workbook, workbook_save
    from .models import Bulletin
    from .selectors import BulletinFigures
    from .services import bulletin_issue, bulletins_due

    actor, policy_id = _context(args)
    if args.due:
        bulletins = bulletins_due(actor=actor, policy_id=policy_id)
        if not bulletins:
            print("今天没有应发布而未发布的通报")
    elif args.date:
        bulletin, created = bulletin_issue(actor=actor, policy_id=policy_id, on=args.date)
        bulletins = [bulletin]
        if not created:
            print(f"{args.date}的通报已于{bulletin.issued_at:%Y-%m-%d %H:%M}发布，以下为当时的数据")
    else:
        raise ApplicationError(
            "date_required", "请用 --date 指定通报日期，或用 --due 发布到期的通报"
        )
    for bulletin in bulletins:
        figures = BulletinFigures.from_dict(bulletin.figures)  # as issued
        name = f"{bulletin.township.name}征缴进度通报{bulletin.on}"
        if args.out_dir:
            path = workbook_save(
                bulletin_workbook(figures, township=bulletin.township.name),
                os.path.join(args.out_dir, f"{name}.xlsx"),
            )
            print(f"已写入 {path}")
        if args.pdf:
            pdf = Path(args.out_dir or ".") / f"{name}.pdf"
            pdf.parent.mkdir(parents=True, exist_ok=True)
            pdf.write_bytes(bulletin_pdf(figures, township=bulletin.township.name))
            print(f"已写入 {pdf}")
        if args.json:
            _print_json(Bulletin.objects.get(pk=bulletin.pk).figures)
        elif not args.out_dir and not args.pdf:
            _print_bulletin(figures)
    return 0


def _print_bulletin(figures: Any) -> None:
    from yibao.policy.display import table

    print(
        f"{figures.policy_name}\n征缴进度通报：截至{figures.on}日终"
        + (f"（上期{figures.previous_on}）" if figures.previous_on else "")
    )
    lines = []
    for row in sorted(figures.rows, key=lambda r: r.progress.rank):
        p = row.progress
        marks = "、".join(
            m for m, on in (("后三名", p.bottom_three), ("约谈", row.interview)) if on
        )
        lines.append(
            [
                str(p.rank),
                p.name,
                str(p.target),
                str(p.paid),
                f"{p.completion:.2f}%",
                "" if row.change_paid is None else f"{row.change_paid:+d}",
                str(row.paid_last_7_days),
                row.projected_on.isoformat() if row.projected_on else row.projection,
                f"{p.hardship_paid}/{p.hardship}",
                "不计分" if row.assessment.score is None else str(row.assessment.score),
                marks,
            ]
        )
    t = figures.totals
    lines.append(
        [
            "",
            "合计",
            str(t.target),
            str(t.paid),
            f"{t.completion:.2f}%",
            "",
            str(figures.totals_paid_last_7_days),
            "",
            f"{t.hardship_paid}/{t.hardship}",
            "",
            "",
        ]
    )
    print(
        table(
            [
                "名次",
                "村（社区）",
                "目标",
                "已缴",
                "完成率",
                "较上期",
                "近7日",
                "预计完成",
                "困难群体",
                "考核",
                "标注",
            ],
            lines,
        )
    )
    if figures.missing:
        print(f"\n困难群体未缴费（{len(figures.missing)}人）：")
        for m in figures.missing[:200]:
            print(
                f"  {m.village} {m.name} {m.masked_id_number} {m.phone} {'、'.join(m.categories)}"
            )
    for note in figures.notes:
        print(f"注：{note}")


def _assessment(args: argparse.Namespace) -> int:
    from yibao.policy.display import table
    from yibao.transfer.cli import _print_json

    from .selectors import assessment_list

    actor, policy_id = _context(args)
    rows = assessment_list(actor=actor, policy_id=policy_id, on=args.date)
    if args.json:
        _print_json([asdict(r) for r in rows])
        return 0
    lines = [
        [
            r.name,
            f"{r.completion:.2f}%",
            f"{r.hardship_rate:.2f}%",
            "不计分" if r.assessment.score is None else str(r.assessment.score),
            r.assessment.reason,
        ]
        for r in rows
    ]
    print(table(["村（社区）", "完成率", "困难群体参保率", "得分", "依据"], lines))
    return 0


def _subsidy(args: argparse.Namespace) -> int:
    from yibao.policy import get_policy
    from yibao.policy.display import table
    from yibao.transfer.cli import _print_json

    from .exports import subsidy_workbook, workbook_save
    from .selectors import subsidy_accounts

    actor, policy_id = _context(args)
    lines, totals = subsidy_accounts(actor=actor, policy_id=policy_id, on=args.date)
    if args.json:
        _print_json({"villages": [asdict(x) for x in lines], "totals": [asdict(x) for x in totals]})
        return 0
    engine = get_policy(policy_id)
    if args.out:
        title = f"{engine.benefit_year}年度城乡居民医保资助参保资金（按认定部门）"
        when = f"截至{args.date}日终" if args.date else "截至当前"
        path = workbook_save(
            subsidy_workbook(lines, totals, title=title, subtitle=f"{engine.name}；{when}"),
            args.out,
        )
        print(f"已写入 {path}")
        return 0
    print(
        table(
            ["认定部门", "身份类别", "人数", "资助金额", "其中财政承担补缴"],
            [
                [
                    x.department,
                    x.identity,
                    str(x.people),
                    f"{x.subsidy:.2f}",
                    f"{x.surcharge_borne:.2f}",
                ]
                for x in totals
            ],
        )
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from yibao.cli import _date

    user = {
        "default": os.environ.get("YIBAO_USER"),
        "help": "操作人用户名（默认取环境变量 YIBAO_USER）",
    }
    policy = {"default": None, "help": "政策编号；缺省为操作人范围内的街道政策"}

    targets = subparsers.add_parser(
        "target-table", help="目标任务表：导入、核对、采用（yibao targets check 核对政策所附的表）"
    ).add_subparsers(dest="what", required=True)
    p = targets.add_parser(
        "import", help="导入任务表（.xlsx/.xls/.csv，按文件原样），显示核对发现，待采用"
    )
    p.add_argument("file")
    p.add_argument("--user", **user)
    p.add_argument("--policy", **policy)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=lambda a: _run(a, _targets_import))
    p = targets.add_parser("accept", help="采用已核对的任务表（原表数字为准）")
    p.add_argument("id", type=int)
    p.add_argument("--user", **user)
    p.set_defaults(func=lambda a: _run(a, _targets_accept))
    p = targets.add_parser("list", help="列出任务表")
    p.add_argument("--user", **user)
    p.set_defaults(func=lambda a: _run(a, _targets_list))

    reduction = subparsers.add_parser("reduction", help="目标任务核减：登记、撤销").add_subparsers(
        dest="what", required=True
    )
    p = reduction.add_parser("add", help="核减一人（须有佐证）")
    p.add_argument("--person", required=True, help="公民身份号码")
    p.add_argument(
        "--scope", required=True, choices=["in_city", "out_of_city"], help="市内或市外参保"
    )
    p.add_argument("--where", required=True, help="参保地或单位")
    p.add_argument("--evidence", required=True, help="佐证材料")
    p.add_argument(
        "--from", dest="coverage_from", type=_date, default=None, help="参保期起（市外必填）"
    )
    p.add_argument(
        "--to", dest="coverage_to", type=_date, default=None, help="参保期止（市外必填）"
    )
    p.add_argument("--user", **user)
    p.add_argument("--policy", **policy)
    p.set_defaults(func=lambda a: _run(a, _reduction_add))
    p = reduction.add_parser("revoke", help="撤销核减")
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True)
    p.add_argument("--user", **user)
    p.set_defaults(func=lambda a: _run(a, _reduction_revoke))

    p = subparsers.add_parser(
        "bulletin",
        help="征缴进度通报：--date 指定日期，--due 发布到期的通报（供 cron 每日调用）",
    )
    p.add_argument("--date", type=_date, default=None, help="通报截至日（YYYY-MM-DD）")
    p.add_argument("--due", action="store_true", help="发布按政策日程到期而未发布的通报")
    p.add_argument("--out-dir", default=None, help="另写 .xlsx 到此目录")
    p.add_argument(
        "--pdf", action="store_true", help="另写 PDF（A4横向）到 --out-dir（缺省为当前目录）"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--user", **user)
    p.add_argument("--policy", **policy)
    p.set_defaults(func=lambda a: _run(a, _bulletin))

    p = subparsers.add_parser("assessment", help="按政策考核办法计算各村（社区）和全街道得分")
    p.add_argument("--date", type=_date, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--user", **user)
    p.add_argument("--policy", **policy)
    p.set_defaults(func=lambda a: _run(a, _assessment))

    p = subparsers.add_parser("subsidy", help="资助参保资金：按认定部门和身份类别，可导出 .xlsx")
    p.add_argument("--date", type=_date, default=None)
    p.add_argument("--out", default=None, help="写入 .xlsx 文件")
    p.add_argument("--json", action="store_true")
    p.add_argument("--user", **user)
    p.add_argument("--policy", **policy)
    p.set_defaults(func=lambda a: _run(a, _subsidy))
