"""Benchmark: payments over HTTP from 32 concurrent clients against the production server.

Not a test. On a fresh database (SQLite by default, PostgreSQL with ``DATABASE_URL``) it

1. sets up one township of 24 villages and imports N persons through the application's
   importer (``persons_import``), and issues an API token for the township office;
2. starts ``yibao serve`` (gunicorn, ``yibao.wsgi``) on 127.0.0.1 only, with its own secret
   key, and waits until it answers;
3. runs ``--clients`` clients, each with one keep-alive HTTP/1.1 connection (asyncio streams,
   all in one thread, so that the load generator takes little of the cores it shares), that
   ``POST /api/v1/payments`` one payment per person with an ``Idempotency-Key``; every
   ``--retry-every``-th payment is sent again with the same key (a tablet that lost the
   answer), and must be answered 200 with the same payment;
4. stops the server and counts from the database: every person holds exactly one live
   payment (0 lost, 0 doubled), and prints requests per second and bytes per person.

The baseline, in the same run and before the payments: the same clients ask the same server
a trivial authenticated question (``GET /api/v1/me``, answered from the token cache) for
``--baseline-seconds``: the ceiling of the stack (gunicorn, Django's middleware, django-ninja,
the client) on this machine. Beside both figures, the CPU the clients and the server's
processes used, as a share of the machine's cores (the client runs on the same cores), and
the load average.

Bounded: at most ``--seconds`` of load (the run stops early and says so), the server killed
at the end by its process group.

    .venv/bin/python benchmarks/bench_http.py --persons 20000
    DATABASE_URL=postgres://yibao:yibao@127.0.0.1:5432/yibao .venv/bin/python benchmarks/bench_http.py
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import bench_ledger as ledger  # noqa: E402

from yibao.serving.cli import default_workers  # noqa: E402
from yibao.serving.gunicorn import ServerOptions  # noqa: E402

API = "/api/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    port: int, workers: int, threads: int, worker_class: str, workdir: Path
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "YIBAO_ALLOWED_HOSTS": "127.0.0.1"}
    env.pop("YIBAO_DEBUG", None)
    yibao = Path(sys.executable).with_name("yibao")
    log = (workdir / "server.log").open("wb")
    return subprocess.Popen(
        [str(yibao), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--worker-class", worker_class, "--access-log", ""],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_ready(port: int, token: str, server: subprocess.Popen[bytes], workdir: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit((workdir / "server.log").read_text(errors="replace")[-3000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", f"{API}/me", headers={"Authorization": f"Bearer {token}"})
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("服务未在240秒内启动")


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: each request written as one
    ``bytes``, each answer read by its ``Content-Length`` (or chunks). A load generator, not a
    general client: the 32 clients share the server's two cores, so they stay light (one
    thread, no header parsing beyond the status and the length)."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(head + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            parts = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            await self.reader.readuntil(b"\r\n")
            return status, b"".join(parts)
        if length is None:
            raise ConnectionError(f"应答无 Content-Length：{lines[0]!r}")
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Client:
    """One tablet: a keep-alive connection, its share of the persons, in order."""

    def __init__(self, index: int, port: int, token: str, jobs: list[dict[str, object]]):
        self.index, self.port, self.token, self.jobs = index, port, token, jobs
        self.statuses: dict[int, int] = {}
        self.mismatched_replays = 0
        self.errors: list[str] = []
        self.requests = 0
        self.sent: list[int] = []
        self.stop_at = 0.0
        self.baseline = False

    def _head(self, method: str, path: str, extra: str = "") -> bytes:
        return (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\n{extra}\r\n"
        ).encode()

    async def _answer(self, conn: Connection, head: bytes, body: bytes = b"") -> tuple[int, dict]:
        status, data = await conn.request(head, body)
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        try:
            return status, json.loads(data) if data else {}
        except ValueError:  # a server error's HTML page: counted by its status
            return status, {}

    async def _run_baseline(self) -> None:
        """``GET /me`` until the time is up: the stack's ceiling."""
        conn = Connection(self.port)
        head = self._head("GET", f"{API}/me")
        while time.monotonic() < self.stop_at:
            try:
                await self._answer(conn, head)
            except (OSError, ValueError, asyncio.IncompleteReadError) as error:
                self.errors.append(repr(error))
                conn.close()
        conn.close()

    async def run(self) -> None:
        if self.baseline:
            await self._run_baseline()
            return
        conn = Connection(self.port)
        for job in self.jobs:
            if time.monotonic() > self.stop_at:
                break
            body = json.dumps(job["body"]).encode()
            head = self._head(
                "POST",
                f"{API}/payments",
                "Content-Type: application/json\r\n"
                f"Idempotency-Key: {job['key']}\r\nContent-Length: {len(body)}\r\n",
            )
            self.sent.append(job["body"]["person_id"])  # type: ignore[index]
            try:
                status, answer = await self._answer(conn, head, body)
                if job["retry"]:
                    again, replay = await self._answer(conn, head, body)
                    if again != 200 or replay.get("id") != answer.get("id"):
                        self.mismatched_replays += 1
            except (OSError, ValueError, asyncio.IncompleteReadError) as error:
                self.errors.append(repr(error))
                conn.close()
        conn.close()


