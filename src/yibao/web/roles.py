"""Who may open which page: a role per signed-in user, checked on the server for every view.

Scope (which villages) is checked separately, through ``yibao.core.access``, in every view.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yibao.collection.models import StaffMember

COLLECTOR = StaffMember.Role.COLLECTOR.value
TOWNSHIP = StaffMember.Role.TOWNSHIP.value
DISTRICT = StaffMember.Role.DISTRICT.value
AUDITOR = StaffMember.Role.AUDITOR.value
ADMIN = "admin"

ROLE_LABELS = {**dict(StaffMember.Role.choices), ADMIN: "系统管理员"}

DESK = (COLLECTOR, TOWNSHIP, DISTRICT, ADMIN)  # find people, quote, take payments
OFFICE = (TOWNSHIP, DISTRICT, ADMIN)  # register households, dashboard, reversals
READERS = (COLLECTOR, TOWNSHIP, DISTRICT, AUDITOR, ADMIN)  # ledgers (within scope)
AUDIT = (TOWNSHIP, DISTRICT, AUDITOR, ADMIN)  # the audit trail


def actor_role(user: Any) -> str | None:
    """The user's role, read once per request and kept on the user object."""
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(user, "_yibao_role", "")
    if cached != "":
        return cached  # type: ignore[no-any-return]
    if user.is_superuser:
        role: str | None = ADMIN
    else:
        role = StaffMember.objects.filter(user=user).values_list("role", flat=True).first()
    user._yibao_role = role
    return role


def role_required(
    *roles: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Sign-in required; a role outside ``roles`` gets the 403 page, in Chinese."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if actor_role(request.user) not in roles:
                return render(
                    request,
                    "web/error.html",
                    {"title": "无权访问", "message": "您的账号没有使用此页面的权限。"},
                    status=403,
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
