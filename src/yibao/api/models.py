"""Bearer tokens of the API: one row per token, holding its SHA-256 digest, never the secret."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A token a device or script sends as ``Authorization: Bearer <secret>``.

    Only :mod:`yibao.api.tokens` creates or revokes one. A row is kept after revocation or
    expiry so that the audit trail and ``yibao token list`` can still name it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name="用户",
    )
    name = models.CharField("用途", max_length=100, blank=True)
    # The first characters of the secret: enough for a person to tell tokens apart, far too
    # few to guess the rest.
    prefix = models.CharField("令牌前缀", max_length=16, db_index=True)
    digest = models.CharField("令牌摘要（SHA-256）", max_length=64, unique=True)
    # The user's session-auth hash when issued (an HMAC of the password hash, as Django keeps
    # in a session): a password change makes it differ, which ends the token.
    auth_hash = models.CharField("签发时的认证摘要", max_length=128)
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间")
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or '未命名'})"
