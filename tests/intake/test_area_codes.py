"""ID numbers' area codes warn only for codes that never existed (issue 12, point 2)."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import ric

from yibao.registry.idnumbers import area_code_known, parse_id_number


def number(area: str, birth: str) -> str:
    body = f"{area}{birth}123"
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    ("area", "birth", "place"),
    [
        ("500110", "19490301", "綦江区, a code of 2011, on a number of someone born 1949"),
        ("510225", "19600101", "四川省江津县, Chongqing before 1997"),
        ("512201", "19550101", "四川省万县市, before 1992"),
        ("510222", "19450101", "四川省巴县, before 1994"),
        ("500222", "19700101", "綦江县, 1997-2011"),
        ("500242", "19800101", "酉阳, current"),
    ],
)
def test_current_and_historical_area_codes_give_no_warning(area, birth, place):
    parsed = parse_id_number("resident_id", number(area, birth), today=dt.date(2022, 12, 5))
    assert parsed.warnings == (), place


@pytest.mark.parametrize("area", ["500199", "519999", "509901"])
def test_a_code_that_never_existed_is_a_warning_not_a_rejection(area):
    parsed = parse_id_number("resident_id", number(area, "19700101"), today=dt.date(2022, 12, 5))
    assert parsed.warnings == (f"地区码{area}不是任何时期的县级行政区划代码，请核实",)


def test_the_shipped_division_file_knows_every_chongqing_county():
    assert area_code_known("500110") and area_code_known("500156")
    assert not area_code_known("500199")
