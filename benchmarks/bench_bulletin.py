"""Benchmark: a full bulletin (通报) for a district of 1,000,000 residents in 600 villages,
next to a plain SQL GROUP BY over the same tables.

Not a test. On a fresh database it

1. inserts, with raw SQL (``executemany`` on SQLite, ``COPY`` on PostgreSQL), 600 villages
   of one township (三江街道, so that Sanjiang's policy governs them all), N residents with
   1.5% deceased, 3% employee-insured and 12% with a hardship identity tag (1 in 12 of the
   tags expired), enrollments for 88% of those who should enroll, payments for 95% of those
   spread over the collection period (zero declarations for the fully subsidised), 0.3% of
   the payments reversed, and an accepted target table (95% of each village's
   should-enroll population);
2. times the plain GROUP BY (paid per village: live payments joined to their enrollments);
3. times :func:`yibao.campaign.selectors.bulletin_compute` for 2022-12-05 as the township
   office (every figure of the bulletin: progress as of the day, the week before and the
   previous bulletin, ranking, hardship per category with the missing people named,
   projections, assessment) and prints both, each the best of ``--repeat`` runs taken in turns,
   with the CPU time of each: this process, and on PostgreSQL running on this machine the
   server's processes for the connection (its backend and parallel workers, from /proc).

SQLite (default): a fresh file in a temporary directory. PostgreSQL: when ``DATABASE_URL`` is
set (``postgres://...``) a fresh database ``yibao_bench_<pid>`` is created on that server and
dropped afterwards.

    .venv/bin/python benchmarks/bench_bulletin.py                    # 1,000,000 on SQLite
    DATABASE_URL=postgres://yibao:yibao@127.0.0.1:5432/postgres .venv/bin/python benchmarks/bench_bulletin.py
    .venv/bin/python benchmarks/bench_bulletin.py --residents 100000
    .venv/bin/python benchmarks/bench_bulletin.py --data-dir /tmp/bench      # build once, reuse
    git archive 980a81d src | tar -x -C /tmp/before                          # the code before
    YIBAO_BENCH_SRC=/tmp/before/src .venv/bin/python benchmarks/bench_bulletin.py --data-dir /tmp/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import shutil
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path

# YIBAO_BENCH_SRC: time another checkout's code (an export of an earlier commit's src/) on
# the same data, for a before/after beside the GROUP BY.
sys.path.insert(
    0, os.environ.get("YIBAO_BENCH_SRC") or str(Path(__file__).resolve().parents[1] / "src")
)

# The benchmark's own database: never the configured one.
_PREPARED = False

POLICY = "qijiang-sanjiang-2023"
ON = dt.date(2022, 12, 5)
OPENS = dt.date(2022, 10, 25)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CATEGORIES = (
    ("低保对象", "綦江区民政局", "35.00"),
    ("特困人员", "綦江区民政局", "0.00"),
    ("低保边缘户", "綦江区民政局", "105.00"),
    ("稳定脱贫人口", "綦江区乡村振兴局", "300.00"),
    ("重度（一、二级）残疾人员", "綦江区残联", "0.00"),
)
CHANNELS = ("wechat", "alipay", "yukuaiban", "unionpay", "cqrcb_app", "village_pos", "cash")


def _prepare_database(workdir: Path, kept: str | None) -> tuple[str, str | None]:
    """Point DATABASE_URL at the benchmark's database; return its description and the name
    of a PostgreSQL database to drop afterwards (``None``: keep it). ``kept`` names a
    database (PostgreSQL) or file stem (SQLite, in ``workdir``) that is built once and
    reused by later runs."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"yibao_bench_{kept or os.getpid()}"
        with psycopg.connect(url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = url.rpartition("/")
        os.environ["DATABASE_URL"] = f"{base}/{name}"
        if kept:
            return f"PostgreSQL（保留的数据库 {name}）", None
        return f"PostgreSQL（临时数据库 {name}）", name
    path = workdir / f"bench-{kept or 'run'}.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return f"SQLite（{path}）", None


def _built() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM registry_village")
        return bool(cursor.fetchone()[0])


def _drop_database(name: str, url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def insert(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Raw inserts: COPY on PostgreSQL, executemany in chunks on SQLite."""
    from django.db import connection

    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    # Django stores SQLite timestamps as UTC text: adapt as the ORM would.
    adapt = connection.ops.adapt_datetimefield_value
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 50_000):
            chunk = [
                tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row)
                for row in rows[start : start + 50_000]
            ]
            cursor.executemany(sql, chunk)


def build(residents: int, villages: int, seed: int) -> object:
    """Insert the district; return the township office's user."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from yibao.collection.models import StaffMember
    from yibao.registry.idcrypto import current_key, id_number_fields
    from yibao.registry.models import District, Township, Village

    key = current_key()
    rng = random.Random(seed)
    now = dt.datetime(2022, 12, 5, 18, tzinfo=SHANGHAI)
    with transaction.atomic():
        district = District.objects.create(name="綦江区", code="500110")
        township = Township.objects.create(district=district, name="三江街道")
        Village.objects.bulk_create(
            [Village(township=township, name=f"第{n}村", seq=n) for n in range(1, villages + 1)]
        )
        village_ids = list(Village.objects.order_by("seq").values_list("pk", flat=True))
        office = get_user_model().objects.create_user(username="sanjiang", password=None)
        StaffMember.objects.create(user=office, role=StaffMember.Role.TOWNSHIP, township=township)

        persons, others, tags, enrollments, payments = [], [], [], [], []
        should = [0] * villages
        payment_id = 0
        days = (ON - OPENS).days
        for i in range(1, residents + 1):
            v = (i * 7919) % villages
            deceased = rng.random() < 0.015
            stored = id_number_fields(f"50022219{i:010d}", key=key)
            persons.append(
                (
                    i, "resident_id", stored["id_cipher"], stored["id_digest"],
                    stored["id_last6_digest"], f"居民{i}", "", "male" if i % 2 else "female",
                    dt.date(1950 + i % 60, 1 + i % 12, 1 + i % 28), "", "",
                    village_ids[v], "deceased" if deceased else "alive",
                    dt.date(2022, 6, 1) if deceased else None, "[]", now, now,
                )
            )  # fmt: skip
            if deceased:
                continue
            if rng.random() < 0.03:
                others.append((len(others) + 1, i, "employee", 2023, "某公司", "", now))
                continue
            should[v] += 1
            personal = "350.00"
            identity = ""
            if rng.random() < 0.12:
                name, department, personal = CATEGORIES[rng.randrange(len(CATEGORIES))]
                expired = rng.random() < 1 / 12
                tags.append(
                    (
                        len(tags) + 1, i, name, name, department, "部门名单", "2022-10",
                        dt.date(2022, 1, 1), dt.date(2022, 6, 30) if expired else None, None, now,
                    )
                )  # fmt: skip
                identity = "" if expired else name
                if expired:
                    personal = "350.00"
            if rng.random() >= 0.88:
                continue
            paid = rng.random() < 0.95
            paid_at = dt.datetime.combine(
                OPENS + dt.timedelta(days=rng.randrange(days + 1)), dt.time(8), tzinfo=SHANGHAI
            ) + dt.timedelta(seconds=rng.randrange(36_000))
            reversed_ = paid and rng.random() < 0.003
            subsidy = f"{350 - float(personal):.2f}"
            e = len(enrollments) + 1
            enrollments.append(
                (
                    e, i, village_ids[v], 2023, POLICY, 1, "resident", "", identity, "350.00",
                    subsidy, personal, None, None, paid_at.date(),
                    "paid" if paid and not reversed_ else "unpaid",
                    paid_at if paid and not reversed_ else None, now, now,
                )
            )  # fmt: skip
            if not paid:
                continue
            payment_id += 1
            payments.append(
                (payment_id, e, personal, CHANNELS[i % len(CHANNELS)], None, None, None, paid_at,
                 0, None, "", None, now)
            )  # fmt: skip
            if reversed_:
                original = payment_id
                payment_id += 1
                payments.append(
                    (payment_id, e, f"-{personal}", CHANNELS[i % len(CHANNELS)], None, None, None,
                     paid_at + dt.timedelta(hours=1), 0, original, "退费", None, now)
                )  # fmt: skip
        insert(
            "registry_person",
            ("id", "id_type", "id_cipher", "id_digest", "id_last6_digest", "name", "name_initials", "sex", "birth_date", "phone",
             "relation_to_head", "hukou_village_id", "status", "deceased_on", "id_warnings",
             "created_at", "updated_at"),
            persons,
        )  # fmt: skip
        insert(
            "registry_otherinsurance",
            ("id", "person_id", "kind", "benefit_year", "place", "evidence", "recorded_at"),
            others,
        )
        insert(
            "registry_identitytag",
            ("id", "person_id", "category_key", "category_name", "department", "source_list",
             "source_batch", "valid_from", "valid_to", "certified_on", "created_at"),
            tags,
        )  # fmt: skip
        insert(
            "collection_enrollment",
            ("id", "person_id", "village_id", "benefit_year", "policy_id", "tier", "population",
             "identity_code", "identity_name", "standard", "subsidy", "personal",
             "coverage_start", "coverage_end", "quoted_on", "status", "paid_at",
             "created_at", "updated_at"),
            enrollments,
        )  # fmt: skip
        insert(
            "collection_payment",
            ("id", "enrollment_id", "amount", "channel", "receipt_number", "idempotency_key",
             "collector_id", "paid_at", "slot", "reverses_id", "reason", "recorded_by_id",
             "recorded_at"),
            payments,
        )  # fmt: skip
        insert(
            "campaign_targettable",
            ("id", "policy_id", "township_id", "source_name", "columns", "totals", "findings",
             "status", "uploaded_by_id", "uploaded_at", "accepted_by_id", "accepted_at"),
            [(1, POLICY, township.pk, "基准任务表", '[["target", "目标任务数"]]', "{}", "[]",
              "accepted", office.pk, now, office.pk, now)],
        )  # fmt: skip
        insert(
            "campaign_targetrow",
            ("id", "table_id", "village_id", "seq", "target", "period_target", "should_enroll",
             "values"),
            [(n + 1, 1, village_ids[n], n + 1, round(should[n] * 0.95), None, None,
              f'{{"target": {round(should[n] * 0.95)}}}') for n in range(villages)],
        )  # fmt: skip
    from django.db import connection

    from yibao.collection.hardship import hardship_tags_rebuild
    from yibao.collection.village_people import village_people_rebuild

    # Raw inserts bypass the services that keep the hardship read rows and the villages'
    # should-enroll counts: write them as ``yibao progress --rebuild-hardship`` does.
    hardship_tags_rebuild()
    village_people_rebuild()
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM too (as autovacuum would after a load), so that the visibility
        # map lets the covering indexes answer without visiting the rows.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"数据：{villages}个村，{len(persons):,}人（标识{len(tags):,}，职工医保{len(others):,}），"
        f"{len(enrollments):,}条参保登记，{len(payments):,}条缴费记录",
        flush=True,
    )
    return office


GROUP_BY = """
SELECT e.village_id, COUNT(*)
FROM collection_payment p
JOIN collection_enrollment e ON e.id = p.enrollment_id
WHERE p.reverses_id IS NULL AND e.benefit_year = %s
  AND NOT EXISTS (SELECT 1 FROM collection_payment r WHERE r.reverses_id = p.id)
GROUP BY e.village_id
"""


def _ticks(path: str, fields: slice) -> int:
    """The sum of the CPU tick fields ``fields`` of /proc's ``path`` (``stat`` of a process)."""
    values = Path(path).read_text().rsplit(")", 1)[1].split()
    return sum(int(v) for v in values[fields])


def database_cpu() -> Callable[[], float]:
    """CPU seconds used so far by the database's processes that work for this connection,
    when the server runs on this machine (PostgreSQL): its backend (user and system time)
    and the parallel workers it started, which PostgreSQL's postmaster has reaped (the
    postmaster's children's time: any other backend of the server that ends meanwhile
    counts too, which the best of several runs leaves out). 0 on SQLite, whose work is in
    this process's own CPU time."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return lambda: float("nan")  # another machine: not measurable from here
    tick = os.sysconf("SC_CLK_TCK")
    return lambda: (
        (
            _ticks(f"/proc/{backend}/stat", slice(11, 13))  # utime, stime
            + _ticks(f"/proc/{postmaster}/stat", slice(13, 15))  # cutime, cstime
        )
        / tick
    )


def best_of(repeat: int, *works) -> list[tuple[float, float, object]]:
    """Each of ``works`` run ``repeat`` times, taking turns (one of each, then again), so
    that a machine whose load changes during the run weighs on all of them alike; the best
    time of each, its best CPU time (this process and the database's processes for this
    connection: :func:`database_cpu`) and its result."""
    server = database_cpu()
    best: list[tuple[float, float, object]] = [(float("inf"), float("inf"), None)] * len(works)
    for _ in range(repeat):
        for i, work in enumerate(works):
            started, cpu = time.perf_counter(), time.process_time() + server()
            result = work()
            wall = time.perf_counter() - started
            cpu = time.process_time() + server() - cpu
            best[i] = (min(best[i][0], wall), min(best[i][1], cpu), result)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--villages", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--queries", action="store_true", help="另列出通报最慢的5条查询")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="保留并复用数据（SQLite 文件放在此目录；PostgreSQL 保留数据库 yibao_bench_<人数>）",
    )
    args = parser.parse_args()

    original_url = os.environ.get("DATABASE_URL", "")
    kept = f"{args.residents}_{args.villages}_{args.seed}" if args.data_dir else None
    if args.data_dir:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    workdir = args.data_dir or Path(tempfile.mkdtemp(prefix="yibao-bench-bulletin-"))
    description, dropped = _prepare_database(workdir, kept)
    os.environ["DJANGO_SETTINGS_MODULE"] = "yibao.settings"
    os.environ.pop("YIBAO_FIELD_KEY", None)  # ID numbers encrypted at rest: a key of its own
    os.environ["YIBAO_FIELD_KEY_FILE"] = str(workdir / "field-key")
    os.environ["YIBAO_TODAY"] = ON.isoformat()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from yibao.campaign.selectors import bulletin_compute
        from yibao.registry.idcrypto import key_file_ensure

        key_file_ensure()
        print(f"数据库：{description}", flush=True)
        call_command("migrate", verbosity=0, interactive=False)
        if _built():
            from django.contrib.auth import get_user_model

            office = get_user_model().objects.get(username="sanjiang")
            # A migration since the build may have added indexes without statistics.
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            print(f"复用已建好的数据（ANALYZE {time.perf_counter() - started:.1f} 秒）", flush=True)
        else:
            started = time.perf_counter()
            office = build(args.residents, args.villages, args.seed)
            print(f"原始SQL插入用时 {time.perf_counter() - started:.1f} 秒", flush=True)

        def group_by():
            with connection.cursor() as cursor:
                cursor.execute(GROUP_BY, [2023])
                return dict(cursor.fetchall())

        def bulletin():
            return bulletin_compute(actor=office, policy_id=POLICY, on=ON)

        if args.queries:
            connection.force_debug_cursor = True
            bulletin()
            slowest = sorted(connection.queries, key=lambda q: -float(q["time"]))[:5]
            print(f"通报共{len(connection.queries)}条查询，最慢的：")
            for query in slowest:
                print(f"  {query['time']} 秒  {query['sql'][:600]}")
            connection.force_debug_cursor = False
        (base, base_cpu, counts), (full, full_cpu, figures) = best_of(
            args.repeat, group_by, bulletin
        )
        assert figures.totals.paid == sum(counts.values()), "通报与 GROUP BY 的已缴人数不一致"
        # CPU time (this process, and PostgreSQL's processes for this connection when the
        # server runs here) is the whole cost, which a machine shared with other jobs
        # disturbs less than the elapsed time.
        cpu = not math.isnan(base_cpu)
        print(
            f"\n按村 GROUP BY（已缴人数）：{base:.3f} 秒"
            + (f"（CPU {base_cpu:.3f} 秒）" if cpu else "")
            + f"\n完整通报（bulletin_compute）：{full:.3f} 秒（{full / base:.1f} 倍"
            + (f"；CPU {full_cpu:.3f} 秒，{full_cpu / base_cpu:.1f} 倍" if cpu else "")
            + f"；{len(figures.rows)}个村，已缴{figures.totals.paid:,}人，"
            f"困难群体未缴{len(figures.missing):,}人）\n"
            f"目标：不超过 GROUP BY 的2倍且少于2秒；两者交替各跑{args.repeat}次，各取最快的一次"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if dropped:
            _drop_database(dropped, original_url)
        if not args.data_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
