"""Plain-function factories for the record tests: areas, users, valid ID numbers, persons."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from decimal import Decimal

from django.contrib.auth import get_user_model
from stdnum.cn import ric

from yibao.collection.hardship import hardship_tags_refresh
from yibao.collection.models import StaffMember
from yibao.collection.village_people import village_people_registered
from yibao.registry.models import District, IdentityTag, Person, Township, Village
from yibao.registry.pinyin import name_initials

POLICY = "qijiang-sanjiang-2023"
YEAR = 2023
CAMPAIGN_DAY = dt.date(2022, 12, 5)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

_sequence = itertools.count(1)


def id_number(
    *,
    area: str = "500222",
    birth: dt.date | None = None,
    female: bool = False,
) -> str:
    """A new valid 18-character resident ID number (GB 11643 checksum from python-stdnum)."""
    seq = next(_sequence)
    birth = birth or dt.date(1950, 1, 1) + dt.timedelta(days=seq)
    order = (seq % 499) * 2 + (0 if female else 1)
    body = f"{area}{birth:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")


def area(*, villages: tuple[str, ...] = ("三河街社区", "大山村", "五里村")) -> dict[str, Village]:
    district, _ = District.objects.get_or_create(name="綦江区", defaults={"code": "500110"})
    township, _ = Township.objects.get_or_create(district=district, name="三江街道")
    return {
        name: Village.objects.get_or_create(township=township, name=name, defaults={"seq": i})[0]
        for i, name in enumerate(villages, start=1)
    }


def user(
    username: str,
    *,
    role: str = StaffMember.Role.COLLECTOR,
    villages: tuple[Village, ...] = (),
    township: Township | None = None,
    district: District | None = None,
    superuser: bool = False,
):
    account = get_user_model().objects.create_user(
        username=username, password=None, is_superuser=superuser
    )
    if not superuser:
        collector = StaffMember.objects.create(
            user=account, role=role, township=township, district=district
        )
        collector.villages.set(villages)
    return account


def admin():
    return user(f"admin{next(_sequence)}", superuser=True)


def person(
    village: Village,
    *,
    name: str = "张三",
    number: str | None = None,
    residence_village: Village | None = None,
    phone: str = "13800000000",
) -> Person:
    number = number or id_number()
    made = Person.objects.create(
        id_number=number,
        name=name,
        name_initials=name_initials(name),
        sex=Person.Sex.MALE if int(number[16]) % 2 else Person.Sex.FEMALE,
        birth_date=dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        phone=phone,
        hukou_village=village,
        residence_village=residence_village,
    )
    village_people_registered({village.pk: 1})  # as the registry services do
    return made


def tag(
    person: Person,
    key: str,
    *,
    department: str = "民政局",
    batch: str = "2022-11",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> IdentityTag:
    made = IdentityTag.objects.create(
        person=person,
        category_key=key,
        department=department,
        source_batch=batch,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    hardship_tags_refresh([person.pk])  # as the tag services do
    return made


def aware(day: dt.date, hour: int = 10) -> dt.datetime:
    """10 o'clock in Chongqing on ``day``."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def yuan(value: str) -> Decimal:
    return Decimal(value)
