"""Benchmark: 100,000 persons imported and 100,000 payments recorded, next to raw SQL.

Not a test. On a fresh database it

1. writes a clerk's sheet of N persons (households of four, 10% with a hardship identity)
   as .xlsx (or .csv);
2. inserts the same households, persons, identity tags, enrollments and payments with raw
   SQL (``executemany`` in one transaction) and times that, then removes them;
3. imports the sheet through ``yibao.transfer.imports.persons_import`` (every row checked,
   every person registered by the registry services and audited, one transaction) and
   records one payment per person through ``yibao.collection.services``: the first
   ``--single`` one call each (``payment_record``), the rest with ``payment_record_many``
   (one transaction each, amount checked against the policy engine's quote, audited),
   timing each, with a progress line;
4. prints rows/s for each path side by side.

SQLite (default): a fresh file in a temporary directory. PostgreSQL: when ``DATABASE_URL``
is set (``postgres://...``) a fresh database ``yibao_bench_<pid>`` is created on that server
and dropped afterwards.

    .venv/bin/python benchmarks/bench_ledger.py                 # 100,000 on SQLite
    DATABASE_URL=postgres://user@127.0.0.1/postgres .venv/bin/python benchmarks/bench_ledger.py
    .venv/bin/python benchmarks/bench_ledger.py --persons 10000 --format csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

POLICY = "qijiang-sanjiang-2023"
CAMPAIGN_DAY = dt.date(2022, 12, 5)
IDENTITIES = (("低保对象", "区民政局"), ("特困人员", "区民政局"), ("稳定脱贫人口", "区乡村振兴局"))
CHANNELS = ("wechat", "alipay", "yukuaiban", "unionpay", "cqrcb_app", "village_pos", "cash")
HEADERS = (
    "户号",
    "姓名",
    "公民身份号码",
    "联系电话",
    "户籍村（社区）",
    "与户主关系",
    "身份类别",
    "认定部门",
)
VILLAGES = 24


def progress_line(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"  {label}: {done}/{total} ({rate:,.0f} 行/秒)", file=sys.stderr, flush=True)


def _prepare_database(args: argparse.Namespace, workdir: Path) -> tuple[str, str | None]:
    """Point Django at a fresh database; return (description, database to drop after)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"yibao_bench_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = url.rpartition("/")
        os.environ["DATABASE_URL"] = f"{base}/{name}"
        return f"PostgreSQL（临时数据库 {name}）", name
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    return f"SQLite（{workdir / 'bench.sqlite3'}，WAL）", None


