"""Masking of ID numbers for lists, exports, audit records and logs."""

from __future__ import annotations

MASK_FIELDS = frozenset({"id_number"})
# Stored forms of an ID number (yibao.registry.idcrypto): an audit snapshot shows the masked
# number (under ``id_number``) instead of the ciphertext, and never the blind indexes.
ENCRYPTED_FIELDS = {"id_cipher": "id_number"}
BLIND_INDEX_FIELDS = frozenset({"id_digest", "id_last6_digest"})


def mask_id_number(number: str | None, *, keep_last: int = 4) -> str:
    """``500222199001011234`` -> ``500222********1234``; short numbers keep only the last 4.

    The eight hidden digits are the birth date: a list that shows this mask must not show
    the birth date, and about 4,000 dates fit the shown check digit. A list that also shows
    an age group (新生儿 / 未成年 ...) must keep fewer digits (``keep_last=2``): beside
    "新生儿" the four-digit mask leaves about 33 candidates, the two-digit one about 3,300.
    """
    if not number:
        return ""
    if len(number) >= 14:
        return number[:6] + "*" * (len(number) - 6 - keep_last) + number[-keep_last:]
    if len(number) > keep_last:
        return "*" * (len(number) - keep_last) + number[-keep_last:]
    return "*" * len(number)


def mask_name(name: str | None) -> str:
    """A name as a public notice shows it: ``王秀梅`` -> ``王*梅``, ``欧阳秀梅`` -> ``欧**梅``,
    ``王梅`` -> ``王*``; one character stays as it is."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
