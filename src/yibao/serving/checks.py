"""The check every production server runs before it answers a request (from ``yibao.wsgi``)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def insecure_settings() -> list[str]:
    """What makes these settings unfit to serve real users, in Chinese (empty when fit)."""
    from yibao.settings import INSECURE_DEFAULT_SECRET_KEY

    problems = []
    if settings.SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY:
        problems.append(
            "SECRET_KEY 仍是开发用的默认值：请设置环境变量 YIBAO_SECRET_KEY"
            "（50位以上的随机字符串，例如 python3 -c 'import secrets; print(secrets.token_urlsafe(50))'）"
        )
    if settings.DEBUG:
        problems.append("DEBUG 已打开（YIBAO_DEBUG=1）：调试页面会泄露数据，生产服务必须关闭")
    return problems


def refuse_insecure_settings() -> None:
    """Raise ``ImproperlyConfigured`` (the server does not start) if the settings are unfit."""
    problems = insecure_settings()
    if problems:
        raise ImproperlyConfigured("拒绝启动服务：" + "；".join(problems))