def _drop_database(name: str, url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def resident_id(index: int) -> str:
    from stdnum.cn import ric

    birth = dt.date(1940, 1, 1) + dt.timedelta(days=index % 28000)
    order = (index // 28000) * 2 + 1
    body = f"500222{birth:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")


def plan(persons: int, village_names: list[str]) -> list[dict[str, str]]:
    rows = []
    for index in range(persons):
        household, position = divmod(index, 4)
        identity = IDENTITIES[index % 3] if index % 10 == 7 else ("", "")
        rows.append(
            {
                "户号": f"B{household:06d}",
                "姓名": f"居民{index}",
                "公民身份号码": resident_id(index),
                "联系电话": f"138{index:08d}",
                "户籍村（社区）": village_names[household % len(village_names)],
                "与户主关系": "户主" if position == 0 else "子女",
                "身份类别": identity[0],
                "认定部门": identity[1],
            }
        )
    return rows


def write_sheet(rows: list[dict[str, str]], path: Path) -> None:
    if path.suffix == ".csv":
        with path.open("w", encoding="gbk", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS)
            writer.writerows([row[h] for h in HEADERS] for row in rows)
        return
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("花名册")
    sheet.append(["三江街道新增参保人员花名册（基准测试）"])
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append([row[h] for h in HEADERS])
    workbook.save(path)


def setup_town() -> tuple[object, list[str]]:
    from django.contrib.auth import get_user_model

    from yibao.collection.models import Collector
    from yibao.registry.models import District, Township, Village

    district = District.objects.create(name="綦江区", code="500110")
    township = Township.objects.create(district=district, name="三江街道")
    names = [f"基准{i:02d}村" for i in range(1, VILLAGES + 1)]
    for seq, name in enumerate(names, start=1):
        Village.objects.create(township=township, name=name, seq=seq)
    office = get_user_model().objects.create_user(username="bench_office", password="x")
    Collector.objects.create(user=office, role=Collector.Role.TOWNSHIP, township=township)
    return office, names


def amounts() -> dict[str, Decimal]:
    """The personal amount per identity on the campaign day, from the policy engine."""
    from yibao.policy import IdentityClaim, QuoteRequest, get_policy

    engine = get_policy(POLICY)
    result = {}
    for key in ("", *(i for i, _ in IDENTITIES)):
        claims = (IdentityClaim(key, None),) if key else ()
        quote = engine.quote(QuoteRequest(paid_on=CAMPAIGN_DAY, tier=1, identities=claims))
        result[key] = quote
    return result


# --- raw SQL ------------------------------------------------------------------------------


def raw_insert(rows: list[dict[str, str]], office: object) -> tuple[float, int]:
    """The same records by hand: executemany in one transaction. Returns (seconds, rows).

    The timed part is the database work plus building the parameter rows that need keys
    generated on the way (person, enrollment, payment); nothing is validated or audited.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from yibao.collection.models import Collector, Enrollment, Payment
    from yibao.registry.models import Household, IdentityTag, Person, Village

    villages = {v.name: v.pk for v in Village.objects.all()}
    collector_id = Collector.objects.get(user=office).pk
    quotes = amounts()
    now = timezone.now()
    paid_at = dt.datetime.combine(CAMPAIGN_DAY, dt.time(10), tzinfo=dt.UTC)
    qn = connection.ops.quote_name

    def prep(model, field_names, objects):
        fields = [model._meta.get_field(n) for n in field_names]
        sql = "INSERT INTO {} ({}) VALUES ({})".format(
            qn(model._meta.db_table),
            ", ".join(qn(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        params = [
            tuple(f.get_db_prep_save(getattr(o, f.attname), connection) for f in fields)
            for o in objects
        ]
        return sql, params

    # Parameters are prepared before the clock starts: only the database work is timed.
    households = {}
    for row in rows:
        households.setdefault(
            row["户号"],
            Household(
                village_id=villages[row["户籍村（社区）"]], number=row["户号"], created_at=now
            ),
        )
    hh_sql, hh_params = prep(
        Household, ["village", "number", "address", "created_at"], households.values()
    )
    person_fields = [
        "id_type", "id_number", "name", "sex", "birth_date", "phone", "household",
        "relation_to_head", "hukou_village", "status", "id_warnings", "created_at", "updated_at",
    ]  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(hh_sql, hh_params)
        cursor.execute(f"SELECT id, number FROM {qn(Household._meta.db_table)}")
        household_ids = {number: pk for pk, number in cursor.fetchall()}
        persons = []
        for row in rows:
            number = row["公民身份号码"]
            persons.append(
                Person(
                    id_number=number,
                    name=row["姓名"],
                    sex="male" if int(number[16]) % 2 else "female",
                    birth_date=dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    phone=row["联系电话"],
                    household_id=household_ids[row["户号"]],
                    relation_to_head=row["与户主关系"],
                    hukou_village_id=villages[row["户籍村（社区）"]],
                    id_warnings=[],
                    created_at=now,
                    updated_at=now,
                )
            )
        sql, params = prep(Person, person_fields, persons)
        cursor.executemany(sql, params)
        cursor.execute(
            f"SELECT id, id_number, household_id, relation_to_head FROM {qn(Person._meta.db_table)}"
        )
        person_ids = {}
        heads = []
        for pk, number, household_id, relation in cursor.fetchall():
            person_ids[number] = pk
            if relation == "户主":
                heads.append((pk, household_id))
        cursor.executemany(
            f"UPDATE {qn(Household._meta.db_table)} SET head_id = %s WHERE id = %s", heads
        )
        tags = [
            IdentityTag(
                person_id=person_ids[r["公民身份号码"]],
                category_key=r["身份类别"],
                department=r["认定部门"],
                source_list="bench",
                source_batch="bench",
                created_at=now,
            )
            for r in rows
            if r["身份类别"]
        ]
        sql, params = prep(
            IdentityTag,
            [
                "person",
                "category_key",
                "category_name",
                "department",
                "source_list",
                "source_batch",
                "created_at",
            ],
            tags,
        )
        cursor.executemany(sql, params)
        enrollments = []
        for r in rows:
            quote = quotes[r["身份类别"]]
            enrollments.append(
                Enrollment(
                    person_id=person_ids[r["公民身份号码"]],
                    village_id=villages[r["户籍村（社区）"]],
                    benefit_year=2023,
                    policy_id=POLICY,
                    tier=1,
                    population="resident",
                    identity_code="",
                    identity_name=quote.identity.name if quote.identity else "",
                    standard=quote.standard,
                    subsidy=quote.subsidy,
                    personal=quote.personal,
                    coverage_start=quote.coverage_start,
                    coverage_end=quote.coverage_end,
                    quoted_on=CAMPAIGN_DAY,
                    quote=quote.to_dict(),
                    status="paid",
                    paid_at=paid_at,
                    created_at=now,
                    updated_at=now,
                )
            )
        enrollment_fields = [
            "person", "village", "benefit_year", "policy_id", "tier", "population",
            "identity_code", "identity_name", "standard", "subsidy", "personal",
            "coverage_start", "coverage_end", "quoted_on", "quote", "status", "paid_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        sql, params = prep(Enrollment, enrollment_fields, enrollments)
        cursor.executemany(sql, params)
        cursor.execute(f"SELECT id, person_id FROM {qn(Enrollment._meta.db_table)}")
        enrollment_ids = {person: pk for pk, person in cursor.fetchall()}
        payments = [
            Payment(
                enrollment_id=enrollment_ids[person_ids[r["公民身份号码"]]],
                amount=quotes[r["身份类别"]].personal,
                channel=CHANNELS[i % len(CHANNELS)],
                receipt_number=f"RAW{i:07d}",
                collector_id=collector_id,
                paid_at=paid_at,
                slot=0,
                reason="",
                recorded_at=now,
            )
            for i, r in enumerate(rows)
        ]
        payment_fields = [
            "enrollment", "amount", "channel", "receipt_number", "collector", "paid_at",
            "slot", "reason", "recorded_at",
        ]  # fmt: skip
        sql, params = prep(Payment, payment_fields, payments)
        cursor.executemany(sql, params)
    seconds = time.perf_counter() - started
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("collection_payment", "collection_enrollment", "registry_identitytag"):
            cursor.execute(f"DELETE FROM {qn(table)}")
        cursor.execute(f"UPDATE {qn('registry_household')} SET head_id = NULL")
        cursor.execute(f"DELETE FROM {qn('registry_person')}")
        cursor.execute(f"DELETE FROM {qn('registry_household')}")
    return seconds, len(rows)


# --- through the application ----------------------------------------------------------------


def service_import(path: Path, office: object, every: int) -> tuple[float, object]:
    from yibao.transfer.imports import persons_import

    started = time.perf_counter()
    report = persons_import(
        actor=office,
        path=path,
        policy_id=POLICY,
        progress=lambda stage, done, total: progress_line(f"导入·{stage}", done, total, started),
        progress_every=every,
    )
    return time.perf_counter() - started, report


def service_payments(
    rows: list[dict[str, str]], office: object, every: int, single: int, batch: int
) -> tuple[float, int, float, int]:
    """Pay the first ``single`` people one call each (a collector at the counter), the rest in
    batches of ``batch`` (a tax-system payment list): both through the ledger's services."""
    from yibao.collection.services import PaymentItem, payment_record, payment_record_many
    from yibao.registry.models import Person

    quotes = amounts()
    persons = {p.id_number: p for p in Person.objects.select_related("hukou_village")}
    paid_at = dt.datetime.combine(CAMPAIGN_DAY, dt.time(10), tzinfo=dt.UTC)

    def item(i: int, row: dict[str, str]) -> PaymentItem:
        return PaymentItem(
            person=persons[row["公民身份号码"]],
            policy_id=POLICY,
            tier=1,
            amount=quotes[row["身份类别"]].personal,
            channel=CHANNELS[i % len(CHANNELS)],
            paid_at=paid_at,
            receipt_number=f"R{i:07d}",
        )

    head, tail = rows[:single], rows[single:]
    started = time.perf_counter()
    for i, row in enumerate(head, start=1):
        one = item(i, row)
        payment_record(
            actor=office,
            person=one.person,
            policy_id=one.policy_id,
            tier=one.tier,
            amount=one.amount,
            channel=one.channel,
            paid_at=one.paid_at,
            receipt_number=one.receipt_number,
        )
        if i % every == 0 or i == len(head):
            progress_line("缴费·逐笔", i, len(head), started)
    single_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, len(tail), batch):
        chunk = tail[start : start + batch]
        payment_record_many(
            actor=office,
            items=[item(single + start + k + 1, row) for k, row in enumerate(chunk)],
        )
        progress_line("缴费·批量", start + len(chunk), len(tail), started)
    return single_seconds, len(head), time.perf_counter() - started, len(tail)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    parser.add_argument("--progress-every", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=5_000, help="payments recorded one call each")
    parser.add_argument("--batch", type=int, default=2_000, help="payments per batch call")
    args = parser.parse_args()

    os.environ["YIBAO_TODAY"] = CAMPAIGN_DAY.isoformat()
    original_url = os.environ.get("DATABASE_URL", "")
    workdir = Path(tempfile.mkdtemp(prefix="yibao-bench-"))
    os.environ["YIBAO_DATA_DIR"] = str(workdir)
    database, to_drop = _prepare_database(args, workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0, interactive=False)
        office, names = setup_town()
        rows = plan(args.persons, names)
        sheet = workdir / f"花名册.{args.format}"
        write_sheet(rows, sheet)
        print(f"数据库：{database}")
        print(f"文件：{sheet.name}，{args.persons}人，{sheet.stat().st_size / 1e6:.1f} MB")

        raw_seconds, raw_rows = raw_insert(rows, office)
        print(
            f"  原始SQL：{raw_rows}人及其户、身份、参保登记、缴费，{raw_seconds:.1f} 秒",
            file=sys.stderr,
        )

        import_seconds, report = service_import(sheet, office, args.progress_every)
        assert report.ok and report.persons_created == args.persons, report.summary()
        single_s, single_n, batch_s, batch_n = service_payments(
            rows, office, args.progress_every, args.single, args.batch
        )
        payment_seconds = single_s + batch_s

        from yibao.collection.models import Payment

        assert Payment.objects.count() == args.persons
        n = args.persons
        print()
        print(f"{'步骤':<28}{'行数':>10}{'秒':>10}{'行/秒':>12}")
        lines = [
            ("导入户和参保人（应用）", n, import_seconds),
            ("缴费 payment_record 逐笔（应用）", single_n, single_s),
            ("缴费 payment_record_many 批量（应用）", batch_n, batch_s),
            ("应用合计（导入 + 缴费）", n, import_seconds + payment_seconds),
            ("原始SQL（同样的行，一个事务）", n, raw_seconds),
        ]
        for label, count, seconds in lines:
            if count:
                print(f"{label:<28}{count:>10}{seconds:>10.1f}{count / seconds:>12,.0f}")
        print(f"应用 / 原始SQL 耗时比：{(import_seconds + payment_seconds) / raw_seconds:.0f}")
    finally:
        if to_drop:
            _drop_database(to_drop, original_url)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
