"""Reads from the registry, always filtered by the actor's village scope."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from yibao.core.access import villages_in_scope
from yibao.core.bulk import present

from .idcrypto import (
    FieldKey,
    IdNumberUnreadable,
    current_key,
    id_digest,
    id_number_decrypt,
    last6_digest,
    normalise,
)
from .models import IdNumberAtRest, Person, Village


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
    condition = search_condition(search)
    if condition is not None:
        queryset = queryset.filter(condition)
    return queryset.distinct().order_by("hukou_village_id", "id")


def search_condition(text: str) -> Q | None:
    """What a collector may type in the one search box, as a filter on persons.

    - an 18-character ID number (or 15 digits): that number (through its blind index);
    - an 11-digit number starting with 1: a mobile phone;
    - 6 characters (digits, the last may be X): the last six of an ID number (through their
      blind index: the stored numbers are encrypted) or the end of a phone;
    - 4 or 5 digits: the end of a phone;
    - 7 or 8 digits: the end of a phone only (the end of an ID number that long would
      confirm a birth day: an oracle for rebuilding masked numbers);
    - latin letters: pinyin initials of the name (``wxm`` finds 王秀梅);
    - anything else: part of the name.
    """
    text = "".join(text.split()).upper()
    if not text:
        return None
    if whole_id_number(text):
        return Q(id_digest=id_digest(text))
    if len(text) == 11 and text.isdigit() and text.startswith("1"):
        return Q(phone=text)
    if text[:-1].isdigit() and (text[-1].isdigit() or text[-1] == "X") and len(text) == 6:
        return Q(id_last6_digest=last6_digest(text)) | Q(phone__endswith=text)
    if text.isdigit() and len(text) in (4, 5, 7, 8):
        return Q(phone__endswith=text)
    if text.isascii() and text.isalpha():
        return Q(name_initials__contains=" " + text.lower())
    return Q(name__contains=text) | Q(phone__contains=text)


def whole_id_number(text: str) -> str | None:
    """``text`` normalised if it is a whole ID number (18 characters, or 15 digits) as the
    search box takes one, else None: such a search reads who holds the number, and is
    audited (:func:`yibao.registry.services.person_search_record`)."""
    text = normalise(text)
    if len(text) in (15, 18) and text[:-1].isdigit() and (text[-1].isdigit() or text[-1] == "X"):
        return text
    return None


def village_list(*, actor: Any) -> QuerySet[Village]:
    return villages_in_scope(actor).select_related("township").order_by("township_id", "seq")


ID_LOOKUP_CHUNK = 500


def persons_by_id_number(
    numbers: Iterable[str], *, among: QuerySet[Person] | None = None
) -> dict[str, Person]:
    """The registered persons among ``numbers``, keyed by the normalised number, found
    through the blind index (the numbers are stored encrypted). Not scoped: ``among``
    narrows the query (a township, ``select_related``), and the caller checks scope."""
    key = current_key()
    wanted = {id_digest(number, key=key): normalise(number) for number in numbers if number}
    return persons_by_digest(wanted, among=among)


def persons_by_digest(
    wanted: Mapping[str, str], *, among: QuerySet[Person] | None = None
) -> dict[str, Person]:
    """:func:`persons_by_id_number` for numbers whose blind index the caller has made
    already (``wanted``: digest -> normalised number, from
    :func:`~yibao.registry.idcrypto.id_number_fields`)."""
    queryset = Person.objects.all() if among is None else among
    # Which are registered first, without model objects (a sheet's rows are mostly new).
    digests = sorted(present(Person, "id_digest", wanted))
    found: dict[str, Person] = {}
    for start in range(0, len(digests), ID_LOOKUP_CHUNK):
        for person in queryset.filter(id_digest__in=digests[start : start + ID_LOOKUP_CHUNK]):
            found[wanted[person.id_digest]] = person
    return found


def id_number_models() -> list[type[IdNumberAtRest]]:
    """Every model that stores ID numbers (encrypted): persons, the departments' lists."""
    return [model for model in apps.get_models() if issubclass(model, IdNumberAtRest)]


@dataclass(frozen=True, slots=True)
class KeyCheck:
    rows: int
    unreadable: list[tuple[str, int]]  # (table, id) of each row the key cannot open


def field_key_check(*, key: FieldKey | None = None) -> KeyCheck:
    """Open every stored ID number with ``key`` (the key in force): a ciphertext changed in
    the database, or written under another key, is named by its table and id. For the
    server's console, not scoped."""
    key = key or current_key()
    unreadable: list[tuple[str, int]] = []
    count = 0
    for model in id_number_models():
        stored = model.objects.order_by("pk").values_list("pk", "id_cipher", "id_digest")
        for pk, cipher, digest in stored.iterator(chunk_size=2000):
            count += 1
            try:
                id_number_decrypt(cipher, digest, key=key)
            except IdNumberUnreadable:
                unreadable.append((model._meta.verbose_name, pk))
    return KeyCheck(rows=count, unreadable=unreadable)
