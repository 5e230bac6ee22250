"""The check every production server runs before it answers a request (from ``yibao.wsgi``)."""

from __future__ import annotations

import os
import stat

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
    problems += field_key_problems()
    return problems


def field_key_problems() -> list[str]:
    """The key that encrypts ID numbers at rest must be there (and not readable by others)."""
    from yibao.registry.idcrypto import ENV_KEY, FieldKeyMissing, current_key, key_file_path

    try:
        current_key()
    except FieldKeyMissing as error:
        return [
            f"{error}。证件号码加密存放，没有密钥无法查找或显示参保人（见 README“证件号码加密存放”）"
        ]
    if not os.environ.get(ENV_KEY):
        mode = key_file_path().stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            return [
                f"字段加密密钥文件 {key_file_path()} 的权限过宽（{stat.filemode(mode)}）："
                "应只有运行服务的账号可读（chmod 600）"
            ]
    return []


def refuse_insecure_settings() -> None:
    """Raise ``ImproperlyConfigured`` (the server does not start) if the settings are unfit."""
    problems = insecure_settings()
    if problems:
        raise ImproperlyConfigured("拒绝启动服务：" + "；".join(problems))
