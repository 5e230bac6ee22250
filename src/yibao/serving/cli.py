"""``yibao serve``: the production server (gunicorn with whitenoise) on the configured database.

``yibao.cli`` calls :func:`register` with its subparsers (listed in ``LEDGER_COMMANDS``).
"""

from __future__ import annotations

import argparse
import os
import sys

from .gunicorn import ServerOptions, exec_gunicorn


def default_workers() -> int:
    # One process per core, each with many threads (README, "Serving"): payments from the
    # threads of one process are written as one group (group commit), so few, full processes
    # beat gunicorn's 2×cores+1 rule of thumb; on 2 cores 2 × 16 beat 3 × 16 by 10% on SQLite
    # and 4% on PostgreSQL in alternating bench_http.py runs ("Payments over HTTP, fifth pass"
    # in docs/speed-history.md).
    return os.cpu_count() or 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="生产服务：gunicorn 多进程 + whitenoise 静态文件",
        description=(
            "收集静态文件后以 gunicorn 启动服务。必须设置 YIBAO_SECRET_KEY，且不得打开 "
            "YIBAO_DEBUG，否则拒绝启动。对外监听时请设置 YIBAO_ALLOWED_HOSTS（逗号分隔的主机名或IP）。"
        ),
    )
    serve.add_argument(
        "--bind",
        default=os.environ.get("YIBAO_BIND", "127.0.0.1:8000"),
        help="监听地址（环境变量 YIBAO_BIND），默认 127.0.0.1:8000",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=os.environ.get("YIBAO_WORKERS"),
        help="工作进程数（环境变量 YIBAO_WORKERS），默认 CPU核数",
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=os.environ.get("YIBAO_THREADS", str(ServerOptions.threads)),
        help=f"每个进程的线程数（环境变量 YIBAO_THREADS），默认 {ServerOptions.threads}",
    )
    serve.add_argument(
        "--worker-class",
        choices=("gthread", "sync"),
        default=os.environ.get("YIBAO_WORKER_CLASS", ServerOptions.worker_class),
        help=(
            "gunicorn 工作方式（环境变量 YIBAO_WORKER_CLASS）：gthread 每进程多线程、保持连接；"
            f"sync 每进程一次一个请求。默认 {ServerOptions.worker_class}"
        ),
    )
    serve.add_argument(
        "--access-log", default="-", help="访问日志文件，默认标准输出（-）；空字符串为不记录"
    )
    serve.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from yibao.manage_cli import setup_django

    setup_django()
    from django.core.management import call_command

    from .checks import insecure_settings

    problems = insecure_settings()
    if problems:
        for problem in problems:
            print(f"拒绝启动服务：{problem}", file=sys.stderr)
        return 2
    workers = args.workers or default_workers()
    if workers < 1 or args.threads < 1:
        print("错误：--workers 和 --threads 至少为 1", file=sys.stderr)
        return 2
    call_command("collectstatic", interactive=False, verbosity=0)
    print(
        f"yibao serve：http://{args.bind}/  gunicorn {workers}个进程×{args.threads}个线程",
        flush=True,
    )
    exec_gunicorn(
        ServerOptions(
            bind=args.bind,
            workers=workers,
            threads=args.threads,
            worker_class=args.worker_class,
            access_log=args.access_log or None,
        )
    )
    return 0  # not reached: exec_gunicorn replaces the process
