"""Benchmark: the main pages on the demo township (26,000 residents), served by gunicorn.

Not a test. It

1. builds the demo township with ``yibao demo --no-serve`` into ``--data-dir`` if that
   database has no residents yet (about 70 s on the project's 2-core machine);
2. starts the production server on it (``yibao serve``: collectstatic, gunicorn with 2
   workers of 4 threads, whitenoise) on a free port of 127.0.0.1;
3. signs in through the login page as a village collector (the largest village) and as the
   township clerk, each with its own session, as a browser would;
4. requests each main page ``-n`` times in turn, one request at a time (latency, not
   throughput), after two warm-up requests each, and prints p50 / p95 / max per page next
   to two baselines served by the same server: a static file (whitenoise, no Django view)
   and ``/api/v1/me`` (a Django view with the session and one query).

The goal is p95 under 300 ms per page. With ``--screenshots DIR`` it then photographs the
demo township's desk, receipt and dashboard with Chromium (the README's pictures).

    .venv/bin/python benchmarks/bench_pages.py                       # SQLite, -n 50
    .venv/bin/python benchmarks/bench_pages.py -n 0 --screenshots docs/screenshots
    .venv/bin/python benchmarks/bench_pages.py -n 100 --data-dir /tmp/yibao-bench-pages
    DATABASE_URL=postgres://yibao:yibao@127.0.0.1:5432/yibao_bench .venv/bin/python benchmarks/bench_pages.py
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.browser's constants

DEMO_TODAY = "2022-12-05"
DEMO_SEED = 2023
GOAL_MS = 300


@dataclass
class Target:
    label: str
    path: str


class Session:
    """A browser-like client: cookies, CSRF token from the login form, redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, bytes]:
        with self.opener.open(self.base + path, timeout=60) as response:
            return response.status, response.read()

    def sign_in(self, username: str, password: str) -> None:
        _, body = self.get("/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if token is None:
            raise SystemExit("bench_pages: no CSRF token on /login/")
        data = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": username,
                "password": password,
            }
        ).encode()
        request = urllib.request.Request(
            self.base + "/login/", data=data, headers={"Referer": self.base + "/login/"}
        )
        with self.opener.open(request, timeout=60) as response:
            if response.url.rstrip("/").endswith("/login"):
                raise SystemExit(f"bench_pages: sign-in as {username} failed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _yibao() -> str:
    return str(Path(sys.executable).with_name("yibao"))


def _environment(data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "YIBAO_DATA_DIR": str(data_dir),
        "YIBAO_TODAY": DEMO_TODAY,
        "DJANGO_SETTINGS_MODULE": "yibao.settings",
    }
    env.pop("YIBAO_DEBUG", None)
    return env


def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def _ensure_demo(env: dict[str, str]) -> None:
    from django.core.management import call_command

    from yibao.registry.models import Person

    call_command("migrate", interactive=False, verbosity=0)  # a demo built by older code
    if Person.objects.exists():
        print(f"demo township: present ({Person.objects.count():,} persons)", flush=True)
        return
    print("demo township: building it (yibao demo --no-serve)…", flush=True)
    started = time.perf_counter()
    subprocess.run([_yibao(), "demo", "--no-serve"], env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"demo township: built in {time.perf_counter() - started:.0f} s", flush=True)


def _targets() -> tuple[str, str, list[Target], list[Target]]:
    """(collector username, clerk username, collector pages, clerk pages) from the demo data."""
    from django.db.models import Count

    from yibao.collection.models import StaffMember
    from yibao.demo.plan import POLICY_ID
    from yibao.policy import get_policy
    from yibao.registry.models import Person, Village

    village = Village.objects.annotate(people=Count("persons")).order_by("-people", "id").first()
    if village is None:
        raise SystemExit("bench_pages: the database has no village")
    collector = (
        StaffMember.objects.filter(role=StaffMember.Role.COLLECTOR, villages=village)
        .select_related("user")
        .order_by("id")
        .first()
    )
    clerk = (
        StaffMember.objects.filter(role=StaffMember.Role.TOWNSHIP)
        .select_related("user")
        .order_by("id")
        .first()
    )
    if collector is None or clerk is None:
        raise SystemExit("bench_pages: the demo has no collector or township clerk")
    year = get_policy(POLICY_ID).benefit_year
    unpaid = list(
        Person.objects.filter(hukou_village=village, status=Person.Status.ALIVE)
        .exclude(enrollments__benefit_year=year, enrollments__paid_at__isnull=False)
        .order_by("id")[:2]
    )
    if len(unpaid) < 2:
        raise SystemExit("bench_pages: fewer than two unpaid persons in the largest village")
    unpaid, payer = unpaid
    desk = [
        Target("desk: search page", "/desk/"),
        Target("desk: search by name", "/desk/?" + urllib.parse.urlencode({"q": unpaid.name})),
        Target("desk: search by ID last 6", f"/desk/?q={unpaid.id_number[-6:]}"),
        Target("desk: person card + quotes", f"/desk/person/{unpaid.pk}/"),
        Target("desk: confirmation", f"/desk/pay/?m={unpaid.pk}&tier_{unpaid.pk}=1"),
        Target("desk: unpaid list", "/desk/unpaid/"),
        Target("desk: my cash", "/desk/cash/"),
        Target("desk: ledger", "/ledger/"),
    ]
    office = [
        Target("office: dashboard", "/office/"),
        Target("office: village ledger", f"/ledger/?village={village.pk}"),
        Target("office: unpaid list", f"/desk/unpaid/?village={village.pk}"),
        Target("office: search by name", "/desk/?" + urllib.parse.urlencode({"q": unpaid.name})),
        Target("office: audit trail", "/audit/"),
    ]
    print(
        f"village {village.name} ({village.people:,} people): collector {collector.user.username}, "
        f"township clerk {clerk.user.username}",
        flush=True,
    )
    return collector.user.username, clerk.user.username, desk, office, payer.pk


def _pay_once(session: Session, person_id: int) -> str:
    """Pay tier 1 in cash for one person through the confirmation form, as a collector does;
    returns the receipt's path. (Each run of the benchmark so pays one more demo resident.)"""
    _, form = session.get(f"/desk/pay/?m={person_id}&tier_{person_id}=1")
    fields = dict(re.findall(rb'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    data = {k.decode(): v.decode() for k, v in fields.items()}
    data.update({"channel": "cash", "receipt_number": ""})
    request = urllib.request.Request(
        session.base + "/desk/pay/",
        data=urllib.parse.urlencode(data).encode(),
        headers={"Referer": session.base + "/desk/pay/"},
    )
    with session.opener.open(request, timeout=60) as response:
        path = urllib.parse.urlsplit(response.url).path
    if not path.startswith("/desk/receipt/"):
        raise SystemExit(f"bench_pages: the payment did not lead to a receipt but to {path}")
    return path


def _start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    server_env = {**env, "YIBAO_SECRET_KEY": secrets.token_urlsafe(50)}
    server = subprocess.Popen(
        [_yibao(), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
        + ["--access-log", ""],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"bench_pages: the server stopped: {server.stderr.read().decode()}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("bench_pages: the server did not start")


def _measure(session: Session, target: Target, n: int) -> tuple[list[float], int]:
    size = 0
    for _ in range(2):  # warm-up: each worker's first request imports and compiles templates
        session.get(target.path)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        status, body = session.get(target.path)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"bench_pages: {target.path} answered {status}")
        size = len(body)
    return times, size


def _row(label: str, times: list[float], size: int) -> str:
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
    mark = "" if p95 < GOAL_MS else "  ◀ over 300 ms"
    return f"{label:<32} {p50:>8.1f} {p95:>8.1f} {max(times):>8.1f} {size / 1024:>8.1f}{mark}"


def _photograph(
    base: str,
    out: Path,
    pages: dict[str, str],
    collector: str,
    clerk: str,
    passwords: dict[str, str],
) -> None:
    """The demo's desk (phone), receipt (58 mm slip) and dashboard (PC), with Chromium."""
    from playwright.sync_api import Page, sync_playwright
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PC, PHONE, SLIP_58MM_PX

    out.mkdir(parents=True, exist_ok=True)

    def sign_in(page: Page, username: str) -> None:
        page.goto(base + "/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(passwords[username])
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        phone = browser.new_page(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
        sign_in(phone, collector)
        for label, name in (
            ("desk: search by name", "demo-desk-search-phone"),
            ("desk: person card + quotes", "demo-desk-person-phone"),
            ("desk: unpaid list", "demo-unpaid-phone"),
        ):
            phone.goto(base + pages[label])
            phone.screenshot(path=str(out / f"{name}.png"))
        phone.goto(base + pages["desk: receipt"] + "?paper=58&new=1")  # the first print
        phone.emulate_media(media="print")
        phone.set_viewport_size({"width": SLIP_58MM_PX, "height": 100})
        phone.screenshot(path=str(out / "demo-receipt-58mm-print.png"), full_page=True)

        pc = browser.new_page(viewport=PC, locale="zh-CN", timezone_id="Asia/Shanghai")
        sign_in(pc, clerk)
        pc.goto(base + pages["office: dashboard"])
        pc.wait_for_selector("#progress-chart svg")
        height = int(pc.evaluate("document.documentElement.scrollHeight"))
        pc.set_viewport_size({"width": PC["width"], "height": height})
        pc.screenshot(path=str(out / "demo-dashboard-pc.png"))
        browser.close()
    print(f"screenshots of the demo township in {out}/demo-*.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=50, help="requests per page (default 50)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("YIBAO_BENCH_DATA_DIR", "/tmp/yibao-bench-pages")),
        help="YIBAO_DATA_DIR of the demo township (built there if missing)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--screenshots", type=Path, help="also save the demo's desk, receipt and dashboard here"
    )
    args = parser.parse_args()

    env = _environment(args.data_dir.resolve())
    _setup_django(env)
    _ensure_demo(env)
    from yibao.demo.plan import password_for

    collector, clerk, desk, office, payer = _targets()
    port = _free_port()
    server = _start_server(env, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        as_collector, as_clerk = Session(base), Session(base)
        as_collector.sign_in(collector, password_for(DEMO_SEED, collector))
        as_clerk.sign_in(clerk, password_for(DEMO_SEED, clerk))
        desk.insert(5, Target("desk: receipt", _pay_once(as_collector, payer)))
        _, login_page = as_collector.get("/login/")
        stylesheet = re.search(rb'href="(/static/web/app[^"]*\.css)"', login_page)
        baselines = [Target("baseline: /api/v1/me", "/api/v1/me")]
        if stylesheet:
            baselines.insert(0, Target("baseline: static app.css", stylesheet.group(1).decode()))

        print(
            f"\ngunicorn, {args.workers} workers x 4 threads, 127.0.0.1; {args.n} requests per page "
            f"one at a time; database {os.environ.get('DATABASE_URL', 'SQLite (embedded)')}\n"
        )
        print(f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'KB':>8}")
        for session, targets in ((as_collector, baselines + desk), (as_clerk, office)):
            for target in targets if args.n > 0 else []:
                times, size = _measure(session, target, args.n)
                print(_row(target.label, times, size), flush=True)
        if args.screenshots:
            pages = {t.label: t.path for t in desk + office}
            accounts = {name: password_for(DEMO_SEED, name) for name in (collector, clerk)}
            _photograph(base, args.screenshots, pages, collector, clerk, accounts)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
