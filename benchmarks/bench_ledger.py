"""Benchmark: 100,000 persons imported and 100,000 payments recorded, beside a native baseline.

Not a test. On a fresh, migrated database with one township it

1. writes a clerk's sheet of N persons (households of four, 10% with a hardship identity)
   as .xlsx (or .csv);
2. the native baseline: into a copy of that database (same tables, constraints, indexes
   and triggers) inserts the same households (heads set in the insert), persons and
   identity tags, then one paid enrollment and one payment per person, with no ORM and ids
   assigned client-side: ``executemany`` on SQLite, psycopg ``COPY`` on PostgreSQL, one
   transaction per phase, building the tuples inside the timing;
3. the application: imports the sheet through ``yibao.transfer.imports.persons_import``
   (every row checked, registered by the registry services, audited) and records one
   payment per person through ``yibao.collection.services``: the first ``--single`` one
   call each (``payment_record``), the rest with ``payment_record_many`` in batches;
4. prints rows/s for each path side by side, the application's speed as a share of the
   native one, and bytes per person in each database (size after minus size before);
   and the import's CPU seconds beside the baseline's (this process, plus on PostgreSQL
   the server process of the connection, read from ``/proc``: the server must run on this
   machine), which a loaded machine does not stretch as it stretches wall-clock time.

SQLite (default): fresh files in a temporary directory. PostgreSQL: when ``DATABASE_URL``
is set (``postgres://...``) fresh databases ``yibao_bench_<pid>`` and
``yibao_bench_<pid>_native`` are created on that server and dropped afterwards.

    .venv/bin/python benchmarks/bench_ledger.py                 # 100,000 on SQLite
    DATABASE_URL=postgres://yibao:yibao@127.0.0.1:5432/yibao .venv/bin/python benchmarks/bench_ledger.py
    .venv/bin/python benchmarks/bench_ledger.py --persons 10000 --format csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

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
SQLITE_PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"


def use_fresh_field_key(workdir: Path) -> None:
    """ID numbers are encrypted at rest: a key of the benchmark's own, in its directory
    (inherited by any server it starts)."""
    from yibao.registry.idcrypto import ENV_KEY, ENV_KEY_FILE, key_file_create

    os.environ.pop(ENV_KEY, None)
    os.environ[ENV_KEY_FILE] = str(key_file_create(workdir / "field-key"))


def progress_line(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"  {label}: {done}/{total} ({rate:,.0f} 行/秒)", file=sys.stderr, flush=True)


def _prepare_database(workdir: Path) -> tuple[str, list[str]]:
    """Point Django at a fresh database; return (description, databases to drop after)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"yibao_bench_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = url.rpartition("/")
        os.environ["DATABASE_URL"] = f"{base}/{name}"
        return f"PostgreSQL（临时数据库 {name}）", [name]
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    return f"SQLite（{workdir / 'bench.sqlite3'}，WAL）", []


def database_target() -> str:
    """The application's database as a URL (PostgreSQL) or a file path (SQLite)."""
    url = os.environ["DATABASE_URL"]
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:") else url


def copy_database(target: str, to_drop: list[str]) -> str:
    """A copy of the (migrated, set-up, still empty) database for the native baseline."""
    from django.db import connections

    connections.close_all()
    if target.startswith(("postgres://", "postgresql://")):
        import psycopg

        base, _, name = target.rpartition("/")
        copy = f"{name}_native"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
        to_drop.append(copy)
        return f"{base}/{copy}"
    import sqlite3

    copy = str(Path(target).with_name("native.sqlite3"))
    source = sqlite3.connect(target)
    destination = sqlite3.connect(copy)
    source.backup(destination)
    source.close()
    destination.close()
    return copy


