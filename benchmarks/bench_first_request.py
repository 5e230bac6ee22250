"""Benchmark: a server process's first request, with every route's code loaded at start-up
(``yibao.wsgi``) and with Django's own handler, which loads each included URL
configuration during the first request that needs it.

Not a test. Each variant runs in fresh Python processes, in turns (``--runs`` each): the
process builds the WSGI application (timed), then answers ``GET /api/v1/me`` without a
token twice (a 401 from django-ninja after the whole middleware: no database needed), each
timed. The second request is the baseline: a process with everything loaded.

    .venv/bin/python benchmarks/bench_first_request.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")

CHILD = """
import io, json, sys, time
started = time.perf_counter()
if sys.argv[1] == "yibao.wsgi":
    from yibao.wsgi import application
else:
    import os
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    from django.core.wsgi import get_wsgi_application
    application = get_wsgi_application()
built = time.perf_counter() - started

def request():
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/api/v1/me", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
    }
    statuses = []
    started = time.perf_counter()
    b"".join(application(environ, lambda status, headers, exc=None: statuses.append(status)))
    return time.perf_counter() - started, statuses[0]

first, status = request()
second, _ = request()
print(json.dumps({"built": built, "first": first, "second": second, "status": status}))
"""

VARIANTS = {
    "yibao.wsgi": "yibao.wsgi（启动时载入全部路由）",
    "django": "Django 自带的 get_wsgi_application（首个请求时载入）",
}


def run(variant: str, environ: dict[str, str]) -> dict[str, float | str]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, variant],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per variant")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yibao-first-") as data:
        environ = {
            **os.environ,
            "PYTHONPATH": SRC,
            "YIBAO_DATA_DIR": data,
            "YIBAO_SECRET_KEY": secrets.token_urlsafe(50),
            "YIBAO_ALLOWED_HOSTS": "127.0.0.1",
        }
        environ.pop("YIBAO_DEBUG", None)
        # The ID-number key yibao.wsgi's safety check asks for, a file of this run's own.
        sys.path.insert(0, SRC)
        from yibao.registry.idcrypto import ENV_KEY, ENV_KEY_FILE, key_file_create

        environ.pop(ENV_KEY, None)
        environ[ENV_KEY_FILE] = str(key_file_create(Path(data) / "field-key"))
        results: dict[str, list[dict[str, float | str]]] = {v: [] for v in VARIANTS}
        for _ in range(args.runs):
            for variant in VARIANTS:
                results[variant].append(run(variant, environ))
    print(f"每种方式 {args.runs} 个新进程（交替），GET /api/v1/me（无令牌，401），中位数：")
    for variant, label in VARIANTS.items():
        rows = results[variant]
        built, first, second = (
            statistics.median(float(r[key]) for r in rows) for key in ("built", "first", "second")
        )
        statuses = sorted({str(r["status"]) for r in rows})
        print(
            f"{label}：建应用 {built:.3f} 秒，第一个请求 {first * 1000:.1f} 毫秒，"
            f"第二个请求 {second * 1000:.1f} 毫秒（{'、'.join(statuses)}）"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
