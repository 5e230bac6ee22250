"""Names and phone numbers that cannot hurt: normalised, or refused in Chinese."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.core.errors import ApplicationError
from yibao.registry.models import Person
from yibao.registry.services import person_register
from yibao.registry.validation import clean_name, clean_phone

from . import factories as f


def test_a_name_is_trimmed_and_composed_to_nfc():
    # "e" + COMBINING ACUTE ACCENT becomes the one character U+00E9.
    assert clean_name("  Andre\u0301 ") == "Andr\u00e9"
    assert clean_name("阿依古丽·买买提") == "阿依古丽·买买提"


@pytest.mark.parametrize(
    ("name", "codepoint"),
    [
        ("张\u200b三", "U+200B"),
        ("张三\x00", "U+0000"),
        ("\u202e三张", "U+202E"),
        ("张\n三", "U+000A"),
    ],
)
def test_a_name_with_an_invisible_character_is_refused_naming_the_character(name, codepoint):
    with pytest.raises(ApplicationError) as refused:
        clean_name(name)
    assert refused.value.code == "invalid_name"
    assert codepoint in refused.value.message and "控制或格式字符" in refused.value.message


def test_a_name_of_fifty_one_characters_is_refused_as_too_long():
    assert clean_name("张" * 50) == "张" * 50
    with pytest.raises(ApplicationError) as refused:
        clean_name("张" * 51)
    assert refused.value.code == "invalid_name"
    assert "最多50个字" in refused.value.message


@pytest.mark.parametrize(
    "phone", ["13800138000", "023-61234567", "02361234567", "+86 139 2345 6789"]
)
def test_chinese_mobile_and_landline_numbers_are_accepted(phone):
    assert clean_phone(phone) == phone.replace(" ", "")


@pytest.mark.parametrize("phone", ["12345", "1380013800", "61234567", "+1 202 555 0100", "=1+1"])
def test_other_phone_numbers_are_refused(phone):
    with pytest.raises(ApplicationError) as refused:
        clean_phone(phone)
    assert refused.value.code == "invalid_phone"
    assert "手机号码" in refused.value.message


def test_every_number_the_mobile_shortcut_accepts_phonenumbers_accepts_too():
    """The shortcut skips parsing for plain 11-digit mobiles; phonenumbers is the judge."""
    import random

    import phonenumbers

    from yibao.registry.validation import _MOBILE

    generator = random.Random(11643)
    numbers = [f"1{generator.randrange(10**10):010d}" for _ in range(20000)]
    numbers += ["11234567890", "12345678901", "17900001234", "16000001234", "10010000000"]
    for number in numbers:
        if _MOBILE.match(number):
            parsed = phonenumbers.parse(number, "CN")
            assert phonenumbers.is_valid_number(parsed), number
            assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    # It does take the usual mobiles, and leaves carrier prefixes (11x, 12x, 179x) alone.
    assert _MOBILE.match("13800138000") and _MOBILE.match("19912345678")
    assert not any(_MOBILE.match(n) for n in ("11234567890", "12345678901", "17900001234"))


def test_the_registry_refuses_a_control_character_in_a_name_and_writes_nothing(town):
    with pytest.raises(ApplicationError) as refused:
        person_register(
            actor=town.office, hukou_village=town.sanhe, id_number=f.id_number(), name="李\x07四"
        )
    assert refused.value.code == "invalid_name"
    assert not Person.objects.exists()


def test_a_printable_name_holds_no_character_of_a_refused_category():
    """clean_name looks at each character's category only when ``str.isprintable()`` says
    the name has an unprintable one: every character of a refused category is unprintable
    (checked over all of Unicode)."""
    import sys
    import unicodedata

    from yibao.registry.validation import _FORBIDDEN_CATEGORIES

    printable_but_refused = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if chr(code).isprintable() and unicodedata.category(chr(code)) in _FORBIDDEN_CATEGORIES
    ]
    assert printable_but_refused == []


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
@settings(max_examples=500, deadline=None)
def test_clean_name_refuses_exactly_the_names_with_a_character_of_a_refused_category(text):
    import unicodedata

    from yibao.registry.validation import _FORBIDDEN_CATEGORIES

    name = unicodedata.normalize("NFC", text).strip()
    refused_char = next((c for c in name if unicodedata.category(c) in _FORBIDDEN_CATEGORIES), None)
    try:
        cleaned = clean_name(text)
    except ApplicationError as error:
        if not name:
            assert error.code == "name_required"
        elif refused_char is not None:
            assert error.params["codepoint"] == f"U+{ord(refused_char):04X}"
        else:
            assert error.code == "invalid_name" and len(name) > 50
    else:
        assert refused_char is None and cleaned == name


def _phone_by_phonenumbers(phone: str) -> bool:
    """Whether phonenumbers itself takes ``phone`` as a Chinese mobile or landline number."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        return False
    return (
        phonenumbers.region_code_for_number(parsed) == "CN"
        and phonenumbers.is_valid_number(parsed)
        and phonenumbers.number_type(parsed)
        in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    )


@given(st.from_regex(r"\A1[0-9]{10}\Z") | st.from_regex(r"\A[0-9]{11}\Z"))
@settings(max_examples=3000, deadline=None)
def test_an_eleven_digit_number_is_accepted_exactly_when_phonenumbers_accepts_it(phone):
    """The shortcut for plain 11-digit mobiles gives phonenumbers' own answer."""
    try:
        accepted = clean_phone(phone) == phone
    except ApplicationError:
        accepted = False
    assert accepted == _phone_by_phonenumbers(phone)
