"""Reads of the API: its tokens, and a read the ledger's selectors do not offer (yet)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yibao.collection.models import Enrollment
from yibao.registry.models import Person, Village
from yibao.registry.selectors import person_list

from .models import ApiToken


def person_list_by_payment(
    *,
    actor: Any,
    village: Village | None = None,
    search: str = "",
    benefit_year: int | None = None,
    paid: bool | None = None,
) -> QuerySet[Person]:
    """:func:`~yibao.registry.selectors.person_list`, narrowed to who has (not) paid for
    ``benefit_year``; "not paid" includes those not enrolled at all."""
    queryset = person_list(actor=actor, village=village, search=search)
    if paid is None or benefit_year is None:
        return queryset
    paid_ids = Enrollment.objects.filter(
        benefit_year=benefit_year, status=Enrollment.Status.PAID
    ).values("person_id")
    return queryset.filter(pk__in=paid_ids) if paid else queryset.exclude(pk__in=paid_ids)


def api_token_list(*, username: str | None = None, prefix: str | None = None) -> QuerySet[ApiToken]:
    """Tokens in every state, newest first, with their users; for the server's console."""
    queryset = ApiToken.objects.select_related("user")
    if username:
        queryset = queryset.filter(user__username=username)
    if prefix:
        queryset = queryset.filter(prefix=prefix)
    return queryset
