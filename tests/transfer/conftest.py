"""Fixtures for import and export tests: the campaign date, a township with users, sheets.

Areas, users and valid ID numbers come from the record tests' factories.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from tests.records import factories as f
from yibao.collection.models import StaffMember

HEADERS = (
    "户号",
    "姓名",
    "公民身份号码",
    "性别",
    "出生日期",
    "联系电话",
    "户籍村（社区）",
    "居住村（社区）",
    "与户主关系",
    "身份类别",
    "认定部门",
)


@pytest.fixture(autouse=True)
def campaign_day(settings):
    settings.YIBAO_TODAY = f.CAMPAIGN_DAY.isoformat()
    return f.CAMPAIGN_DAY


def make_town() -> SimpleNamespace:
    """三江街道 with three villages, two collectors, the township office and the district bureau."""
    villages = f.area()
    sanhe, dashan, wuli = villages["三河街社区"], villages["大山村"], villages["五里村"]
    township = sanhe.township
    return SimpleNamespace(
        sanhe=sanhe,
        dashan=dashan,
        wuli=wuli,
        township=township,
        district=township.district,
        sanhe_collector=f.user("sanhe", villages=(sanhe,)),
        dashan_collector=f.user("dashan", villages=(dashan,)),
        office=f.user("office", role=StaffMember.Role.TOWNSHIP, township=township),
        bureau=f.user("bureau", role=StaffMember.Role.DISTRICT, district=township.district),
    )


@pytest.fixture
def town(db):
    return make_town()


def write_xlsx(path: Path, rows: list[list[object]], *, title: str | None = None) -> Path:
    """A workbook as a clerk makes it: optional title line, header, ID column as text."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "花名册"
    if title:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list[object]], *, encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def member(
    *,
    household: str,
    name: str,
    number: str,
    village: str = "三河街社区",
    relation: str = "户主",
    phone: str = "13800000000",
    identity: str = "",
    department: str = "",
) -> list[object]:
    sex = "男" if int(number[16]) % 2 else "女"
    birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    return [
        household,
        name,
        number,
        sex,
        birth,
        phone,
        village,
        "",
        relation,
        identity,
        department,
    ]


@pytest.fixture
def sheet_helpers():
    return SimpleNamespace(write_xlsx=write_xlsx, write_csv=write_csv, member=member)
