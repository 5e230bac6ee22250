"""Sign-ins, failed sign-ins and lock-outs in the audit trail.

Receivers of Django's authentication signals and of django-axes' lock-out signal, connected
in :class:`yibao.core.apps.CoreConfig`. They record, they decide nothing.
"""

from __future__ import annotations

from typing import Any

from .audit import audit_event


def _where(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    meta = getattr(request, "META", {}) or {}
    return {
        "ip": str(meta.get("REMOTE_ADDR", ""))[:64],
        "path": str(getattr(request, "path", ""))[:200],
    }


def signed_in(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    audit_event(
        actor=user,
        action="auth.sign_in",
        object_type="auth.user",
        object_id=str(getattr(user, "pk", "")),
        details=_where(request),
    )


def signed_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is None:
        return
    audit_event(
        actor=user,
        action="auth.sign_out",
        object_type="auth.user",
        object_id=str(user.pk),
        details=_where(request),
    )


def sign_in_failed(
    sender: Any, credentials: Any = None, request: Any = None, **kwargs: Any
) -> None:
    tried = str((credentials or {}).get("username", ""))
    audit_event(
        actor=None,
        actor_name=tried or "unknown",
        action="auth.sign_in_failed",
        object_type="auth.user",
        details=_where(request),
    )


def locked_out(
    sender: Any, request: Any = None, username: Any = None, ip_address: Any = None, **kwargs: Any
) -> None:
    audit_event(
        actor=None,
        actor_name=str(username or "unknown"),
        action="auth.locked_out",
        object_type="auth.user",
        details={**_where(request), "ip": str(ip_address or "")[:64]},
    )


def connect() -> None:
    from django.contrib.auth import signals

    signals.user_logged_in.connect(signed_in, dispatch_uid="yibao.audit.sign_in")
    signals.user_logged_out.connect(signed_out, dispatch_uid="yibao.audit.sign_out")
    signals.user_login_failed.connect(sign_in_failed, dispatch_uid="yibao.audit.sign_in_failed")
    from django.apps import apps

    if not apps.is_installed("axes"):  # no lock-outs to record
        return
    from axes.signals import user_locked_out

    user_locked_out.connect(locked_out, dispatch_uid="yibao.audit.locked_out")
