"""ID number validation (GB 11643) and what can be derived from an 18-character number.

The checksum comes from python-stdnum (``stdnum.cn.ric.calc_check_digit``). Its
``validate()`` is deliberately not the gate: it also requires the area code to have been in
force in the birth year, which rejects real people (a number keeps the code of the place
where it was first issued; 500110 綦江区 exists since 2011 and is on the numbers of people
born long before). A checksum or date error is a rejection; an area code is only a warning,
and only when it never existed: :func:`area_code_known`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric

from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number

from .idcrypto import normalise
from .models import Person

IdType = Person.IdType

_EIGHTEEN = re.compile(r"^\d{17}[\dX]$")
_OLD_FOREIGN_PERMANENT = re.compile(r"^[A-Z]{3}\d{12}$")
_HKMT_PREFIXES = ("810000", "820000", "830000")
# Numbers whose first six digits are no area code: HKMT permits, the 2023 foreigner card.
_NO_AREA_CODE = (*_HKMT_PREFIXES, "9")
_MALE, _FEMALE = Person.Sex.MALE, Person.Sex.FEMALE


@dataclass(frozen=True, slots=True)
class ParsedId:
    number: str  # normalised (upper-case X, no spaces)
    birth_date: dt.date | None
    sex: str | None  # Person.Sex value
    warnings: tuple[str, ...] = ()


@lru_cache(maxsize=8192)
def area_code_known(code: str) -> bool:
    """Whether the six-digit county-level ``code`` was ever assigned, current or historical.

    Two sources: python-stdnum's table of codes with the years each was in force (compiled
    from the Ministry of Civil Affairs' code lists, 1980 onwards; Sichuan's 5102xx codes of
    pre-1997 Chongqing are there), and the statistical division codes shipped with the
    project (:mod:`yibao.intake.divisions`, Chongqing, 2023). Answers are kept per code
    (a few thousand codes exist; an import asks once per row).
    """
    from yibao.intake.divisions import county_codes

    if code in county_codes():
        return True
    return any("county" in props for _, props in numdb.get("cn/loc").info(code))


def _invalid(number: str, reason: str, name: str = "") -> ApplicationError:
    who = f"{name}（{mask_id_number(number)}）" if name else mask_id_number(number)
    return ApplicationError(
        "invalid_id_number",
        f"{who}：证件号码无效，{reason}",
        id_number=mask_id_number(number),
        reason=reason,
    )


def _parse_gb11643(number: str, name: str, *, today: dt.date | None) -> ParsedId:
    if len(number) != 18:
        raise _invalid(number, f"应为18位，实际{len(number)}位", name)
    if not _EIGHTEEN.match(number):
        raise _invalid(number, "前17位须为数字，末位为数字或X", name)
    if ric.calc_check_digit(number) != number[-1]:
        raise _invalid(number, "校验码不符（GB 11643）", name)
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _invalid(number, f"出生日期{number[6:14]}不是真实日期", name) from None
    if birth.year < 1890 or (today is not None and birth > today):
        raise _invalid(number, f"出生日期{birth.isoformat()}不合理", name)
    sex = _MALE if number[16] in "13579" else _FEMALE
    warnings: tuple[str, ...] = ()
    if not number.startswith(_NO_AREA_CODE) and not area_code_known(number[:6]):
        warnings = (f"地区码{number[:6]}不是任何时期的县级行政区划代码，请核实",)
    return ParsedId(number=number, birth_date=birth, sex=sex, warnings=warnings)


def parse_id_number(
    id_type: str, number: str, *, name: str = "", today: dt.date | None = None
) -> ParsedId:
    """Validate ``number`` for ``id_type``; raise ``ApplicationError('invalid_id_number')``.

    Resident IDs and residence permits (which carry the resident ID number), Hong Kong /
    Macau / Taiwan residence permits (prefix 810000/820000/830000) and the 2023 foreigner
    permanent residence card (leading 9) are 18 characters with the GB 11643 checksum, and
    give birth date and sex. The older 15-character foreigner card (3 letters + 12 digits)
    gives neither.
    """
    number = normalise(number)
    if id_type in (IdType.RESIDENT_ID, IdType.RESIDENCE_PERMIT):
        return _parse_gb11643(number, name, today=today)
    if id_type == IdType.HKMT_RESIDENCE_PERMIT:
        if not number.startswith(_HKMT_PREFIXES):
            raise _invalid(number, "港澳台居民居住证号码应以810000、820000或830000开头", name)
        return _parse_gb11643(number, name, today=today)
    if id_type == IdType.FOREIGN_PERMANENT:
        if _OLD_FOREIGN_PERMANENT.match(number):
            return ParsedId(number=number, birth_date=None, sex=None)
        if len(number) == 18 and number.startswith("9"):
            return _parse_gb11643(number, name, today=today)
        raise _invalid(
            number, "外国人永久居留身份证号码应为3位字母加12位数字，或以9开头的18位", name
        )
    raise ApplicationError("invalid_id_type", f"未知的证件类型“{id_type}”", id_type=id_type)
