"""``yibao areas ...`` and ``yibao lists ...``: intake from the command line.

The acting user is ``--user`` (or ``YIBAO_USER``), as for ``yibao import``. Exit status:
0 done, 2 refused.
"""

from __future__ import annotations

import argparse
import os
import sys
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


def progress_bar(stage: str, done: int, total: int) -> None:
    """A text progress bar on stderr: ``读取 [########------------] 400/1000``."""
    width = 30
    filled = width * done // total if total else width
    end = "\n" if done >= total else ""
    print(
        f"\r{stage} [{'#' * filled}{'-' * (width - filled)}] {done}/{total}",
        end=end,
        file=sys.stderr,
        flush=True,
    )


def _township(actor: Any, text: str | None) -> Any:
    if not text:
        return None
    from yibao.core.errors import ApplicationError
    from yibao.registry.models import Township

    found = list(Township.objects.filter(code=text)) or list(Township.objects.filter(name=text))
    if len(found) != 1:
        raise ApplicationError("unknown_township", f"找不到街道（镇）“{text}”", township=text)
    return found[0]


def _entries_text(actor: Any, identity_list: Any, change: str = "", limit: int = 200) -> str:
    from yibao.core.masking import mask_id_number

    from .selectors import identity_list_entries

    lines = []
    for entry in identity_list_entries(actor=actor, identity_list=identity_list, change=change)[
        :limit
    ]:
        notes = "；".join(filter(None, [entry.detail, *entry.flags, entry.applied]))
        lines.append(
            f"{entry.row or '-'}\t{mask_id_number(entry.id_number)}\t{entry.name}\t"
            f"{entry.category_key}\t{entry.get_change_display()}\t{notes}"
        )
    return "\n".join(lines)


def _list_summary(identity_list: Any) -> str:
    from .models import IdentityListEntry

    labels = dict(IdentityListEntry.Change.choices)
    counts = "，".join(f"{labels[k]}{n}" for k, n in identity_list.counts.items())
    return (
        f"名单{identity_list.pk}：{identity_list.township.name}{identity_list.department}"
        f"{identity_list.batch}（{identity_list.list_date}，{identity_list.get_status_display()}）"
        f"：{counts}"
    )


