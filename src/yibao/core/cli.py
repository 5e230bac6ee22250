"""``yibao audit verify``, ``yibao backup`` and ``yibao restore``: the server's console."""

from __future__ import annotations

import argparse
import sys


def _verify(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from django.db import connection

    from .chain import chain_verify
    from .integrity import triggers_present

    report = chain_verify()
    missing = [table for table, ok in triggers_present(connection).items() if not ok]
    if report.ok:
        print(
            f"审计日志哈希链完整：共{report.rows}条记录；链尾哈希 {report.last_hash.hex() or '（空）'}"
        )
    else:
        print(
            f"审计日志在第{report.rows}条记录（编号 {report.first_bad_id}）处断开："
            f"{report.reason}。此前的记录完整。",
            file=sys.stderr,
        )
    if missing:
        print(
            f"缺少只追加触发器的表：{'、'.join(missing)}（请运行 yibao migrate）", file=sys.stderr
        )
    else:
        print("缴费、解缴和审计日志表的只追加触发器均已就绪")
    return 0 if report.ok and not missing else 1


def _backup(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from yibao.registry.idcrypto import backup_key_note

    from .backup import backup_create

    result = backup_create(path=args.out)
    print(f"已备份到 {result.path}（{result.size:,} 字节，数据库结构版本 {result.schema}）")
    print(backup_key_note(), file=sys.stderr)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from .backup import backup_restore

    result = backup_restore(path=args.file, force=args.force)
    print(f"已从 {result.path} 恢复（数据库结构版本 {result.schema}）")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = sub.add_parser("audit", help="审计日志")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="校验审计日志的哈希链和只追加触发器")
    verify.set_defaults(func=_verify)

    backup = sub.add_parser("backup", help="备份数据库（SQLite 在线备份；PostgreSQL pg_dump）")
    backup.add_argument("--out", required=True, help="备份文件路径")
    backup.set_defaults(func=_backup)

    restore = sub.add_parser("restore", help="从备份恢复到空数据库（拒绝更新版本的备份）")
    restore.add_argument("file", help="备份文件路径")
    restore.add_argument("--force", action="store_true", help="目标数据库已有数据时也覆盖（谨慎）")
    restore.set_defaults(func=_restore)
