"""Django-backed subcommands of the ``yibao`` command: ``migrate`` and ``manage``.

``yibao.cli`` calls :func:`register` with its subparsers. Each handler takes the parsed
namespace and returns an exit status.
"""

from __future__ import annotations

import argparse
import os
import sys


def setup_django() -> None:
    """Configure Django with ``yibao.settings`` unless another settings module is chosen."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    import django

    django.setup()


def _migrate(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    from yibao.registry.idcrypto import FieldKeyMissing

    try:
        call_command("migrate", interactive=False, verbosity=args.verbosity)
    except FieldKeyMissing as error:  # numbers stored in plain need the key to be encrypted
        print(f"错误：{error}", file=sys.stderr)
        return 2
    return 0


def _manage(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import execute_from_command_line

    argv = list(args.django_args)
    if argv and argv[0] == "--":
        argv = argv[1:]
    execute_from_command_line(["yibao manage", *argv])
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``migrate`` and ``manage`` to the ``yibao`` command's subparsers."""
    migrate = subparsers.add_parser(
        "migrate", help="创建或升级数据库（DATABASE_URL，默认 var/yibao.sqlite3）"
    )
    migrate.add_argument("-v", "--verbosity", type=int, default=1, choices=[0, 1, 2, 3])
    migrate.set_defaults(func=_migrate)

    manage = subparsers.add_parser(
        "manage", help="Django 管理命令，例如 yibao manage createsuperuser", add_help=False
    )
    manage.add_argument("django_args", nargs=argparse.REMAINDER)
    manage.set_defaults(func=_manage)


def main(argv: list[str] | None = None) -> int:
    """Run only these subcommands (useful before ``yibao.cli`` wires them in)."""
    parser = argparse.ArgumentParser(prog="yibao")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
