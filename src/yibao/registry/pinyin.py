"""Pinyin initials of a name, so that a collector can type ``wxm`` for 王秀梅 (pypinyin)."""

from __future__ import annotations

import itertools
from functools import lru_cache

from pypinyin import Style, pinyin

MAX_READINGS = 8


@lru_cache(maxsize=65536)
def _letters(char: str) -> tuple[str, ...]:
    """The initials of every reading of one character; empty for a character without pinyin."""
    readings = pinyin(char, style=Style.FIRST_LETTER, heteronym=True, errors=lambda _: [""])
    return tuple(sorted({r[:1].lower() for item in readings for r in item if r}))


def name_initials(name: str) -> str:
    """Every reading's initials, each after a space: 曾小明 -> ``" zxm cxm"``.

    Each character is read on its own (a name is not a word: 曾 in 曾经 is ceng, in a
    surname zeng), so a polyphonic character (曾 zeng/ceng, 单 shan/dan) gives one entry per
    reading, at most ``MAX_READINGS`` in all; a run of characters without pinyin (letters,
    digits) gives its first one as typed. Stored with the person; searching for
    ``" " + typed`` as a substring matches a prefix. Readings are kept per character, so
    an import of many names looks each one up once.
    """
    letters: list[tuple[str, ...]] = []
    run = False  # inside a run of characters without pinyin
    for char in name.strip():
        found = _letters(char)
        if found:
            letters.append(found)
            run = False
        elif not run:
            letters.append((char.lower(),))
            run = True
    variants = [
        "".join(combo) for combo in itertools.islice(itertools.product(*letters), MAX_READINGS)
    ]
    return "".join(" " + v for v in dict.fromkeys(variants) if v)
