"""Who may do the office work of intake: load official data, confirm lists.

The role comes from the actor's one :class:`~yibao.core.access.Scope`.
"""

from __future__ import annotations

from typing import Any

from yibao.core.access import not_found, read_only, scope_of
from yibao.core.errors import ApplicationError

OFFICE_ROLES = ("superuser", "district", "township")


def require_office(actor: Any, what: str, *, district_only: bool = False) -> str:
    """Refuse ``office_required`` unless ``actor`` is a township or district office (or only
    a district office, ``district_only``); return the role. Auditors are refused
    ``read_only``."""
    scope = scope_of(actor)
    if scope.role == "auditor":
        raise read_only()
    allowed = ("superuser", "district") if district_only else OFFICE_ROLES
    if scope.role not in allowed:
        who = "区医保局" if district_only else "街道社保所或区医保局"
        raise ApplicationError("office_required", f"{what}须由{who}办理", what=what)
    return str(scope.role)


def require_township(actor: Any, township: Any) -> None:
    """Refuse ``not_found`` unless ``township`` is in the actor's area (an office's own
    township, or a township of its district)."""
    scope = scope_of(actor)
    if scope.everywhere or scope.township_id == township.pk:
        return
    if scope.district_id is not None and scope.district_id == township.district_id:
        return
    raise not_found(f"编号为{township.pk}的街道（镇）", township_id=township.pk)
