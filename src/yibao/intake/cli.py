"""``yibao areas ...`` and ``yibao lists ...``: intake from the command line.

The acting user is ``--user`` (or ``YIBAO_USER``), as for ``yibao import``. Exit status:
0 done, 2 refused.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from yibao.manage_cli import setup_django


def _run(args: argparse.Namespace, work: Any) -> int:
    setup_django()
    from yibao.core.errors import ApplicationError
    from yibao.transfer.cli import _actor, _print_json, _refused

    try:
        result = work(_actor(args.user))
    except ApplicationError as error:
        return _refused(error, getattr(args, "json", False))
    if getattr(args, "json", False):
        _print_json(result if isinstance(result, dict | list) else result.__dict__)
    else:
        print(result if isinstance(result, str) else result.summary())
    return 0


def cmd_areas_load(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        from .areas import divisions_load

        return divisions_load(actor=actor, path=args.file)

    return _run(args, work)


def cmd_areas_setup(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        from .areas import township_setup

        return township_setup(actor=actor, code=args.code, add_missing=args.add_missing)

    return _run(args, work)


def cmd_areas_find(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        from .areas import division_list

        found = division_list(search=args.text, parent=args.parent or "", level=args.level or "")
        rows = [f"{d.code}\t{d.get_level_display()}\t{d.name}" for d in found[: args.limit]]
        return "\n".join(rows) or "没有找到"

    return _run(args, work)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``areas`` to the ``yibao`` command's subparsers."""
    user_help = "操作人用户名（默认取环境变量 YIBAO_USER）"
    areas = subparsers.add_parser(
        "areas", help="统计用区划代码：载入、查找、按代码设置街道（镇）"
    ).add_subparsers(dest="what", required=True)

    p = areas.add_parser("load", help="载入随系统提供的重庆市统计用区划代码（区划到村）")
    p.add_argument("--file", help="另一份区划代码文件（CSV 或 .csv.gz：code,name,level,parent）")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_areas_load)

    p = areas.add_parser("setup", help="按统计用区划代码设置街道（镇）及其村（社区）")
    p.add_argument("code", help="街道（镇）的区划代码，9位，如 500110003")
    p.add_argument(
        "--add-missing", action="store_true", help="已有的街道（镇）也新建未对应上的村（社区）"
    )
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_areas_setup)

    p = areas.add_parser("find", help="按名称或代码开头查找区划代码")
    p.add_argument("text", nargs="?", default="", help="名称中的字或代码开头，如 三江 或 500110")
    p.add_argument("--parent", help="只列出这个代码的下级")
    p.add_argument("--level", choices=["province", "city", "county", "township", "village"])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.set_defaults(func=cmd_areas_find)
