"""Reads of intake records, filtered by the actor's area."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yibao.core.access import not_found, scope_of

from .models import IdentityList, IdentityListEntry


def identity_list_list(*, actor: Any) -> QuerySet[IdentityList]:
    """The identity lists of the townships in the actor's area (offices only see lists)."""
    scope = scope_of(actor)
    queryset = IdentityList.objects.select_related("township", "uploaded_by", "decided_by")
    if scope.everywhere:
        return queryset
    if scope.role in ("township", "auditor") and scope.township_id is not None:
        return queryset.filter(township_id=scope.township_id)
    if scope.district_id is not None and scope.role != "collector":
        return queryset.filter(township__district_id=scope.district_id)
    return queryset.none()


def access_identity_list(actor: Any, list_id: int) -> IdentityList:
    """The identity list ``list_id`` if it belongs to the actor's area."""
    found = identity_list_list(actor=actor).filter(pk=list_id).first()
    if found is None:
        raise not_found(f"编号为{list_id}的名单", list_id=list_id)
    return found


def identity_list_entries(
    *, actor: Any, identity_list: IdentityList, change: str = ""
) -> QuerySet[IdentityListEntry]:
    """The entries of a list the actor may see, optionally of one kind of change."""
    access_identity_list(actor, identity_list.pk)
    queryset = identity_list.entries.select_related("person__hukou_village")
    if change:
        queryset = queryset.filter(change=change)
    return queryset.order_by("row", "id")
