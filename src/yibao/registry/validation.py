"""Checks on free text a clerk types: names and phone numbers.

Each check is a function over plain values that returns the cleaned value or raises
:class:`~yibao.core.errors.ApplicationError`; the registry services, the importer and the
API call the same functions, so a name refused at the counter is refused in a spreadsheet.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from yibao.core.errors import ApplicationError

NAME_MAX_LENGTH = 50
# Cc control, Cf format (zero-width, bidi overrides), Cs surrogates, Co private use,
# Cn unassigned, Zl/Zp line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_PHONE_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
)


def _mobile_fast_path() -> re.Pattern[str]:
    """Eleven digits that phonenumbers' own CN metadata classifies as a mobile number and
    as nothing it would refuse, without parsing: the mobile pattern, no carrier or
    national prefix that parsing would strip, and no other 11-digit number type (shared
    cost, premium, ...) that the classifier checks before mobile. Anything else takes the
    full path; the result is the same (``tests/records/test_input_validation.py``)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    assert metadata is not None and metadata.mobile.national_number_pattern
    others = [
        desc.national_number_pattern
        for desc in (
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
        )
        if desc is not None
        and desc.national_number_pattern
        and (not desc.possible_length or 11 in desc.possible_length)
    ]
    prefix = metadata.national_prefix_for_parsing or "(?!)"
    refused = "|".join(f"(?:{p})\\Z" for p in others) or "(?!)"
    return re.compile(
        rf"(?=[0-9]{{11}}\Z)(?!{prefix})(?!{refused})(?:{metadata.mobile.national_number_pattern})\Z",
        re.ASCII,
    )


_MOBILE = _mobile_fast_path()


def clean_name(value: str | None, *, what: str = "姓名") -> str:
    """``value`` in Unicode NFC without surrounding spaces; refuses an empty name
    (``name_required``), invisible or control characters and an over-long name
    (``invalid_name``)."""
    name = unicodedata.normalize("NFC", value or "").strip()
    if not name:
        raise ApplicationError("name_required", f"{what}不能为空")
    # str.isprintable() is False for every character of the forbidden categories (they
    # are all "Other" or "Separator"), so a printable name has none of them.
    for position, char in enumerate("" if name.isprintable() else name, start=1):
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ApplicationError(
                "invalid_name",
                f"{what}的第{position}个字符是不可见的控制或格式字符（U+{ord(char):04X}），"
                "请删除后重新填写",
                position=position,
                codepoint=f"U+{ord(char):04X}",
            )
    if len(name) > NAME_MAX_LENGTH:
        raise ApplicationError(
            "invalid_name",
            f"{what}过长：{len(name)}个字，最多{NAME_MAX_LENGTH}个字",
            length=len(name),
            max_length=NAME_MAX_LENGTH,
        )
    return name


def clean_phone(value: str | None) -> str:
    """A Chinese mobile (11 digits) or landline number (with its area code), as typed
    without spaces; empty stays empty. Refuses anything else (``invalid_phone``)."""
    phone = unicodedata.normalize("NFKC", value or "").strip().replace(" ", "")
    if not phone:
        return ""
    if _MOBILE.match(phone):
        return phone
    try:
        parsed = phonenumbers.parse(phone, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or phonenumbers.region_code_for_number(parsed) != "CN"
        or not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) not in _PHONE_TYPES
    ):
        shown = (
            phone
            if len(phone) <= 32 and phone.isprintable()
            else phone[:32].encode("unicode_escape").decode("ascii")
        )
        raise ApplicationError(
            "invalid_phone",
            f"联系电话“{shown}”不是有效的中国大陆手机号码（11位）或带区号的固定电话号码",
            phone=shown,
        )
    return phone
