"""Pinyin initials of a name, so that a collector can type ``wxm`` for 王秀梅 (pypinyin)."""

from __future__ import annotations

import itertools

from pypinyin import Style, pinyin

MAX_READINGS = 8


def name_initials(name: str) -> str:
    """Every reading's initials, each after a space: 曾小明 -> ``" zxm cxm"``.

    A polyphonic character (曾 zeng/ceng, 单 shan/dan) gives one entry per reading, at most
    ``MAX_READINGS`` in all; characters without pinyin (letters, digits) are kept as typed.
    Stored with the person; searching for ``" " + typed`` as a substring matches a prefix.
    """
    letters = [
        sorted({reading[:1].lower() for reading in readings if reading}) or [""]
        for readings in pinyin(name.strip(), style=Style.FIRST_LETTER, heteronym=True)
    ]
    variants = []
    for combo in itertools.islice(itertools.product(*letters), MAX_READINGS):
        variants.append("".join(combo))
    return "".join(" " + v for v in dict.fromkeys(variants) if v)