def _drop_databases(names: list[str], url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
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

    from yibao.collection.models import StaffMember
    from yibao.registry.models import District, Township, Village

    district = District.objects.create(name="綦江区", code="500110")
    township = Township.objects.create(district=district, name="三江街道")
    names = [f"基准{i:02d}村" for i in range(1, VILLAGES + 1)]
    for seq, name in enumerate(names, start=1):
        Village.objects.create(township=township, name=name, seq=seq)
    office = get_user_model().objects.create_user(username="bench_office", password="x")
    StaffMember.objects.create(user=office, role=StaffMember.Role.TOWNSHIP, township=township)
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


# --- native baseline ----------------------------------------------------------------------


def registry_rows(rows: list[dict[str, str]], villages: dict[str, int]) -> list[Any]:
    """The import's households, persons and identity tags as plain tuples, ids assigned here
    (numbered from 1 on the fresh copy); the household head is set in the insert (the
    foreign keys are deferred to commit)."""
    from yibao.registry.idcrypto import current_key, id_number_fields

    key = current_key()
    now = dt.datetime.now(dt.UTC)
    households, persons, tags = [], [], []
    household_ids: dict[str, int] = {}
    for index, row in enumerate(rows):
        person_id = index + 1
        village_id = villages[row["户籍村（社区）"]]
        household_id = household_ids.get(row["户号"])
        if household_id is None:
            household_id = household_ids[row["户号"]] = len(household_ids) + 1
            households.append((household_id, row["户号"], "", now, person_id, village_id))
        number = row["公民身份号码"]
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        stored = id_number_fields(number, key=key)  # encrypted at rest, as the application
        persons.append(
            (
                person_id, "resident_id", stored["id_cipher"], stored["id_digest"],
                stored["id_last6_digest"], row["姓名"], "", "male" if int(number[16]) % 2
                else "female", birth, row["联系电话"], row["与户主关系"], "alive", "[]", now, now,
                household_id, village_id,
            )
        )  # fmt: skip
        if row["身份类别"]:
            tags.append(
                (len(tags) + 1, row["身份类别"], "", row["认定部门"], "bench", "bench", now,
                 person_id)
            )  # fmt: skip
    return [
        ("registry_household", "id number address created_at head_id village_id", households),
        (
            "registry_person",
            "id id_type id_cipher id_digest id_last6_digest name name_initials sex birth_date "
            "phone relation_to_head "
            "status id_warnings created_at updated_at household_id hukou_village_id",
            persons,
        ),
        (
            "registry_identitytag",
            "id category_key category_name department source_list source_batch created_at "
            "person_id",
            tags,
        ),
    ]


def collection_rows(
    rows: list[dict[str, str]], collector_id: int, villages: dict[str, int]
) -> list[Any]:
    """Each distinct quote once, then one paid enrollment (pointing at its quote) and its
    payment per person (person ``i`` has id ``i``)."""
    from yibao.collection.services import quote_digest

    quotes = amounts()
    quote_ids = {key: n for n, key in enumerate(quotes, start=1)}
    records = [
        (quote_ids[key], quote_digest(q.to_dict()), json.dumps(q.to_dict(), ensure_ascii=False))
        for key, q in quotes.items()
    ]
    now = dt.datetime.now(dt.UTC)
    paid_at = dt.datetime.combine(CAMPAIGN_DAY, dt.time(10), tzinfo=dt.UTC)
    enrollments, payments = [], []
    for index, row in enumerate(rows):
        person_id = index + 1
        quote = quotes[row["身份类别"]]
        enrollments.append(
            (
                person_id, 2023, POLICY, 1, "resident", "",
                quote.identity.name if quote.identity else "", quote.standard, quote.subsidy,
                quote.personal, quote.coverage_start, quote.coverage_end, CAMPAIGN_DAY,
                quote_ids[row["身份类别"]], "paid", paid_at, now, now, person_id,
                villages[row["户籍村（社区）"]],
            )
        )  # fmt: skip
        payments.append(
            (
                person_id, quote.personal, CHANNELS[index % len(CHANNELS)], f"N{index:07d}",
                paid_at, 0, "", now, collector_id, person_id,
            )
        )  # fmt: skip
    return [
        ("collection_quoterecord", "id digest body", records),
        (
            "collection_enrollment",
            "id benefit_year policy_id tier population identity_code identity_name standard "
            "subsidy personal coverage_start coverage_end quoted_on quote_record_id status "
            "paid_at created_at updated_at person_id village_id",
            enrollments,
        ),
        (
            "collection_payment",
            "id amount channel receipt_number paid_at slot reason recorded_at collector_id "
            "enrollment_id",
            payments,
        ),
    ]


def _sqlite_value(value: object) -> object:
    # As Django stores them on SQLite: UTC datetimes without offset, decimals as text.
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return value


def backend_cpu(pid: int | None) -> float:
    """CPU seconds the PostgreSQL server process ``pid`` has used (from ``/proc``: the
    server runs on this machine), 0 when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


class Timed:
    """Wall-clock seconds and CPU seconds of a step: this process (``time.process_time``)
    plus, on PostgreSQL, the server process of the connection that did the work. CPU time
    is what a loaded machine does not stretch: it counts the work, not the waiting."""

    def __init__(self) -> None:
        self.wall = self.cpu = self.server = 0.0
        self._pid: int | None = None

    def start(self, backend_pid: int | None = None) -> None:
        self._pid = backend_pid
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self._server = backend_cpu(backend_pid) if backend_pid else 0.0

    def stop(self) -> None:
        """Call before the connection closes (its server process ends with it)."""
        server = backend_cpu(self._pid) - self._server if self._pid else 0.0
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu + server
        self.server += server

    def cpu_text(self) -> str:
        server = f"，其中服务进程 {self.server:.1f}" if self._pid else ""
        return f"{self.cpu:.1f} 秒{server}"


def native_insert(target: str, build: Callable[[], list[Any]]) -> Timed:
    """Insert the tables ``build()`` returns into ``target`` (a copy of the migrated, set-up
    database: the same tables, constraints, indexes and triggers) with no ORM:
    ``executemany`` on SQLite, ``COPY`` on PostgreSQL, one transaction. Returns the time,
    building the tuples included."""
    timed = Timed()
    if target.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(target) as conn, conn.cursor() as cursor:
            timed.start(conn.info.backend_pid)
            tables = build()
            for table, columns, values in tables:
                with cursor.copy(f"COPY {table} ({', '.join(columns.split())}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            for table, _, _ in tables:  # the sequences, as the application would find them
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            conn.commit()
            timed.stop()
        return timed
    timed.start()
    tables = build()
    import sqlite3

    conn = sqlite3.connect(target, isolation_level=None)
    conn.executescript(SQLITE_PRAGMAS)
    conn.execute("BEGIN IMMEDIATE")
    for table, columns, values in tables:
        names = columns.split()
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        conn.executemany(sql, ([_sqlite_value(v) for v in value] for value in values))
    conn.execute("COMMIT")
    conn.close()
    timed.stop()
    return timed


def database_bytes(target: str) -> int:
    """The size of the database ``target`` (a file after a checkpoint; pg_database_size)."""
    if target.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    import sqlite3

    conn = sqlite3.connect(target)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = (
        conn.execute("PRAGMA page_count").fetchone()[0]
        * conn.execute("PRAGMA page_size").fetchone()[0]
    )
    conn.close()
    return int(size)


# --- through the application ----------------------------------------------------------------


def app_backend_pid() -> int | None:
    """The server process of the application's PostgreSQL connection (None on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    return int(connection.connection.info.backend_pid)


# The import's steps for ``--steps``: (label, module, function, whether the database server's
# CPU is read around each call; not for the per-row check, called once per row).
IMPORT_STEPS = (
    ("读表", "yibao.transfer.imports", "read_table", True),
    ("逐行校验（_parse_row）", "yibao.transfer.imports", "_parse_row", False),
    ("加密身份证号、查已登记", "yibao.transfer.imports", "_check_duplicates_and_database", True),
    ("组户", "yibao.transfer.imports", "_group_rows", True),
    ("各村批次（户、参保人、每户审计）", "yibao.transfer.imports", "_register_households", True),
    ("— 其中户与参保人写入", "yibao.registry.services", "insert_rows", True),
    ("— 其中每户一条审计", "yibao.registry.services", "audit_bulk", True),
    ("ANALYZE", "yibao.transfer.imports", "analyze", True),
    ("身份标识与困难人员读表", "yibao.transfer.imports", "identity_tags_add_many", True),
    ("写入事务合计（含提交）", "yibao.transfer.imports", "_write", True),
)


def timing_steps(backend_pid: int | None) -> dict[str, Timed]:
    """``--steps``: wrap each function of :data:`IMPORT_STEPS` in its module (a diagnostic of
    this process only) so that each call adds its wall-clock, client CPU and server CPU time
    to the step's total. The timers cost about 1 µs per row (the per-row check is timed row
    by row): compare the import's own figures without ``--steps``."""
    import functools
    import importlib

    def timed(function: Any, step: Timed, pid: int | None) -> Any:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            step.start(pid)
            try:
                return function(*args, **kwargs)
            finally:
                step.stop()

        return call

    steps: dict[str, Timed] = {}
    for label, module_name, name, server in IMPORT_STEPS:
        module = importlib.import_module(module_name)
        steps[label] = Timed()
        pid = backend_pid if server else None
        setattr(module, name, timed(getattr(module, name), steps[label], pid))
    return steps


def print_steps(steps: dict[str, Timed], whole: Timed) -> None:
    """The ``--steps`` table, with the commit (the write transaction less its steps) and the
    rest (the whole import less the top-level steps) derived."""

    def columns(text: str) -> int:  # a CJK character takes two columns
        return sum(2 if ord(c) > 0x2E80 else 1 for c in text)

    def padded(text: str, width: int) -> str:
        return text + " " * max(width - columns(text), 0)

    def right(text: str, width: int) -> str:
        return " " * max(width - columns(text), 0) + text

    write = "写入事务合计（含提交）"
    inside = ["各村批次（户、参保人、每户审计）", "ANALYZE", "身份标识与困难人员读表"]
    top = ["读表", "逐行校验（_parse_row）", "加密身份证号、查已登记", "组户", write]
    rows = [(k, t.wall, t.cpu - t.server, t.server) for k, t in steps.items() if k != write]
    for label, total, parts in (
        ("提交（含推迟的外键检查）", steps[write], inside),
        ("其他（步骤之间）", whole, top),
    ):
        rows.append(
            (
                label,
                total.wall - sum(steps[k].wall for k in parts),
                total.cpu - total.server - sum(steps[k].cpu - steps[k].server for k in parts),
                total.server - sum(steps[k].server for k in parts),
            )
        )
    rows.append(("导入合计", whole.wall, whole.cpu - whole.server, whole.server))
    print()
    print(
        f"{padded('导入的步骤（--steps）', 36)}{'耗时秒':>8}{'本进程CPU秒':>12}{'服务进程CPU秒':>14}"
    )
    for label, wall, client, server in rows:
        print(f"{padded(label, 36)}{wall:>11.2f}{client:>14.2f}{server:>18.2f}")


def service_import(path: Path, office: object, every: int) -> tuple[Timed, object]:
    from yibao.transfer.imports import persons_import

    timed = Timed()
    timed.start(app_backend_pid())
    started = time.perf_counter()
    report = persons_import(
        actor=office,
        path=path,
        policy_id=POLICY,
        progress=lambda stage, done, total: progress_line(f"导入·{stage}", done, total, started),
        progress_every=every,
    )
    timed.stop()
    return timed, report


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
    parser.add_argument(
        "--import-only", action="store_true", help="the import and its native baseline only"
    )
    parser.add_argument(
        "--steps",
        action="store_true",
        help="also time each step of the import (wall-clock, this process's and the server's CPU)",
    )
    args = parser.parse_args()

    os.environ["YIBAO_TODAY"] = CAMPAIGN_DAY.isoformat()
    original_url = os.environ.get("DATABASE_URL", "")
    workdir = Path(tempfile.mkdtemp(prefix="yibao-bench-"))
    os.environ["YIBAO_DATA_DIR"] = str(workdir)
    database, to_drop = _prepare_database(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    import django

    django.setup()
    from django.core.management import call_command

    use_fresh_field_key(workdir)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        office, names = setup_town()
        from yibao.collection.models import StaffMember
        from yibao.registry.models import Village

        collector_id = StaffMember.objects.get(user=office).pk
        villages = {v.name: v.pk for v in Village.objects.all()}
        target = database_target()
        empty_bytes = database_bytes(target)
        native = copy_database(target, to_drop)
        rows = plan(args.persons, names)
        amounts()  # loads the policy once, outside every timing
        sheet = workdir / f"花名册.{args.format}"
        write_sheet(rows, sheet)
        print(f"数据库：{database}")
        print(f"文件：{sheet.name}，{args.persons}人，{sheet.stat().st_size / 1e6:.1f} MB")

        native_timed = native_insert(native, lambda: registry_rows(rows, villages))
        native_import = native_timed.wall
        native_pay = 0.0
        if not args.import_only:
            native_pay = native_insert(
                native, lambda: collection_rows(rows, collector_id, villages)
            ).wall
        native_seconds = native_import + native_pay
        native_bytes = database_bytes(native) - empty_bytes
        print(f"  原生基线：{args.persons}人，{native_seconds:.1f} 秒", file=sys.stderr)

        steps = timing_steps(app_backend_pid()) if args.steps else None
        import_timed, report = service_import(sheet, office, args.progress_every)
        import_seconds = import_timed.wall
        assert report.ok and report.persons_created == args.persons, report.summary()
        single_s = single_n = batch_s = batch_n = 0
        if not args.import_only:
            single_s, single_n, batch_s, batch_n = service_payments(
                rows, office, args.progress_every, args.single, args.batch
            )

            from yibao.collection.models import Payment

            assert Payment.objects.count() == args.persons
        payment_seconds = single_s + batch_s
        app_bytes = database_bytes(target) - empty_bytes
        n = args.persons
        print()
        print(f"{'步骤':<28}{'行数':>10}{'秒':>10}{'行/秒':>12}")
        lines = [
            ("导入户和参保人（应用）", n, import_seconds),
            ("缴费 payment_record 逐笔（应用）", single_n, single_s),
            ("缴费 payment_record_many 批量（应用）", batch_n, batch_s),
            ("应用合计（导入 + 缴费）", n, import_seconds + payment_seconds),
            ("原生基线：户、参保人、身份", n, native_import),
            ("原生基线：参保登记与缴费", n, native_pay),
            ("原生基线合计（executemany/COPY）", n, native_seconds),
        ]
        for label, count, seconds in lines:
            if count and seconds:
                print(f"{label:<28}{count:>10}{seconds:>10.1f}{count / seconds:>12,.0f}")
        print(f"导入速度 / 原生基线（户、参保人、身份）：{native_import / import_seconds:.2f}x")
        server = "本进程 + 数据库服务进程" if app_backend_pid() else "本进程"
        print(
            f"导入 CPU 时间（{server}）：应用 {import_timed.cpu_text()}；"
            f"原生基线 {native_timed.cpu_text()}；"
            f"按 CPU 时间的导入速度 / 原生基线：{native_timed.cpu / import_timed.cpu:.2f}x"
        )
        if payment_seconds:
            print(f"缴费速度 / 原生基线（参保登记与缴费）：{native_pay / payment_seconds:.2f}x")
        print(
            f"应用合计 / 原生基线 耗时比：{(import_seconds + payment_seconds) / native_seconds:.1f}"
        )
        print(f"每人占用：应用 {app_bytes / n:,.0f} 字节，原生基线 {native_bytes / n:,.0f} 字节")
        if steps is not None:
            print_steps(steps, import_timed)
    finally:
        if to_drop:
            _drop_databases(to_drop, original_url)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
