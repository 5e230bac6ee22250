"""An attacker with a village collector's token on the demo township tries to rebuild ID
numbers from every list and export the collector can reach, and fails: each person keeps
at least 1,000 candidates (every number with a valid check digit consistent with what is
shown, the area code assumed known).

A candidate is a birth date between 1900-01-01 and the campaign date that, put between the
shown area code and the shown last four characters, gives the shown check digit. The lists
are read through the HTTP API (every page), the ledger through the API and the .xlsx export.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from typing import Any

import openpyxl
import pytest
from django.test import Client

from yibao.api.tokens import api_token_issue
from yibao.collection.models import StaffMember
from yibao.transfer.exports import ledger_export

pytestmark = pytest.mark.django_db

API = "/api/v1"
YEAR = 2023
WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # GB 11643
CHECK = "10X98765432"
FULL_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9X](?![0-9])")
MASKED = re.compile(r"^([0-9]{6})\*{8}([0-9]{3})([0-9X])$")
EARLIEST = dt.date(1900, 1, 1)


def _weighted(digits: str, offset: int) -> int:
    return sum(int(d) * WEIGHTS[offset + i] for i, d in enumerate(digits))


def _date_sums(until: dt.date) -> Counter[int]:
    """How many birth dates give each weighted sum (mod 11) of the eight date digits."""
    sums: Counter[int] = Counter()
    day = EARLIEST
    while day <= until:
        sums[_weighted(day.strftime("%Y%m%d"), 6) % 11] += 1
        day += dt.timedelta(days=1)
    return sums


def candidates(masked: str, birth_dates: set[dt.date], date_sums: Counter[int]) -> int:
    area, sequence, check = MASKED.match(masked).groups()
    known = (_weighted(area, 0) + _weighted(sequence, 14)) % 11
    wanted = {(CHECK.index(check) - known) % 11}  # date sums that give the check digit
    if birth_dates:  # a shown birth date leaves only itself, if it fits
        return sum(1 for d in birth_dates if (_weighted(d.strftime("%Y%m%d"), 6) % 11) in wanted)
    return sum(date_sums[s] for s in wanted)


def _birth_dates(row: dict[str, Any]) -> set[dt.date]:
    found = set()
    for key, value in row.items():
        if "birth" in key.lower() or "出生" in key:
            if isinstance(value, dt.date | dt.datetime):
                found.add(value if isinstance(value, dt.date) else value.date())
            elif value:
                found.add(dt.date.fromisoformat(str(value)[:10]))
    return found


def _pages(client: Client, url: str) -> list[dict[str, Any]]:
    items, offset = [], 0
    while True:
        page = client.get(url, {"limit": 200, "offset": offset}).json()
        items += page["items"]
        offset += 200
        if offset >= page["count"]:
            return items


def test_no_id_number_can_be_rebuilt_from_a_collector_s_lists_and_exports(demo, tmp_path):
    collector = StaffMember.objects.filter(role=StaffMember.Role.COLLECTOR).order_by("pk").first()
    user = collector.user
    client = Client(headers={"Authorization": f"Bearer {api_token_issue(actor=user).secret}"})
    shown: dict[int, dict[str, Any]] = defaultdict(lambda: {"masked": set(), "births": set()})
    texts: list[str] = []

    def take(person_id: int, row: dict[str, Any], masked_key: str) -> None:
        shown[person_id]["masked"].add(row[masked_key])
        shown[person_id]["births"] |= _birth_dates(row)

    villages = client.get(f"{API}/villages").json()
    assert villages
    for row in _pages(client, f"{API}/persons"):
        take(row["id"], row, "masked_id_number")
        texts.append(json.dumps(row))
    for village in villages:
        ledger = client.get(f"{API}/villages/{village['id']}/ledger", {"benefit_year": YEAR})
        texts.append(ledger.content.decode())
        for row in ledger.json()["rows"]:
            take(row["person_id"], row, "masked_id_number")
        path = tmp_path / f"{village['id']}.xlsx"
        ledger_export(actor=user, village=village["name"], benefit_year=YEAR, path=path)
        sheet = openpyxl.load_workbook(path).active
        headers = [cell.value for cell in sheet[3]]
        for values in sheet.iter_rows(min_row=4, values_only=True):
            texts.append(" ".join(str(v) for v in values if v is not None))
            row = dict(zip(headers, values, strict=False))
            masked = row.get("公民身份号码")
            if masked and MASKED.match(str(masked)):
                # The export names no person id; its rows are matched by the masked number.
                shown[("xlsx", masked)]["masked"].add(masked)
                shown[("xlsx", masked)]["births"] |= _birth_dates(row)
    for url in ("/progress", "/progress/channels", "/progress/daily", "/cash", "/me"):
        texts.append(client.get(f"{API}{url}").content.decode())

    assert not [m for t in texts for m in FULL_NUMBER.findall(t)], "a full ID number is shown"
    date_sums = _date_sums(demo.today)
    counts = {
        key: min(candidates(m, facts["births"], date_sums) for m in facts["masked"])
        for key, facts in shown.items()
    }
    assert len([k for k in counts if not isinstance(k, tuple)]) >= 20
    assert min(counts.values()) >= 1000, sorted(counts.items(), key=lambda kv: kv[1])[:5]
