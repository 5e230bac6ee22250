"""``yibao import persons`` and ``yibao export ledger``.

``yibao.cli`` calls :func:`register` with its subparsers. The acting user is ``--user`` (or
``YIBAO_USER``); their village scope applies as in the web application. Exit status: 0 done,
1 rows rejected (nothing written unless ``--import-good-rows``), 2 refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from yibao.manage_cli import setup_django

TABLE_LIMIT = 200


def _actor(username: str | None) -> Any:
    from django.contrib.auth import get_user_model

    from yibao.core.errors import ApplicationError

    if not username:
        raise ApplicationError(
            "user_required", "请用 --user 或环境变量 YIBAO_USER 指定操作人（系统用户名）"
        )
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ApplicationError("unknown_user", f"找不到用户“{username}”", username=username)
    return user


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _refused(error: Any, wants_json: bool) -> int:
    if wants_json:
        _print_json({"error": error.message, "code": error.code, "params": error.params})
    else:
        print(f"错误：{error.message}", file=sys.stderr)
    return 2


def _progress(stage: str, done: int, total: int) -> None:
    print(f"{stage}：{done}/{total} 行", file=sys.stderr, flush=True)


def cmd_import_persons(args: argparse.Namespace) -> int:
    setup_django()
    from yibao.core.errors import ApplicationError

    from .imports import persons_import

    try:
        report = persons_import(
            actor=_actor(args.user),
            path=args.file,
            village=args.village,
            import_good_rows=args.import_good_rows,
            policy_id=args.policy,
            source_batch=args.batch,
            progress=None if args.quiet else _progress,
            progress_every=args.progress_every,
        )
    except ApplicationError as error:
        return _refused(error, args.json)
    if args.json:
        _print_json(report.to_dict())
        return 0 if report.ok else 1
    where = f"（{report.sheet}）" if report.sheet else ""
    encoding = f"，编码 {report.encoding}" if report.encoding else ""
    print(f"文件：{report.source}{where}，表头在第{report.header_row}行{encoding}")
    if report.ignored_columns:
        print("未使用的列：" + "、".join(report.ignored_columns))
    if report.rejected:
        print(f"\n有误的行（{len(report.rejected)}）：")
        print("行号\t公民身份号码\t姓名\t原因")
        for item in report.rejected[:TABLE_LIMIT]:
            print(f"{item.row}\t{item.masked_id_number}\t{item.name}\t{item.reason}")
        if len(report.rejected) > TABLE_LIMIT:
            print(f"……另有{len(report.rejected) - TABLE_LIMIT}行，完整清单请用 --json")
    if report.already_present and args.verbose:
        print(f"\n此前已登记（{len(report.already_present)}）：")
        for item in report.already_present:
            print(f"{item.row}\t{item.masked_id_number}\t{item.name}\t{item.reason}")
    print("\n" + report.summary())
    return 0 if report.ok else 1


def cmd_export_ledger(args: argparse.Namespace) -> int:
    setup_django()
    from yibao.core.errors import ApplicationError

    from .exports import ledger_export

    try:
        result = ledger_export(
            actor=_actor(args.user), village=args.village, benefit_year=args.year, path=args.out
        )
    except ApplicationError as error:
        return _refused(error, False)
    totals = "，".join(f"{k}{v:.2f}元" for k, v in result.totals.items())
    counts = "，".join(f"{k}{v}人" for k, v in result.counts.items())
    print(
        f"已导出{result.township}{result.village}{result.benefit_year}年度台账：{result.path}"
        f"（{result.rows}人；{counts}；{totals}）"
    )
    return 0


def cmd_export_unpaid(args: argparse.Namespace) -> int:
    setup_django()
    from yibao.collection.selectors import campaign_policy
    from yibao.core.errors import ApplicationError
    from yibao.policy import get_policy

    from .imports import village_resolve
    from .unpaid import unpaid_workbook

    actor = _actor(args.user)
    try:
        village = village_resolve(actor=actor, text=args.village)
        policy_id = campaign_policy(actor=actor)
        if policy_id is None:
            raise ApplicationError("no_policy", "操作人负责的村（社区）没有可用的征缴政策文件")
        year = args.year or get_policy(policy_id).benefit_year
        data, count = unpaid_workbook(
            actor=actor, village=village, benefit_year=year, group=args.group
        )
    except ApplicationError as error:
        return _refused(error, False)
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        print(f"错误：未缴名单只能导出为 .xlsx 文件：{out.name}", file=sys.stderr)
        return 2
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(data)
    partial.replace(out)
    print(f"已导出{village.name}{year}年度未缴名单：{out}（{count}人）")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``import`` and ``export`` to the ``yibao`` command's subparsers."""
    user_help = "操作人用户名（默认取环境变量 YIBAO_USER）"

    imports = subparsers.add_parser("import", help="从 Excel 或 CSV 导入").add_subparsers(
        dest="what", required=True
    )
    p = imports.add_parser(
        "persons",
        help="导入户和参保人（.xlsx/.xls/.csv，中文表头，UTF-8 或 GBK）",
        description="逐行校验；默认有一行出错则全部不导入，并列出出错的行。",
    )
    p.add_argument("file", help="表格文件")
    p.add_argument("--village", help="未填写户籍村（社区）的行所属的村（社区），名称或区划代码")
    p.add_argument(
        "--import-good-rows", action="store_true", help="只导入无误的行，有误的行列出不导入"
    )
    p.add_argument("--policy", help="政策编号；给出时，身份类别须为该政策所列类别")
    p.add_argument("--batch", help="身份标识的来源批次（默认为文件名）")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.add_argument("--progress-every", type=int, default=1000, metavar="N", help="每N行报告进度")
    p.add_argument("--quiet", action="store_true", help="不显示进度")
    p.add_argument("--verbose", action="store_true", help="同时列出此前已登记的人")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import_persons)

    exports = subparsers.add_parser("export", help="导出到 Excel").add_subparsers(
        dest="what", required=True
    )
    p = exports.add_parser("ledger", help="导出村（社区）台账（.xlsx）")
    p.add_argument("--village", required=True, help="村（社区）名称或区划代码")
    p.add_argument("--year", required=True, type=int, help="待遇年度，如 2023")
    p.add_argument("--out", required=True, help="输出文件（.xlsx）")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.set_defaults(func=cmd_export_ledger)
    p = exports.add_parser("unpaid", help="导出村（社区）未缴名单（.xlsx，困难群体优先）")
    p.add_argument("--village", required=True, help="村（社区）名称或区划代码")
    p.add_argument("--year", type=int, help="待遇年度（默认为当前征缴年度）")
    p.add_argument("--group", choices=["hardship", "last_year", "other"], help="只导出一类人")
    p.add_argument("--out", required=True, help="输出文件（.xlsx）")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.set_defaults(func=cmd_export_unpaid)
