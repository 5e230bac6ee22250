"""Template context for every page: the actor's role, scope label and navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from yibao.core.access import villages_in_scope

from .nav import nav_for
from .roles import COLLECTOR, ROLE_LABELS, actor_role


def _scope_label(user: Any, role: str | None) -> str:
    villages = list(villages_in_scope(user).select_related("township")[:4])
    if not villages:
        return ""
    if role == COLLECTOR:
        names = "、".join(v.name for v in villages[:3])
        return names + ("等" if len(villages) > 3 else "")
    return villages[0].township.name


def web_context(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = actor_role(user)
    return {
        "role": role,
        "role_label": ROLE_LABELS.get(role or "", "未分配角色"),
        "scope_label": _scope_label(user, role),
        "nav": nav_for(role, request.resolver_match),
    }
