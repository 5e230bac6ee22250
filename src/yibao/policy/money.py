"""Money as ``Decimal``: parsed from strings or integers, never from floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

CENT = Decimal("0.01")
ZERO = Decimal("0")


def to_decimal(value: object) -> Decimal:
    """Parse a money or percentage value; floats are refused because they are inexact."""
    if isinstance(value, (bool, float)):
        raise ValueError(f'金额或比例不得写成浮点数（{value!r}），请写成字符串，例如 "350.00"')
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").removesuffix("元").removesuffix("%")
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"无法识别的金额或比例：{value!r}") from None
    raise ValueError(f"无法识别的金额或比例：{value!r}")


def fmt_money(value: Decimal) -> str:
    """Two decimal places, as a clerk writes amounts: ``350.00``."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def fmt_plain(value: Decimal) -> str:
    """A decimal without trailing zeros: ``90``, ``0.5``."""
    normalized = value.normalize()
    return format(normalized, "f")


Money = Annotated[Decimal, BeforeValidator(to_decimal), PlainSerializer(fmt_money, return_type=str)]
Percent = Annotated[
    Decimal, BeforeValidator(to_decimal), PlainSerializer(fmt_plain, return_type=str)
]
