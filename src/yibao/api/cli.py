"""``token issue`` / ``token revoke``: bearer tokens from the server's console.

Run as ``python -m yibao.api.cli token issue --user sanhe``; :func:`register` has the shape
of the ``yibao`` command's ledger modules, so ``yibao token ...`` works once ``yibao.cli``
lists this module.
"""

from __future__ import annotations

import argparse
import sys


def _issue(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from django.contrib.auth import get_user_model

    from yibao.core.errors import ApplicationError

    from .tokens import TOKEN_DAYS, api_token_issue

    user = get_user_model().objects.filter(username=args.user).first()
    if user is None:
        print(f"错误：用户{args.user}不存在", file=sys.stderr)
        return 2
    try:
        # Whoever runs the server's console already acts for every user (as with
        # ``changepassword``); the audit log records the token as issued by the user.
        token = api_token_issue(actor=user, name=args.name)
    except ApplicationError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return 2
    print(token)
    print(f"（仅显示这一次；{TOKEN_DAYS}天后过期；用户改密码后失效）", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from yibao.core.errors import ApplicationError

    from .tokens import api_token_revoke, api_token_user

    token = args.token.strip()
    owner = api_token_user(token)
    try:
        api_token_revoke(actor=owner, token=token)
    except ApplicationError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return 2
    print("已撤销", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = subparsers.add_parser("token", help="接口令牌").add_subparsers(
        dest="action", required=True
    )
    issue = token.add_parser("issue", help="为用户签发接口令牌（只显示一次）")
    issue.add_argument("--user", required=True, help="用户名")
    issue.add_argument("--name", default="", help="用途，如 三河街社区收费平板")
    issue.set_defaults(func=_issue)
    revoke = token.add_parser("revoke", help="撤销接口令牌")
    revoke.add_argument("token")
    revoke.set_defaults(func=_revoke)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yibao.api.cli")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
