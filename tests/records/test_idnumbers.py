import datetime as dt

import pytest
from stdnum.cn import ric

from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number
from yibao.registry.idnumbers import parse_id_number
from yibao.registry.models import Person

from . import factories as f

RESIDENT = Person.IdType.RESIDENT_ID


def with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def test_a_valid_resident_id_gives_birth_date_and_sex():
    number = with_check_digit("50022220000101123")  # 綦江县 500222, in force 1997-2011
    parsed = parse_id_number(RESIDENT, number)
    assert parsed.birth_date == dt.date(2000, 1, 1)
    assert parsed.sex == Person.Sex.MALE
    assert parsed.warnings == ()


def test_an_even_order_digit_means_female():
    number = with_check_digit("50022219900101124")
    assert parse_id_number(RESIDENT, number).sex == Person.Sex.FEMALE


def test_a_wrong_check_digit_is_refused_with_the_rule_named():
    number = with_check_digit("50022219900101123")
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")
    with pytest.raises(ApplicationError) as error:
        parse_id_number(RESIDENT, wrong, name="李四")
    assert error.value.code == "invalid_id_number"
    assert "李四" in error.value.message and "校验码" in error.value.message
    assert wrong not in error.value.message  # only the masked number is shown


def test_a_birth_date_that_is_not_on_the_calendar_is_refused_even_with_a_good_checksum():
    number = with_check_digit("50022219900230123")
    with pytest.raises(ApplicationError) as error:
        parse_id_number(RESIDENT, number)
    assert error.value.code == "invalid_id_number"
    assert "不是真实日期" in error.value.message


def test_a_future_birth_date_is_refused():
    number = with_check_digit("50022220990101123")
    with pytest.raises(ApplicationError):
        parse_id_number(RESIDENT, number, today=dt.date(2022, 12, 5))


def test_a_historical_chongqing_area_code_is_accepted_without_a_warning_where_stdnum_rejects_it():
    # 510225 (江津县, Sichuan, 1983-1992): a number keeps the code it was first issued under.
    number = with_check_digit("51022520010101123")
    assert not ric.is_valid(number)  # stdnum's validate() would turn this resident away
    parsed = parse_id_number(RESIDENT, number)
    assert parsed.birth_date == dt.date(2001, 1, 1)
    assert parsed.warnings == ()


def test_a_lower_case_x_check_digit_is_normalised():
    body = next(
        f"5002221990010{i:04d}"
        for i in range(1000, 9999)
        if ric.calc_check_digit(f"5002221990010{i:04d}0") == "X"
    )
    assert parse_id_number(RESIDENT, body + "x").number == body + "X"


def test_a_short_number_is_refused():
    with pytest.raises(ApplicationError) as error:
        parse_id_number(RESIDENT, "50022219900101")
    assert "18位" in error.value.message


def test_a_hong_kong_macau_taiwan_permit_must_carry_its_prefix():
    with pytest.raises(ApplicationError):
        parse_id_number(Person.IdType.HKMT_RESIDENCE_PERMIT, f.id_number())
    parsed = parse_id_number(
        Person.IdType.HKMT_RESIDENCE_PERMIT, with_check_digit("81000019850203456")
    )
    assert parsed.birth_date == dt.date(1985, 2, 3)


def test_an_old_foreigner_permanent_residence_number_is_accepted_without_a_birth_date():
    parsed = parse_id_number(Person.IdType.FOREIGN_PERMANENT, "USA110085050101")
    assert parsed.birth_date is None


def test_masking_keeps_the_area_code_and_the_last_four_characters():
    assert mask_id_number("500222199001011234") == "500222********1234"
    assert mask_id_number("") == ""
