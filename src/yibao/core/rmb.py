"""Amounts in Chinese capital numerals, as a receipt writes them (人民币叁佰伍拾元整)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
GROUP_UNITS = ("", "万", "亿", "万亿")


def _group(n: int) -> str:
    """0 < n < 10000 in capitals, inner zeros written once (1010 -> 壹仟零壹拾)."""
    text, pending_zero = "", False
    for size, unit in SMALL_UNITS:
        digit = n // size % 10
        if digit == 0:
            pending_zero = pending_zero or bool(text)
            continue
        if pending_zero:
            text += "零"
            pending_zero = False
        text += DIGITS[digit] + unit
    return text


def _integer(n: int) -> str:
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    text, pending_zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            pending_zero = bool(text)
            continue
        if text and (pending_zero or group < 1000):
            text += "零"
        text += _group(group) + GROUP_UNITS[index]
        pending_zero = False
    return text


def amount_in_words(amount: Decimal) -> str:
    """``Decimal("350.00")`` -> ``人民币叁佰伍拾元整``; ``Decimal("10.05")`` -> ``人民币壹拾元零伍分``.

    Two decimals (half up, as money is printed); a negative amount (a reversal) is 负.
    """
    fen_total = int((abs(amount) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    sign = "负" if amount < 0 else ""
    if fen_total == 0:
        return "人民币零元整"
    text = _integer(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        return f"人民币{sign}{text}整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += DIGITS[fen] + "分"
    return f"人民币{sign}{text}"
