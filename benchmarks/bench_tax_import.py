"""Tax-list import on the demo database: rows per second for a first import and a repeat.

    rm -rf /tmp/d && YIBAO_DATA_DIR=/tmp/d .venv/bin/yibao demo --no-serve --residents 6000
    YIBAO_DATA_DIR=/tmp/d .venv/bin/python benchmarks/bench_tax_import.py [ROWS]

Writes a GBK .csv of ROWS (default 1,000) unpaid, enrollable residents paying tier 1 online
on the day before the campaign date, then imports it twice as the township office
(``sanjiang``), and prints the baseline beside it: reading the file alone (``read_table``).
It writes to the demo database: run it on a copy.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    os.environ.setdefault("YIBAO_TODAY", "2022-12-05")
    from yibao.manage_cli import setup_django

    setup_django()
    from django.contrib.auth import get_user_model
    from django.test.utils import override_settings

    from yibao.collection.models import Enrollment
    from yibao.collection.selectors import campaign_policy
    from yibao.collection.services import _quote
    from yibao.funds.tax import tax_payments_import
    from yibao.policy import get_policy
    from yibao.registry.models import OtherInsurance, Person
    from yibao.transfer.reading import read_table

    office = get_user_model().objects.get(username="sanjiang")
    engine = get_policy(campaign_policy(actor=office) or "")
    day = dt.date(2022, 12, 4)
    paid = Enrollment.objects.filter(benefit_year=engine.benefit_year, status="paid")
    other = OtherInsurance.objects.values("person_id")
    people = (
        Person.objects.filter(status="alive")
        .exclude(pk__in=paid.values("person_id"))
        .exclude(pk__in=other)
        .order_by("pk")[:rows]
    )
    path = Path(tempfile.mkdtemp()) / "税务缴费明细.csv"
    with path.open("w", encoding="gbk", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "证件号码", "缴费金额", "缴费渠道", "缴费时间", "电子税票号码"])
        for n, person in enumerate(people, start=1):
            quote = _quote(person=person, policy=engine, tier=1, population="resident", on=day)
            writer.writerow(
                [
                    person.name,
                    person.id_number,
                    quote.personal,
                    "微信",
                    f"{day} 10:00:00",
                    f"B{n:08d}",
                ]
            )
    start = time.perf_counter()
    table = read_table(path)
    read = time.perf_counter() - start
    with override_settings(YIBAO_TODAY="2022-12-05"):
        for label in ("first import", "same file again"):
            start = time.perf_counter()
            report = tax_payments_import(actor=office, path=path)
            took = time.perf_counter() - start
            print(
                f"{label:16} {report.rows:6} rows {took:7.2f} s {report.rows / took:8.0f} rows/s"
                f"  ({report.summary()})"
            )
    print(
        f"{'baseline: read':16} {len(table.rows):6} rows {read:7.2f} s {len(table.rows) / read:8.0f} rows/s"
    )


if __name__ == "__main__":
    main()
