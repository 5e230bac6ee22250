"""Reads from the registry, always filtered by the actor's village scope."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from yibao.core.access import villages_in_scope

from .models import Person, Village


def person_list(
    *, actor: Any, village: Village | None = None, search: str = ""
) -> QuerySet[Person]:
    """Persons whose household-register or residence village is in ``actor``'s scope."""
    scope = villages_in_scope(actor)
    queryset = Person.objects.filter(
        Q(hukou_village__in=scope) | Q(residence_village__in=scope)
    ).select_related("hukou_village", "residence_village", "household")
    if village is not None:
        queryset = queryset.filter(Q(hukou_village=village) | Q(residence_village=village))
    search = search.strip()
    if search:
        queryset = queryset.filter(
            Q(name__contains=search) | Q(id_number__endswith=search) | Q(phone__contains=search)
        )
    return queryset.distinct().order_by("hukou_village_id", "id")


def village_list(*, actor: Any) -> QuerySet[Village]:
    return villages_in_scope(actor).select_related("township").order_by("township_id", "seq")
