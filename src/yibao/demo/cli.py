"""``yibao demo``: build the Sanjiang demo township, print its progress, serve the application.

``yibao.cli`` calls :func:`register` with its subparsers (listed in ``LEDGER_COMMANDS``).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

DEMO_TODAY = "2022-12-05"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="建立三江街道演示数据（24个村、社区，约2.6万参保人）并启动服务",
        description=(
            "在空数据库中建立三江街道的演示数据（征缴进行到演示日期 YIBAO_TODAY，"
            f"未设置时为 {DEMO_TODAY}），打印征缴进度和演示账号，然后在本机启动服务。"
        ),
    )
    demo.add_argument("--reset", action="store_true", help="清空演示数据库后重建")
    demo.add_argument("--residents", type=int, default=26000, help="应参保人数（约数），默认26000")
    demo.add_argument("--seed", type=int, default=2023, help="随机种子；同一种子生成同样的数据")
    demo.add_argument("--no-serve", action="store_true", help="只建数据、打印进度，不启动服务")
    demo.add_argument("--port", type=int, default=8000, help="服务端口（只监听127.0.0.1）")
    demo.add_argument("--workers", type=int, default=2, help="gunicorn 工作进程数，默认2")
    demo.add_argument("--digest", action="store_true", help="另打印数据摘要（核对可重复性）")
    demo.set_defaults(func=run)


def _today_source(preset: str | None) -> str:
    if preset:
        return "演示日期取自环境变量 YIBAO_TODAY（你设定的）"
    return (
        f"演示日期由 yibao demo 设定为 YIBAO_TODAY={DEMO_TODAY}，位于三江街道集中缴费期内；"
        "生产环境不设此项，以真实日期为准"
    )


def _reset() -> None:
    from django.core.management import call_command
    from django.db import connection

    from yibao.registry.models import Person

    from .summary import demo_record

    if Person.objects.exists() and demo_record() is None:
        raise SystemExit("错误：数据库中有非演示数据（没有演示建库记录），拒绝清空。")
    if connection.vendor == "sqlite":
        # The audit log refuses DELETE (append-only trigger): remove the file instead.
        name = str(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
    else:
        call_command("flush", interactive=False, verbosity=0)  # TRUNCATE: no row triggers
    call_command("migrate", interactive=False, verbosity=0)


def demo_secret_key(data_dir: Path) -> str:
    """The demo's SECRET_KEY: random, made on the first run and kept in the data directory
    (readable by its owner only), so that sign-ins survive a restart of the demo."""
    path = data_dir / "demo-secret-key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def _serve(port: int, workers: int) -> None:
    """Collect the static files, then replace this process with gunicorn on 127.0.0.1."""
    from django.conf import settings
    from django.core.management import call_command

    from yibao.serving.gunicorn import ServerOptions, exec_gunicorn

    if settings.DEBUG:
        raise SystemExit("错误：演示服务同样不能打开调试（去掉 YIBAO_DEBUG=1 后再运行）")
    call_command("collectstatic", interactive=False, verbosity=0)
    environ = dict(os.environ)
    # A key of your own (YIBAO_SECRET_KEY) wins; the demo never serves with the default one.
    environ["YIBAO_SECRET_KEY"] = environ.get("YIBAO_SECRET_KEY") or demo_secret_key(
        settings.DATA_DIR
    )
    print(
        f"\n启动服务（gunicorn，{workers}个进程）：http://127.0.0.1:{port}/  "
        "（API：/api/v1/；Ctrl-C 停止）",
        flush=True,
    )
    exec_gunicorn(
        ServerOptions(bind=f"127.0.0.1:{port}", workers=workers, access_log=None), environ
    )


def run(args: argparse.Namespace) -> int:
    preset = os.environ.get("YIBAO_TODAY") or None
    os.environ.setdefault("YIBAO_TODAY", DEMO_TODAY)
    from yibao.manage_cli import setup_django

    setup_django()
    from django.core.management import call_command

    from yibao.core import clock
    from yibao.registry.idcrypto import key_file_ensure
    from yibao.registry.models import Person, Village

    from .build import build_demo
    from .summary import demo_digest, demo_record, summary_text

    created = key_file_ensure()  # ID numbers are encrypted at rest (yibao keys)
    if created is not None:
        print(f"已生成证件号码加密密钥 {created}（仅本机演示用；备份数据库时须另行备份此密钥）")
    call_command("migrate", interactive=False, verbosity=0)
    if args.reset:
        _reset()
    today = clock.today()
    if not (Village.objects.exists() or Person.objects.exists()):
        print(
            f"建立三江街道演示数据：约{args.residents}名应参保人，随机种子{args.seed}，演示日期{today}"
        )
        started = time.monotonic()

        def progress(done: int, total: int, message: str) -> None:
            elapsed = time.monotonic() - started
            print(
                f"[{done:>2}/{total}] {done * 100 // total:>3}%  {message}（{elapsed:.0f}秒）",
                flush=True,
            )

        result = build_demo(
            seed=args.seed, residents=args.residents, today=today, progress=progress
        )
        print(
            f"完成：{result.households}户 {result.persons}人，{result.payments}笔缴费，"
            f"用时{result.seconds:.0f}秒\n"
        )
    elif demo_record() is None:
        print("数据库中已有数据（不是演示数据），不再建立演示数据；以下为现有数据的进度。\n")
    else:
        print("演示数据已存在（yibao demo --reset 可重建）。\n")
    print(summary_text(today=today.isoformat(), today_source=_today_source(preset)))
    if args.digest:
        print(f"\n数据摘要：{demo_digest()}")
    if args.no_serve:
        return 0
    _serve(args.port, args.workers)
    return 0  # not reached: gunicorn has replaced this process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yibao")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