def _cpu_seconds(chosen) -> float:
    """User and system CPU seconds of the live processes for which ``chosen(pid, stat
    fields)`` is true, from /proc (a process that ends meanwhile is skipped)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if chosen(entry, fields):
                total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def _group_cpu_seconds(pgid: int) -> float:
    """CPU seconds of process group ``pgid`` (the server: gunicorn's master and workers)."""
    return _cpu_seconds(lambda _, fields: int(fields[2]) == pgid)  # field 5: the group


def _database_cpu_seconds(database: str | None) -> float:
    """CPU seconds of the PostgreSQL server processes serving ``database`` on this machine
    (their title names it: ``postgres: ... user database host ...``); 0 for SQLite (its work
    is in the server's processes)."""
    if not database:
        return 0.0
    name = database.encode()

    def serving(pid: str, _: list[str]) -> bool:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
        return bool(title) and title[0].startswith(b"postgres:") and name in title

    return _cpu_seconds(serving)


@dataclass
class Phase:
    """One timed phase: wall seconds, and CPU seconds of this process and of the server."""

    seconds: float
    client_cpu: float
    server_cpu: float
    database_cpu: float
    requests: int = 0

    def shares(self) -> str:
        cores = os.cpu_count() or 1
        room = self.seconds * cores
        database = f"，数据库进程CPU {self.database_cpu / room:.0%}" if self.database_cpu else ""
        per_request = (
            f"；每请求CPU：服务 {self.server_cpu / self.requests * 1000:.2f} 毫秒"
            + (
                f"，数据库 {self.database_cpu / self.requests * 1000:.2f} 毫秒"
                if self.database_cpu
                else ""
            )
            if self.requests
            else ""
        )
        return (
            f"客户端CPU {self.client_cpu / room:.0%}，服务进程CPU {self.server_cpu / room:.0%}"
            f"{database}（占{cores}核）{per_request}"
        )


def run_clients(
    clients: list[Client], seconds: float, server_pgid: int, database: str | None
) -> Phase:
    started, cpu, server_cpu, database_cpu = (
        time.monotonic(),
        time.process_time(),
        _group_cpu_seconds(server_pgid),
        _database_cpu_seconds(database),
    )
    for client in clients:
        client.stop_at = started + seconds

    async def everyone() -> None:
        await asyncio.gather(*(client.run() for client in clients))

    asyncio.run(everyone())
    return Phase(
        seconds=time.monotonic() - started,
        client_cpu=time.process_time() - cpu,
        server_cpu=_group_cpu_seconds(server_pgid) - server_cpu,
        database_cpu=_database_cpu_seconds(database) - database_cpu,
        requests=sum(client.requests for client in clients),
    )


def count_live_payments(sent: set[int]) -> tuple[int, int, int, int]:
    """(persons, persons with exactly one live payment, lost, doubled), from the database;
    lost counts the persons a payment was sent for who hold none."""
    from django.db.models import Count, Q

    from yibao.collection.selectors import live_payments
    from yibao.registry.models import Person

    live = live_payments().values("pk")
    per_person = (
        Person.objects.annotate(
            live=Count("enrollments__payments", filter=Q(enrollments__payments__in=live))
        )
        .values_list("pk", "live")
        .order_by()
    )
    counts = dict(per_person)
    return (
        len(counts),
        sum(1 for c in counts.values() if c == 1),
        sum(1 for pk in sent if counts.get(pk, 0) == 0),
        sum(1 for c in counts.values() if c > 1),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=32)
    # By default the server runs as `yibao serve` would on this machine.
    parser.add_argument(
        "--workers", type=int, default=default_workers(), help="gunicorn worker processes"
    )
    parser.add_argument(
        "--threads", type=int, default=ServerOptions.threads, help="threads per worker (gthread)"
    )
    parser.add_argument("--worker-class", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--retry-every", type=int, default=10, help="every n-th payment resent")
    parser.add_argument("--seconds", type=float, default=180, help="at most this much load")
    parser.add_argument(
        "--baseline-seconds", type=float, default=10, help="GET /me before the payments"
    )
    args = parser.parse_args()

    os.environ["YIBAO_TODAY"] = ledger.CAMPAIGN_DAY.isoformat()
    # One key for this process (which issues the token) and the server (which checks it).
    os.environ["YIBAO_SECRET_KEY"] = secrets.token_urlsafe(50)
    original_url = os.environ.get("DATABASE_URL", "")
    workdir = Path(tempfile.mkdtemp(prefix="yibao-bench-http-"))
    os.environ["YIBAO_DATA_DIR"] = str(workdir)
    database, to_drop = ledger._prepare_database(workdir)
    ledger.use_fresh_field_key(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    server = None
    try:
        call_command("migrate", verbosity=0, interactive=False)
        office, names = ledger.setup_town()
        rows = ledger.plan(args.persons, names)
        sheet = workdir / "花名册.csv"
        ledger.write_sheet(rows, sheet)
        empty_bytes = ledger.database_bytes(ledger.database_target())
        import_seconds, report = ledger.service_import(sheet, office, 10**9)
        assert report.ok and report.persons_created == args.persons, report.summary()

        from yibao.api.tokens import api_token_issue
        from yibao.registry.models import Person

        token = api_token_issue(actor=office, name="bench").secret
        person_ids = {p.id_number: p.pk for p in Person.objects.only("id_cipher", "id_digest")}
        quotes = ledger.amounts()
        jobs = [
            {
                "body": {
                    "person_id": person_ids[row["公民身份号码"]],
                    "policy": ledger.POLICY,
                    "tier": 1,
                    "amount": str(quotes[row["身份类别"]].personal),
                    "channel": ledger.CHANNELS[i % len(ledger.CHANNELS)],
                },
                "key": f"bench-{i:07d}",
                "retry": i % args.retry_every == 0,
            }
            for i, row in enumerate(rows)
        ]
        connections.close_all()

        port = free_port()
        server = start_server(port, args.workers, args.threads, args.worker_class, workdir)
        wait_ready(port, token, server, workdir)
        probes = [Client(c, port, token, []) for c in range(args.clients)]
        for probe in probes:
            probe.baseline = True
        pg_name = to_drop[0] if to_drop else None  # the PostgreSQL database of this run
        baseline = run_clients(probes, args.baseline_seconds, server.pid, pg_name)
        load_baseline = os.getloadavg()
        clients = [Client(c, port, token, jobs[c :: args.clients]) for c in range(args.clients)]
        phase = run_clients(clients, args.seconds, server.pid, pg_name)
        seconds = phase.seconds
        load_payments = os.getloadavg()
        stop_server(server)

        statuses: dict[int, int] = {}
        for client in clients:
            for status, n in client.statuses.items():
                statuses[status] = statuses.get(status, 0) + n
        requests = sum(c.requests for c in clients)
        errors = [e for c in clients for e in c.errors]
        mismatched = sum(c.mismatched_replays for c in clients)
        sent = {pk for c in clients for pk in c.sent}
        persons, exactly_one, lost, doubled = count_live_payments(sent)
        app_bytes = ledger.database_bytes(ledger.database_target()) - empty_bytes

        print(f"数据库：{database}")
        print(
            f"服务：yibao serve（gunicorn {args.worker_class} {args.workers}个进程"
            + (f"×{args.threads}个线程" if args.worker_class == "gthread" else "")
            + "），"
            f"{args.clients}个并发客户端，每{args.retry_every}笔重发一次（同一 Idempotency-Key）"
        )
        print(f"导入{args.persons}人：{import_seconds.wall:.1f} 秒（应用，准备数据）")
        probe_requests = sum(p.requests for p in probes)
        probe_ok = sum(p.statuses.get(200, 0) for p in probes)
        print(
            f"基线 GET {API}/me：{probe_requests}个，{baseline.seconds:.1f} 秒，"
            f"{probe_requests / baseline.seconds:,.0f} 请求/秒（200：{probe_ok}）；"
            f"{baseline.shares()}；负载 {load_baseline[0]:.1f}"
        )
        print(
            f"缴费请求：{requests}个，{seconds:.1f} 秒，{requests / seconds:,.0f} 请求/秒；"
            f"新缴费 {statuses.get(201, 0) / seconds:,.0f} 笔/秒；"
            f"为基线的 {requests / seconds / max(probe_requests / baseline.seconds, 1e-9):.0%}；"
            f"{phase.shares()}；负载 {load_payments[0]:.1f}"
        )
        print(
            f"应答：{dict(sorted(statuses.items()))}；连接错误 {len(errors)}；重发不符 {mismatched}"
        )
        print(
            f"数据库核对：{persons}人，已发出缴费 {len(sent)}人，恰好一笔有效缴费 {exactly_one}人，"
            f"丢失 {lost}，重复 {doubled}"
        )
        if len(sent) < persons:
            print(f"（负载在 {args.seconds:.0f} 秒后停止：未发出的缴费不算丢失）")
        print(f"每人占用：{app_bytes / max(persons, 1):,.0f} 字节（导入与缴费，含审计）")
        if errors:
            print("错误示例：", errors[:3])
    finally:
        if server is not None:
            stop_server(server)
        if to_drop:
            ledger._drop_databases(to_drop, original_url)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
