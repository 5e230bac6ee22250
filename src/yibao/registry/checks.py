"""The checks of one person's fields, written once over plain values.

:func:`person_fields_check` is called by the single registration path
(``person_register``), the batch path (``household_register_many``) and the sheet importer
(``yibao.transfer.imports``), so a rule changed here changes everywhere. It needs no
database: uniqueness and scope are the services' business.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number

from .idnumbers import normalise, parse_id_number
from .models import Person
from .validation import clean_name, clean_phone

HEAD_RELATIONS = frozenset({"户主", "本人", "本人（户主）", "户主本人"})


@dataclass(frozen=True, slots=True)
class CheckedPerson:
    """A person's fields after the checks: normalised number, sex and birth date known."""

    id_number: str
    name: str
    sex: str
    birth_date: dt.date
    phone: str
    warnings: tuple[str, ...] = ()


def _refuse(code: str, who: str, reason: str, **params: object) -> ApplicationError:
    return ApplicationError(code, f"{who}：{reason}", person=who, reason=reason, **params)


def _who(name: str, number: str) -> str:
    """How a refusal names the person (made only when refusing: a check runs per row)."""
    return f"{name}（{mask_id_number(number)}）"


def is_head_relation(relation: str) -> bool:
    """Whether 与户主关系 ``relation`` marks the head of the household (户主 / 本人)."""
    return relation.replace("(", "（").replace(")", "）").strip() in HEAD_RELATIONS


def phone_check(phone: str, *, who: str = "") -> str:
    """``phone`` without spaces, or ``invalid_phone``: a Chinese mobile number or a
    landline number with its area code (:func:`~yibao.registry.validation.clean_phone`)."""
    try:
        return clean_phone(phone)
    except ApplicationError as error:
        raise _refuse(error.code, who or "联系电话", error.message) from None


def person_fields_check(
    *,
    id_type: str,
    id_number: str,
    name: str,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    phone: str = "",
    today: dt.date | None = None,
) -> CheckedPerson:
    """Check one person's fields; raise ``ApplicationError`` with ``params['reason']``.

    Codes: ``name_required``, ``invalid_name`` (control or format characters, too long),
    ``invalid_id_number``, ``invalid_id_type``, ``sex_mismatch``
    and ``birth_date_mismatch`` (a sex or birth date given beside an ID number that says
    otherwise), ``birth_date_required`` (a number that carries neither), ``invalid_phone``.
    """
    number = normalise(id_number)
    try:
        name = clean_name(name)
    except ApplicationError as error:
        reason = "未填写姓名" if error.code == "name_required" else error.message
        raise _refuse(error.code, f"证件号码{mask_id_number(number)}的人员", reason) from None
    parsed = parse_id_number(id_type, number, name=name, today=today)
    if parsed.sex and sex and parsed.sex != sex:
        raise _refuse(
            "sex_mismatch",
            _who(name, number),
            f"性别“{Person.Sex(sex).label}”与证件号码不符（号码第17位表示"
            f"{Person.Sex(parsed.sex).label}）",
        )
    if parsed.birth_date and birth_date and parsed.birth_date != birth_date:
        raise _refuse(
            "birth_date_mismatch",
            _who(name, number),
            f"出生日期{birth_date}与证件号码中的{parsed.birth_date}不符",
        )
    final_sex, final_birth = parsed.sex or sex, parsed.birth_date or birth_date
    if final_sex is None or final_birth is None:
        raise _refuse(
            "birth_date_required", _who(name, number), "该证件号码不含出生日期和性别，须另行填写"
        )
    try:
        phone = clean_phone(phone)
    except ApplicationError as error:
        raise _refuse(error.code, _who(name, number), error.message) from None
    return CheckedPerson(
        id_number=parsed.number,
        name=name,
        sex=final_sex,
        birth_date=final_birth,
        phone=phone,
        warnings=parsed.warnings,
    )
