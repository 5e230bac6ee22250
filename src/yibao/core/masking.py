"""Masking of ID numbers for lists, exports, audit records and logs."""

from __future__ import annotations

MASK_FIELDS = frozenset({"id_number"})


def mask_id_number(number: str | None) -> str:
    """``500222199001011234`` -> ``500222********1234``; short numbers keep only the last 4."""
    if not number:
        return ""
    if len(number) >= 14:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    if len(number) > 4:
        return "*" * (len(number) - 4) + number[-4:]
    return "*" * len(number)
