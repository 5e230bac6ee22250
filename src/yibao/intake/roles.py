"""Who may do the office work of intake: load official data, confirm lists."""

from __future__ import annotations

from typing import Any

from yibao.core.errors import ApplicationError


def office_role(actor: Any) -> str | None:
    """``"superuser"``, ``"district"``, ``"township"`` or None (a collector or nobody)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    if actor.is_superuser:
        return "superuser"
    from yibao.collection.models import Collector

    collector = Collector.objects.filter(user=actor).only("role").first()
    if collector is None or collector.role == Collector.Role.COLLECTOR:
        return None
    return str(collector.role)


def require_office(actor: Any, what: str, *, district_only: bool = False) -> str:
    """Refuse ``office_required`` unless ``actor`` is a township or district office (or only
    a district office, ``district_only``); return the role."""
    role = office_role(actor)
    allowed = ("superuser", "district") if district_only else ("superuser", "district", "township")
    if role not in allowed:
        who = "区医保局" if district_only else "街道社保所或区医保局"
        raise ApplicationError("office_required", f"{what}须由{who}办理", what=what)
    return role
