"""The 1,000-row sheet of the issue's "Done when": 250 households, 50 bad rows of 7 kinds."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from stdnum.cn import ric

from tests.records import factories as f
from yibao.registry.models import Person

from .conftest import HEADERS, member

BAD_KINDS = (
    ["invalid_id_number"] * 10
    + ["duplicate_in_file"] * 8
    + ["unknown_village"] * 8
    + ["name_required"] * 6
    + ["birth_date_mismatch"] * 6
    + ["invalid_phone"] * 6
    + ["person_exists"] * 6
)
VILLAGES = ("三河街社区", "大山村", "五里村")
TITLE_ROWS = 1  # a title line above the header, as clerks write them
FIRST_DATA_ROW = TITLE_ROWS + 2


def resident_id(index: int, *, base: dt.date = dt.date(1940, 1, 1)) -> str:
    birth = base + dt.timedelta(days=index)
    body = f"500222{birth:%Y%m%d}{(index % 500) * 2 + 1:03d}"
    return body + ric.calc_check_digit(body + "0")


def broken(number: str) -> str:
    """The same number with a wrong check digit."""
    return number[:-1] + ("1" if number[-1] != "1" else "2")


@dataclass
class Sheet:
    rows: list[list[object]]  # header first
    bad: dict[int, str]  # sheet row number -> expected code
    good_ids: list[str]

    @property
    def kinds(self) -> Counter[str]:
        return Counter(self.bad.values())


def thousand_rows(*, offset: int = 0) -> Sheet:
    """1,000 persons in 250 households of four; every 15th member row is bad (50 in all).

    Heads are never bad, so each bad row is rejected for its own reason only. The
    ``person_exists`` rows carry ID numbers registered beforehand under other names.
    """
    rows: list[list[object]] = [list(HEADERS)]
    bad: dict[int, str] = {}
    good: list[str] = []
    kinds = iter(BAD_KINDS)
    member_slot = 0
    for household in range(250):
        village = VILLAGES[household % 3]
        number = f"HH{offset + household:05d}"
        for position in range(4):
            index = offset + household * 4 + position
            row_number = FIRST_DATA_ROW + household * 4 + position
            id_number = resident_id(index)
            row = member(
                household=number,
                name=f"居民{index}",
                number=id_number,
                village=village,
                relation="户主" if position == 0 else ("配偶" if position == 1 else "子女"),
            )
            if position > 0:
                member_slot += 1
                kind = next(kinds, None) if member_slot % 15 == 0 else None
                if kind:
                    bad[row_number] = kind
                    _spoil(row, kind, rows)
            if row_number not in bad:
                good.append(id_number)
            rows.append(row)
    assert len(rows) == 1001 and len(bad) == 50
    return Sheet(rows=rows, bad=bad, good_ids=good)


def _spoil(row: list[object], kind: str, rows: list[list[object]]) -> None:
    if kind == "invalid_id_number":
        row[2] = broken(str(row[2]))
    elif kind == "duplicate_in_file":
        # The ID number of an earlier household's head (a good row).
        heads = [r for r in rows[1:] if r[8] == "户主"]
        row[2:5] = heads[sum(1 for r in rows if r[1] == "重复行") % len(heads)][2:5]
        row[1] = "重复行"
    elif kind == "unknown_village":
        row[6] = "不存在村"
    elif kind == "name_required":
        row[1] = ""
    elif kind == "birth_date_mismatch":
        row[4] = "1999-09-09"
    elif kind == "invalid_phone":
        row[5] = "138000"
    elif kind == "person_exists":
        pass  # registered under another name by register_conflicts()


def register_conflicts(sheet: Sheet) -> None:
    """Register the ``person_exists`` rows' ID numbers beforehand, under other names."""
    villages = f.area()
    for row_number, kind in sheet.bad.items():
        if kind == "person_exists":
            number = str(sheet.rows[row_number - FIRST_DATA_ROW + 1][2])
            f.person(villages["五里村"], name="另一个人", number=number)
    assert Person.objects.filter(name="另一个人").count() == 6
