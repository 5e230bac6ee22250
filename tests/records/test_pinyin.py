"""Pinyin initials for finding a person by typing ``wxm``."""

from __future__ import annotations

from yibao.registry.pinyin import name_initials


def test_each_character_of_a_name_gives_every_reading_even_where_the_name_reads_as_a_word():
    # 曾经 as a word is ceng jing; as a name 曾 is the surname Zeng. Both are kept.
    assert name_initials("曾经") == " cj zj"
    assert name_initials("王秀梅") == " wxm yxm"  # pypinyin lists a y reading of 王 too


def test_letters_and_digits_in_a_name_give_their_first_character():
    assert name_initials("居民1234") == " jm1"
    assert name_initials("李A小") == " lax"
