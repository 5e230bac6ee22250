"""API tokens for devices and scripts: ``Authorization: Bearer <secret>``.

A token is an :class:`~yibao.api.models.ApiToken` row holding the SHA-256 digest of the secret,
so the database never holds a usable secret; the secret is shown once, when issued. A token
stops working when it is revoked, when it expires (:data:`TOKEN_DAYS` days after issue), when
its user is deactivated, or when its user's password changes after issue. Issue and revoke go
through these functions only, and both are written to the audit log (without the secret).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from yibao.core.audit import audit_record
from yibao.core.errors import ApplicationError

from .models import ApiToken

TOKEN_DAYS = 180
PREFIX = "yb_"
PREFIX_LENGTH = len(PREFIX) + 8
# ``last_used_at`` is written at most this often per token, so that a busy tablet does not
# make every request a write.
TOUCH_INTERVAL = dt.timedelta(minutes=1)
# A token's row and user are kept in the process this long, so that a busy tablet costs no
# query per request (the user object also carries its cached scope). Revoking drops the
# entry in this process; other worker processes notice within this time.
CACHE_SECONDS = 10.0
CACHE_SIZE = 10_000
_cache: dict[str, tuple[float, ApiToken]] = {}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedToken:
    api_token: ApiToken
    secret: str  # shown once; not stored anywhere


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _audit_view(api_token: ApiToken) -> dict[str, Any]:
    # Never the digest or the auth hash: the audit log names a token, it does not hold it.
    return {
        "user": api_token.user.get_username(),
        "name": api_token.name,
        "prefix": api_token.prefix,
        "expires_at": api_token.expires_at.isoformat(),
        "revoked_at": api_token.revoked_at.isoformat() if api_token.revoked_at else None,
    }


@transaction.atomic
def api_token_issue(*, actor: Any, user: Any | None = None, name: str = "") -> IssuedToken:
    """A new bearer token acting as ``user`` (default: ``actor`` itself); its secret is
    returned once and never stored.

    Only a superuser issues a token for someone else; an inactive user gets none.
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
    secret = PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=secret[:PREFIX_LENGTH],
        digest=token_digest(secret),
        auth_hash=user.get_session_auth_hash(),
        expires_at=timezone.now() + dt.timedelta(days=TOKEN_DAYS),
    )
    audit_record(
        actor=actor, action="api_token.issue", instance=api_token, after=_audit_view(api_token)
    )
    return IssuedToken(api_token=api_token, secret=secret)


@transaction.atomic
def api_token_revoke(*, actor: Any, api_token: ApiToken) -> ApiToken:
    """Revoke ``api_token``; its owner or a superuser may. Revoking twice is refused."""
    if api_token.user_id != getattr(actor, "pk", None) and not getattr(
        actor, "is_superuser", False
    ):
        raise ApplicationError("out_of_scope", "无权撤销他人的接口令牌")
    api_token = ApiToken.objects.select_for_update().select_related("user").get(pk=api_token.pk)
    if api_token.revoked_at is not None:
        raise ApplicationError(
            "token_revoked", f"接口令牌{api_token.prefix}…已于{api_token.revoked_at:%Y-%m-%d}撤销"
        )
    before = _audit_view(api_token)
    api_token.revoked_at = timezone.now()
    api_token.save(update_fields=["revoked_at"])
    _cache.pop(api_token.digest, None)
    audit_record(
        actor=actor,
        action="api_token.revoke",
        instance=api_token,
        before=before,
        after=_audit_view(api_token),
    )
    return api_token


def api_token_status(api_token: ApiToken, *, now: dt.datetime | None = None) -> str:
    """``active``, or why the token no longer works: ``revoked``, ``expired``,
    ``user_inactive``, ``password_changed``."""
    now = now or timezone.now()
    if api_token.revoked_at is not None:
        return "revoked"
    if api_token.expires_at <= now:
        return "expired"
    if not api_token.user.is_active:
        return "user_inactive"
    user = api_token.user
    # As Django does for sessions: a hash made with a retired SECRET_KEY still counts, so
    # rotating the key (with SECRET_KEY_FALLBACKS) does not end every token.
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(secrets.compare_digest(api_token.auth_hash, h) for h in hashes):
        return "password_changed"
    return "active"


def api_token_find(secret: str) -> ApiToken | None:
    """The token whose secret this is, in whatever state, or None."""
    if not secret or not secret.startswith(PREFIX):
        return None
    return ApiToken.objects.select_related("user").filter(digest=token_digest(secret)).first()


def api_token_user(secret: str) -> Any | None:
    """The user a working token acts as, or None (unknown, revoked, expired, user inactive,
    password changed). Records when the token was last used (:func:`_touch`)."""
    if not secret or not secret.startswith(PREFIX):
        return None
    digest = token_digest(secret)
    clock = time.monotonic()
    cached = _cache.get(digest)
    if cached is not None and cached[0] > clock:
        api_token = cached[1]
    else:
        found = api_token_find(secret)
        if found is None:
            return None  # unknown secrets are not kept: nobody fills the cache by guessing
        api_token = found
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[digest] = (clock + CACHE_SECONDS, api_token)
    now = timezone.now()
    if api_token_status(api_token, now=now) != "active":
        return None
    _touch(api_token, now)
    return api_token.user


def _touch(api_token: ApiToken, now: dt.datetime) -> None:
    """Write ``last_used_at`` at most once a minute per token and process, outside the
    request's work and without waiting for a lock: bookkeeping (not audited) that must never
    hold up or fail a request, so a busy database makes it skip a minute instead."""
    if api_token.last_used_at is not None and now - api_token.last_used_at < TOUCH_INTERVAL:
        return
    api_token.last_used_at = now  # also when the write below is skipped: next try in a minute
    sqlite = connection.vendor == "sqlite"
    # SET LOCAL lasts to the end of the outermost transaction: only in a transaction of our own.
    lock_timeout = connection.vendor == "postgresql" and not connection.in_atomic_block
    try:
        if sqlite:
            connection.yibao_writer_nowait = True  # nor queue for the writer lock
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 0")
        with transaction.atomic():
            if lock_timeout:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '50ms'")
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    except DatabaseError as error:
        logger.info("api token %s: last use not recorded (%s)", api_token.prefix, error)
    finally:
        if sqlite:
            connection.yibao_writer_nowait = False
            timeout = connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {int(float(timeout) * 1000)}")
