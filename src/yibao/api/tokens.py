"""API tokens for devices and scripts: ``Authorization: Bearer <token>``.

A token is stored as a row of Django's session table (``django.contrib.sessions``, database
backend), keyed by the SHA-256 of the token, so the table never holds a usable secret and a
token can never be replayed as a browser session cookie (the row carries no ``_auth_user_id``).
The row records the user and the user's session-auth hash: changing the password revokes
every token of that user. Tokens expire after :data:`TOKEN_DAYS` days; ``clearsessions``
removes expired ones.

Why the session table: the API package is not (yet) an installed app, so it cannot own a
migration; see the package's report. Issue and revoke go through these functions only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from yibao.core.audit import audit_record
from yibao.core.errors import ApplicationError

TOKEN_DAYS = 180
PREFIX = "yb_"
_USER = "yibao_api_user_id"
_HASH = "yibao_api_user_hash"
_NAME = "yibao_api_token_name"


def _key(token: str) -> str:
    # 40 hex characters: the session key column is 40 long.
    return hashlib.sha256(token.encode()).hexdigest()[:40]


@transaction.atomic
def api_token_issue(*, actor: Any, user: Any | None = None, name: str = "") -> str:
    """A new bearer token acting as ``user`` (default: ``actor`` itself); shown once.

    Only a superuser issues a token for someone else. The token expires after
    :data:`TOKEN_DAYS` days; the issue is written to the audit log (without the secret).
    """
    user = user or actor
    if getattr(actor, "pk", None) is None:
        raise ApplicationError("not_authenticated", "未登录，不能签发接口令牌")
    if user.pk != actor.pk and not actor.is_superuser:
        raise ApplicationError(
            "out_of_scope", f"{actor.get_username()}无权为{user.get_username()}签发接口令牌"
        )
    if not user.is_active:
        raise ApplicationError(
            "user_inactive", f"用户{user.get_username()}已停用，不能签发接口令牌"
        )
    token = PREFIX + secrets.token_urlsafe(32)
    data = {_USER: user.pk, _HASH: user.get_session_auth_hash(), _NAME: name.strip()[:100]}
    row = Session.objects.create(
        session_key=_key(token),
        session_data=SessionStore().encode(data),
        expire_date=timezone.now() + dt.timedelta(days=TOKEN_DAYS),
    )
    audit_record(
        actor=actor,
        action="api_token.issue",
        instance=row,
        after={"user": user.get_username(), "name": name, "expires": row.expire_date.isoformat()},
    )
    return token


@transaction.atomic
def api_token_revoke(*, actor: Any, token: str) -> None:
    """Revoke ``token``; its owner or a superuser may do it. An unknown token is refused."""
    user = api_token_user(token)
    if user is None:
        raise ApplicationError("token_unknown", "接口令牌不存在、已过期或已撤销")
    if user.pk != getattr(actor, "pk", None) and not getattr(actor, "is_superuser", False):
        raise ApplicationError("out_of_scope", "无权撤销他人的接口令牌")
    row = Session.objects.get(pk=_key(token))
    audit_record(
        actor=actor,
        action="api_token.revoke",
        instance=row,
        before={"user": user.get_username(), "expires": row.expire_date.isoformat()},
    )
    row.delete()


def api_token_user(token: str) -> Any | None:
    """The active user ``token`` acts as, or None (unknown, expired, revoked, password changed)."""
    if not token or not token.startswith(PREFIX):
        return None
    row = Session.objects.filter(pk=_key(token), expire_date__gt=timezone.now()).first()
    if row is None:
        return None
    data = SessionStore().decode(row.session_data)
    user = get_user_model().objects.filter(pk=data.get(_USER), is_active=True).first()
    if user is None or not secrets.compare_digest(
        str(data.get(_HASH, "")), user.get_session_auth_hash()
    ):
        return None
    return user
