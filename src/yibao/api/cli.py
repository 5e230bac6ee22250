"""``yibao token issue|revoke|list``: bearer tokens from the server's console.

Also runs as ``python -m yibao.api.cli token ...``. Whoever runs the server's console already
acts for every user (as with ``changepassword``), so the audit log records a token as issued
or revoked by its own user.
"""

from __future__ import annotations

import argparse
import sys

STATUS_NAMES = {
    "active": "有效",
    "revoked": "已撤销",
    "expired": "已过期",
    "user_inactive": "用户已停用",
    "password_changed": "用户已改密码",
}


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
        issued = api_token_issue(actor=user, name=args.name)
    except ApplicationError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return 2
    print(issued.secret)
    print(
        f"（仅显示这一次；前缀 {issued.api_token.prefix}；{TOKEN_DAYS}天后过期；用户改密码后失效）",
        file=sys.stderr,
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from yibao.core.errors import ApplicationError

    from .selectors import api_token_list
    from .tokens import api_token_find, api_token_revoke

    text = args.token.strip()
    # The whole secret, or (for a lost device, whose secret nobody has) the prefix that
    # ``token list`` shows.
    found = api_token_find(text)
    prefix = text.rstrip("…")
    candidates = [found] if found else list(api_token_list(prefix=prefix)) if prefix else []
    if len(candidates) != 1:
        reason = "不唯一，请给出完整令牌" if candidates else "不存在"
        print(f"错误：接口令牌{text[:16]}{reason}", file=sys.stderr)
        return 2
    api_token = candidates[0]
    try:
        api_token_revoke(actor=api_token.user, api_token=api_token)
    except ApplicationError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return 2
    print(f"已撤销 {api_token.prefix}…", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from django.utils import timezone

    from yibao.policy.display import table

    from .selectors import api_token_list
    from .tokens import api_token_status

    def local(moment) -> str:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"

    now = timezone.now()
    rows = []
    for api_token in api_token_list(username=args.user):
        status = api_token_status(api_token, now=now)
        if status != "active" and not args.all:
            continue
        rows.append(
            [
                api_token.prefix + "…",
                api_token.user.get_username(),
                api_token.name or "—",
                local(api_token.created_at),
                local(api_token.expires_at),
                local(api_token.last_used_at),
                STATUS_NAMES[status],
            ]
        )
    if not rows:
        print("没有接口令牌" if args.all else "没有有效的接口令牌（--all 显示全部）")
        return 0
    print(table(["前缀", "用户", "用途", "签发", "过期", "最近使用", "状态"], rows))
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
    revoke.add_argument("token", help="完整令牌，或 token list 显示的前缀")
    revoke.set_defaults(func=_revoke)
    listing = token.add_parser("list", help="列出接口令牌（不含令牌本身）")
    listing.add_argument("--user", help="只列出此用户的令牌")
    listing.add_argument("--all", action="store_true", help="包括已撤销、已过期和已失效的")
    listing.set_defaults(func=_list)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yibao.api.cli")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