def cmd_identity_stage(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        import datetime as dt

        from .services import ListHeader, identity_list_stage

        staged = identity_list_stage(
            actor=actor,
            path=args.file,
            header=ListHeader(
                department=args.department,
                batch=args.batch,
                list_date=dt.date.fromisoformat(args.date),
                policy_id=args.policy,
            ),
            township=_township(actor, args.township),
            progress=None if args.quiet else progress_bar,
        )
        changed = "\n".join(
            filter(
                None,
                (
                    _entries_text(actor, staged, c)
                    for c in ("new", "changed", "ended", "unknown_person", "invalid")
                ),
            )
        )
        return (
            f"{_list_summary(staged)}\n行号\t证件号码\t姓名\t身份类别\t变化\t说明\n{changed}\n"
            + (f"待确认：yibao lists identity confirm {staged.pk}")
        )

    return _run(args, work)


def cmd_identity_show(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        from .selectors import access_identity_list, identity_list_list

        if args.id is None:
            return (
                "\n".join(_list_summary(x) for x in identity_list_list(actor=actor)) or "没有名单"
            )
        identity_list = access_identity_list(actor, args.id)
        return (
            _list_summary(identity_list)
            + "\n"
            + _entries_text(actor, identity_list, args.change or "", limit=args.limit)
        )

    return _run(args, work)


def cmd_identity_decide(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        from .selectors import access_identity_list
        from .services import identity_list_confirm, identity_list_discard

        identity_list = access_identity_list(actor, args.id)
        if args.decision == "confirm":
            done = identity_list_confirm(actor=actor, identity_list=identity_list)
        else:
            done = identity_list_discard(
                actor=actor, identity_list=identity_list, reason=args.reason
            )
        return _list_summary(done)

    return _run(args, work)


def cmd_worklist(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        from pathlib import Path

        from yibao.transfer.imports import village_resolve
        from yibao.transfer.workbook import table_workbook

        from .worklists import (
            WORKLIST_HEADERS,
            WORKLISTS,
            worklist,
            worklist_policy,
            worklist_table,
        )

        village = village_resolve(actor=actor, text=args.village)
        policy_id = args.policy or worklist_policy(actor)
        rows = worklist(actor=actor, village=village, policy_id=policy_id, kind=args.kind)
        table = worklist_table(rows)
        title = f"{village.name}{WORKLISTS[args.kind]}（{len(rows)}人）"
        if args.out:
            Path(args.out).write_bytes(
                table_workbook(
                    title=WORKLISTS[args.kind], headers=WORKLIST_HEADERS, rows=table, heading=title
                )
            )
            return f"{title}：已导出到 {args.out}"
        lines = ["\t".join(WORKLIST_HEADERS)] + ["\t".join(str(v) for v in line) for line in table]
        return title + "\n" + "\n".join(lines)

    return _run(args, work)


def cmd_people_import(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        from .models import PersonListEntry
        from .people import person_list_import

        imported = person_list_import(
            actor=actor,
            path=args.file,
            kind=args.kind,
            benefit_year=args.year,
            township=_township(actor, args.township),
            progress=None if args.quiet else progress_bar,
        )
        labels = dict(PersonListEntry.Outcome.choices)
        counts = "，".join(f"{labels[k]}{n}" for k, n in imported.counts.items())
        lines = [
            f"{e.row}\t{e.name}\t{labels[e.outcome]}\t{e.detail}"
            for e in imported.entries.exclude(outcome="applied")
        ]
        return "\n".join([f"{imported}：{counts}", *lines])

    return _run(args, work)


def cmd_anomalies(args: argparse.Namespace) -> int:
    def work(actor: Any) -> Any:
        from .people import ANOMALY_KINDS, anomaly_list, payer_patterns

        lines = [
            f"{ANOMALY_KINDS[a.kind]}\t{a.person.hukou_village.name}\t{a.person.label}\t{a.detail}"
            for a in anomaly_list(actor=actor, benefit_year=args.year)
        ]
        for pattern in payer_patterns(
            actor=actor, benefit_year=args.year, min_households=args.min_households
        ):
            people = "、".join(p.name for p in pattern.persons)
            lines.append(
                f"同一电话代缴\t{pattern.phone}\t{pattern.households}户{len(pattern.persons)}人"
                f"（其中资助{pattern.subsidised}人）\t{people}"
            )
        return "\n".join(lines) or "没有异常"

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

    lists = subparsers.add_parser(
        "lists", help="部门名单：身份名单导入、比对、确认"
    ).add_subparsers(dest="kind", required=True)
    identity = lists.add_parser("identity", help="部门身份名单").add_subparsers(
        dest="what", required=True
    )
    p = identity.add_parser(
        "stage",
        help="导入一份部门身份名单（.xlsx/.csv，UTF-8 或 GBK），与该部门上一份名单比对，待确认",
    )
    p.add_argument("file")
    p.add_argument("--department", required=True, help="认定部门，如 区民政局")
    p.add_argument("--batch", required=True, help="批次，如 2023-02")
    p.add_argument("--date", required=True, help="名单日期 YYYY-MM-DD")
    p.add_argument("--policy", required=True, help="政策编号，如 bishan-bicheng-2023")
    p.add_argument("--township", help="街道（镇）名称或区划代码（区医保局须指定）")
    p.add_argument("--quiet", action="store_true", help="不显示进度条")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.set_defaults(func=cmd_identity_stage)

    p = identity.add_parser("show", help="列出名单，或显示一份名单的比对结果")
    p.add_argument("id", nargs="?", type=int)
    p.add_argument(
        "--change", choices=["new", "changed", "unchanged", "ended", "unknown_person", "invalid"]
    )
    p.add_argument("--limit", type=int, default=500)
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.set_defaults(func=cmd_identity_show)

    for decision, text in (
        ("confirm", "确认名单：新增、变更的身份生效，退出的身份截止"),
        ("discard", "作废待确认的名单"),
    ):
        p = identity.add_parser(decision, help=text)
        p.add_argument("id", type=int)
        if decision == "discard":
            p.add_argument("--reason", default="", help="作废原因")
        p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
        p.set_defaults(func=cmd_identity_decide, decision=decision)

    p = subparsers.add_parser(
        "worklist",
        help="村（社区）工作清单：hardship 困难群体未申报，lapsed 近两年参保本年未参保，"
        "household_partial 户内部分参保，newborn 新生儿，residents 外村（区）户籍常住人员，"
        "no_phone 无联系电话",
    )
    p.add_argument(
        "kind",
        choices=[
            "hardship",
            "lapsed",
            "household_partial",
            "newborn",
            "residents",
            "no_phone",
            "ecard",
        ],
    )
    p.add_argument("--village", required=True, help="村（社区）名称或区划代码")
    p.add_argument("--policy", help="政策编号（默认：本辖区适用的政策）")
    p.add_argument("--out", help="导出为 .xlsx 文件")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.set_defaults(func=cmd_worklist)

    people = lists.add_parser(
        "people", help="死亡、职工医保、在校大学生名单：标记人员，不再列入动员名单"
    )
    people.add_argument("kind", choices=["death", "employee", "university", "ecard"])
    people.add_argument("file")
    people.add_argument("--year", type=int, required=True, help="待遇年度，如 2023")
    people.add_argument("--township", help="街道（镇）名称或区划代码（区医保局须指定）")
    people.add_argument("--quiet", action="store_true", help="不显示进度条")
    people.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    people.set_defaults(func=cmd_people_import)

    p = subparsers.add_parser(
        "anomalies", help="异常名单：死亡后缴费、已在别处参保仍缴费；同一电话代缴多户（待核）"
    )
    p.add_argument("--year", type=int, required=True, help="待遇年度，如 2023")
    p.add_argument("--min-households", type=int, default=3, help="同一电话至少涉及几户")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help=user_help)
    p.set_defaults(func=cmd_anomalies)
