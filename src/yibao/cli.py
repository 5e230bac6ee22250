"""The ``yibao`` command: policy questions here, ledger commands from :mod:`yibao.manage_cli`."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from yibao.core.errors import ApplicationError
from yibao.policy import (
    IdentityClaim,
    PolicyError,
    QuoteRequest,
    get_policy,
    list_policies,
)
from yibao.policy.display import render, table

# Commands backed by the ledger (Django); each module exposes ``register(subparsers)``.
LEDGER_COMMANDS = (
    "yibao.manage_cli",
    "yibao.transfer.cli",
    "yibao.demo.cli",
    "yibao.api.cli",
    "yibao.serving.cli",
    "yibao.collection.cli",
    "yibao.intake.cli",
    "yibao.funds.cli",
    "yibao.core.cli",
    "yibao.campaign.cli",
    "yibao.registry.cli",
)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{text}") from None


def _percent(text: str) -> Decimal:
    try:
        return Decimal(text.strip().removesuffix("%"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"百分数格式错误：{text}") from None


def _identity(text: str) -> IdentityClaim:
    key, _, certified = text.partition("@")
    return IdentityClaim(key=key.strip(), certified_on=_date(certified) if certified else None)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def cmd_policy_list(args: argparse.Namespace) -> int:
    engines = list_policies()
    if args.json:
        _print_json(
            [
                {
                    "id": e.id,
                    "name": e.name,
                    "benefit_year": e.benefit_year,
                    "district": e.data.district,
                    "township": e.data.township,
                    "sources": e.data.source_numbers(),
                }
                for e in engines
            ]
        )
        return 0
    rows = [
        [e.id, str(e.benefit_year), e.data.district + (e.data.township or ""), e.name]
        for e in engines
    ]
    print(table(["编号", "年度", "地区", "名称"], rows))
    return 0


def _effective_policy(policy_id: str, *, shipped: bool) -> tuple[Any, list[dict[str, Any]]]:
    """The policy as the ledger applies it (the shipped file with its latest supplement) and
    the supplements loaded, newest first; the shipped file alone with ``shipped`` or when no
    ledger database is reachable (the engine works without one)."""
    engine = get_policy(policy_id)
    if shipped:
        return engine, []
    try:
        from django.db import DatabaseError

        from yibao.manage_cli import setup_django

        setup_django()
        from yibao.collection.selectors import policy_supplements
        from yibao.collection.services import policy_engine

        try:
            loaded = policy_supplements(policy_id=policy_id)
            if loaded:
                engine = policy_engine(policy_id)
        except DatabaseError:
            return engine, [{"error": "未能读取台账数据库，仅显示随系统发布的政策文件"}]
    except ImportError:
        return engine, []
    return engine, [
        {
            "version": s.version,
            "document": s.document,
            "cite": s.cite,
            "sha256": s.sha256,
            "note": s.note,
            "loaded_at": s.loaded_at.isoformat(),
            "loaded_by": s.loaded_by.get_username() if s.loaded_by else "",
        }
        for s in loaded
    ]


def cmd_policy_show(args: argparse.Namespace) -> int:
    engine, supplements = _effective_policy(args.id, shipped=args.shipped)
    findings = engine.findings()
    if args.json:
        _print_json({**engine.describe(), "supplements": supplements})
        return 0
    current = next((s for s in supplements if "version" in s), None)
    if current is not None:
        print(
            f"【台账执行版】随系统发布的政策文件＋补充文件第{current['version']}版（{current['document']}）"
        )
    print(render(engine.data))
    if supplements:
        print("\n已载入的补充文件（本页所示为台账实际执行的政策，含最新一版补充）：")
        for s in supplements:
            if "error" in s:
                print(f"  {s['error']}")
                continue
            current = "【现行】" if s is supplements[0] else "【已被新版取代】"
            print(
                f"  {current}第{s['version']}版　{s['document']}（{s['cite']}）　"
                f"{s['loaded_at'][:16]} {s['loaded_by']}　SHA-256 {s['sha256'][:12]}"
            )
    if findings:
        print("\n核对发现：")
        for f in findings:
            print(f"  [{'错误' if f.level == 'error' else '提示'}] {f.message}")
    return 0


def cmd_policy_load(args: argparse.Namespace) -> int:
    """Load a supplement (a document a policy cites but the project lacks) into the ledger."""
    from yibao.manage_cli import setup_django

    setup_django()
    from yibao.collection.services import policy_supplement_load
    from yibao.transfer.cli import _actor

    with open(args.file, encoding="utf-8") as handle:
        text = handle.read()
    record = policy_supplement_load(
        actor=_actor(args.user), text=text, note=args.note or "", name=args.file
    )
    result = {
        "policy": record.policy_id,
        "version": record.version,
        "document": record.document,
        "cite": record.cite,
        "sha256": record.sha256,
    }
    if args.json:
        _print_json(result)
    else:
        print(
            f"已载入{record.policy_id}的补充文件第{record.version}版：{record.document}"
            f"（{record.cite}）"
        )
    return 0


def cmd_quote(args: argparse.Namespace) -> int:
    engine = get_policy(args.policy)
    request = QuoteRequest(
        paid_on=args.paid_on,
        tier=args.tier,
        identities=tuple(args.identity or ()),
        population=args.population,
        birth_date=args.birth_date,
        graduating=args.graduating,
        employee_insurance_ended_on=args.employee_insurance_ended,
        continuous_insured_years=args.continuous_years,
        without_missing_subsidy=args.without_missing_subsidy,
    )
    quote = engine.quote(request)
    if args.json:
        _print_json(quote.to_dict())
        return 0
    d = quote.to_dict()
    ident = d["identity"]
    print(f"政策：{engine.name}（{engine.id}）")
    print(
        f"缴费日期：{d['paid_on']}　档次：{'一档' if quote.tier == 1 else '二档'}　人群：{args.population}"
    )
    if ident:
        print(f"适用身份：{(ident['code'] + ' ') if ident['code'] else ''}{ident['name']}")
    print(f"缴费标准：{d['standard']} 元（其中7月1日后补缴财政补助 {d['surcharge']} 元）")
    print(f"资助金额：{d['subsidy']} 元")
    print(f"个人实缴：{d['personal']} 元" + ("（零申报）" if quote.zero_declaration else ""))
    if quote.coverage_start:
        print(f"待遇享受期：{d['coverage_start']} 至 {d['coverage_end']}")
    else:
        print("待遇享受期：无法确定（见说明）")
    for note in quote.notes:
        print(f"  · {note}")
    print("依据：" + "；".join(quote.sources))
    return 0


def cmd_targets_check(args: argparse.Namespace) -> int:
    engine = get_policy(args.policy)
    findings = engine.targets_check()
    if args.json:
        _print_json({"findings": [f.to_dict() for f in findings]})
        return 0
    if not findings:
        print(f"{engine.name}：任务表核对无误")
    for f in findings:
        print(f"[{'错误' if f.level == 'error' else '提示'}] {f.message}")
    return 0


def cmd_assess(args: argparse.Namespace) -> int:
    engine = get_policy(args.policy)
    result = engine.assess(completion=args.completion, hardship=args.hardship)
    if args.json:
        _print_json(result.to_dict())
        return 0
    if result.score is None:
        print(f"不计分：{result.reason}")
    else:
        print(f"考核得分：{result.score}（{result.reason}；{result.cite}）")
    return 0


def _present(module_name: str) -> bool:
    """Whether a command module is installed (an error inside a present module is not hidden)."""
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yibao", description="城乡居民基本医疗保险参保征缴")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    policy = sub.add_parser("policy", help="查看政策文件").add_subparsers(
        dest="action", required=True
    )
    p = policy.add_parser("list", help="列出政策")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_policy_list)
    p = policy.add_parser("show", help="显示政策及其附表（含台账已载入的补充文件）")
    p.add_argument("id")
    p.add_argument("--shipped", action="store_true", help="只显示随系统发布的政策文件")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_policy_show)
    p = policy.add_parser(
        "load", help="载入政策所引而未收录文件的补充（区医保局），校验同政策文件，按版本保存并留痕"
    )
    p.add_argument("file", help="补充文件（TOML）：policy、document、cite 与各身份的资助标准")
    p.add_argument("--note", help="说明")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help="操作人用户名")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_policy_load)

    q = sub.add_parser("quote", help="计算个人缴费、资助与待遇享受期")
    q.add_argument("--policy", required=True)
    q.add_argument("--paid-on", required=True, type=_date)
    q.add_argument("--tier", required=True, type=int, choices=(1, 2))
    q.add_argument(
        "--identity", action="append", type=_identity, help="身份代码或名称，可重复；名称@认定日期"
    )
    q.add_argument(
        "--population", default="resident", choices=("resident", "university_student", "newborn")
    )
    q.add_argument("--birth-date", type=_date)
    q.add_argument("--graduating", action="store_true", help="当年毕业的大学生")
    q.add_argument("--employee-insurance-ended", type=_date, help="职工医保中断缴费日期")
    q.add_argument("--continuous-years", type=int, help="连续参加基本医保年数")
    q.add_argument(
        "--without-missing-subsidy",
        action="store_true",
        help="经办机构已决定：资助标准所在文件未收录期间，先按普通居民全额缴费参保",
    )
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_quote)

    t = sub.add_parser("targets", help="目标任务表").add_subparsers(dest="action", required=True)
    p = t.add_parser("check", help="核对任务表")
    p.add_argument("--policy", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_targets_check)

    a = sub.add_parser("assess", help="按考核办法计分")
    a.add_argument("--policy", required=True)
    a.add_argument("--completion", required=True, type=_percent, help="目标任务完成率（百分数）")
    a.add_argument("--hardship", required=True, type=_percent, help="困难群体参保率（百分数）")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_assess)

    for module_name in LEDGER_COMMANDS:
        if _present(module_name):
            importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    wants_json = getattr(args, "json", False)
    try:
        return int(args.func(args) or 0)
    except (PolicyError, ApplicationError) as error:
        if wants_json:
            _print_json({"error": error.message, "code": error.code})
        else:
            print(f"错误：{error.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
