"""``yibao keys``: the key that encrypts ID numbers at rest (yibao.registry.idcrypto).

``yibao keys new [PATH]`` writes a new random key file; ``yibao keys rotate`` re-encrypts
every stored number with a new key in one transaction and puts the new key in place;
``yibao keys check`` opens every stored number with the key in force. ``yibao persons find``
is the desk's search box on the console.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .idcrypto import FieldKey


def _bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(
        f"\r  [{'#' * filled}{'.' * (width - filled)}] {done * 100 // max(total, 1):>3}%"
        f"  {done}/{total}",
        end="\n" if done >= total else "",
        file=sys.stderr,
        flush=True,
    )


def _new(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from .idcrypto import ENV_KEY_FILE, key_file_create, key_file_path

    path = Path(args.path) if args.path else key_file_path()
    if path.exists():
        print(f"错误：{path} 已存在，不覆盖（覆盖会让已加密的证件号码无法读取）", file=sys.stderr)
        return 2
    key_file_create(path)
    print(f"已生成字段加密密钥 {path}（仅所有者可读）。")
    if args.path:
        print(f"使用它：设置环境变量 {ENV_KEY_FILE}={path.resolve()}")
    print("请立即另行备份此文件，与数据库备份分开保管。")
    return 0


def _opens(key: FieldKey) -> bool | None:
    """Whether ``key`` opens the first stored number (None: no persons)."""
    from .idcrypto import IdNumberUnreadable, id_number_decrypt
    from .models import Person

    first = Person.objects.order_by("pk").values_list("id_cipher", "id_digest").first()
    if first is None:
        return None
    try:
        id_number_decrypt(first[0], first[1], key=key)
    except IdNumberUnreadable:
        return False
    return True


def _rotate(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from yibao.transfer.cli import _actor

    from .idcrypto import (
        ENV_KEY,
        ENV_KEY_FILE,
        current_key,
        forget_keys,
        key_file_create,
        key_file_path,
        key_from_file,
    )
    from .services import field_key_rotate

    actor = _actor(args.user) if args.user else None
    old = current_key()
    from_env = bool(os.environ.get(ENV_KEY))
    in_place = not args.new_key_file
    if in_place and from_env:
        print(
            f"错误：当前密钥来自环境变量 {ENV_KEY}，无法原地替换。"
            "请先 yibao keys new PATH 生成新密钥，再 yibao keys rotate --new-key-file PATH",
            file=sys.stderr,
        )
        return 2
    current_file = key_file_path()
    new_path = Path(args.new_key_file) if args.new_key_file else Path(f"{current_file}.new")
    if not new_path.exists():
        key_file_create(new_path)
    new = key_from_file(new_path)
    if new.index_key == old.index_key:
        print("错误：新密钥与当前密钥相同", file=sys.stderr)
        return 2
    if _opens(old) is False and _opens(new):
        # An earlier rotation committed but stopped before the key file was replaced.
        print(f"数据库已使用新密钥 {new_path}（上次轮换已提交），只替换密钥文件。")
    else:
        print(f"用新密钥 {new_path} 重新加密全部证件号码（一个事务：中断则全部不变）…")
        rows = field_key_rotate(actor=actor, old=old, new=new, progress=_bar)
        print(f"已重新加密{sum(rows.values())}条证件号码并重算索引（已记入审计日志）。")
    forget_keys()
    if in_place:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        retired = current_file.with_name(f"{current_file.name}.retired-{stamp}")
        os.replace(current_file, retired)
        os.replace(new_path, current_file)
        print(
            f"新密钥已就位：{current_file}；旧密钥改名为 {retired}。\n"
            "旧密钥不能读取现在的数据，但轮换前做的备份仍要用它：与那些备份一同保管，"
            "备份作废后销毁。请另行备份新密钥，然后重启服务。"
        )
    else:
        print(
            f"请把 {ENV_KEY_FILE} 设为 {new_path.resolve()}"
            f"（或把 {ENV_KEY} 设为该文件的内容），然后重启服务；"
            "旧密钥与轮换前的备份一同保管。"
        )
    return 0


def _check(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from .idcrypto import current_key
    from .selectors import field_key_check

    key = current_key()
    report = field_key_check(key=key)
    if report.unreadable:
        shown = "、".join(f"{table}{pk}" for table, pk in report.unreadable[:20])
        print(
            f"{len(report.unreadable)}条证件号码密文无法用密钥（{key.source}）打开"
            f"（{shown}{' 等' if len(report.unreadable) > 20 else ''}）："
            "密文被改动过，或是用别的密钥写入的",
            file=sys.stderr,
        )
        return 1
    print(f"密钥（{key.source}）能打开全部{report.rows}条证件号码。")
    return 0


def _find(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from yibao.transfer.cli import _actor

    from .selectors import person_list
    from .services import person_search_record

    actor = _actor(args.user)
    found = list(person_list(actor=actor, search=args.text)[: args.limit])
    person_search_record(actor=actor, search=args.text, found=found)
    rows = [
        {
            "id": p.pk,
            "name": p.name,
            "id_number": p.masked_id_number,
            "village": p.hukou_village.name,
            "phone": p.phone,
        }
        for p in found
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(f"{row['id']}\t{row['name']}\t{row['id_number']}\t{row['village']}\t{row['phone']}")
    if not rows:
        print("没有找到（或不在您的范围内）", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    persons = subparsers.add_parser("persons", help="参保人").add_subparsers(
        dest="persons_command", required=True
    )
    p = persons.add_parser(
        "find",
        help="按完整证件号码、证件号码后六位、电话、姓名或拼音首字母查找（同窗口搜索框；"
        "按完整证件号码查找留痕）",
    )
    p.add_argument("text")
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help="操作人用户名")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_find)
    keys = subparsers.add_parser(
        "keys", help="证件号码加密密钥：新建、轮换、校验（见 README“证件号码加密存放”）"
    ).add_subparsers(dest="keys_command", required=True)
    p = keys.add_parser("new", help="生成新的随机密钥文件（不覆盖已有文件）")
    p.add_argument(
        "path", nargs="?", help="密钥文件路径；默认 YIBAO_FIELD_KEY_FILE 或数据目录下的 field-key"
    )
    p.set_defaults(func=_new)
    p = keys.add_parser(
        "rotate",
        help="用新密钥重新加密全部证件号码并重算索引（一个事务，留痕）；请先停止服务",
    )
    p.add_argument(
        "--new-key-file",
        help="新密钥文件（yibao keys new 生成；不存在则生成）；不给则原地替换当前密钥文件",
    )
    p.add_argument("--user", default=os.environ.get("YIBAO_USER"), help="操作人用户名（留痕）")
    p.set_defaults(func=_rotate)
    p = keys.add_parser("check", help="用当前密钥打开全部证件号码，列出打不开的（被改动的）")
    p.set_defaults(func=_check)
