"""Start gunicorn on ``yibao.wsgi`` in place of the current process."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerOptions:
    bind: str = "127.0.0.1:8000"
    workers: int = 2
    # gthread workers: a slow phone holds one thread, not a whole worker, and browsers keep
    # their connection alive between the desk's requests (sync workers close it each time).
    # 16: concurrent payments of one process share one write (group commit); each thread
    # keeps its own database connection (PostgreSQL: workers × threads connections at most).
    threads: int = 16
    worker_class: str = "gthread"  # or "sync": one request per process at a time
    timeout_seconds: int = 60  # a village ledger export is the slowest request
    access_log: str | None = "-"  # "-": standard output; None: no access log


# gthread: gunicorn's, leaving new connections to the less busy processes.
WORKER_CLASSES = {"gthread": "yibao.serving.worker.ThreadWorker"}


def gunicorn_argv(options: ServerOptions) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "yibao.wsgi:application",
        "--bind",
        options.bind,
        "--workers",
        str(options.workers),
        "--worker-class",
        WORKER_CLASSES.get(options.worker_class, options.worker_class),
        "--timeout",
        str(options.timeout_seconds),
        "--graceful-timeout",
        "20",
    ]
    if options.worker_class == "gthread":
        argv += ["--threads", str(options.threads)]
    if options.access_log:
        argv += ["--access-logfile", options.access_log]
    return argv


def exec_gunicorn(options: ServerOptions, environ: Mapping[str, str] | None = None) -> None:
    """Replace this process with gunicorn (Ctrl-C and SIGTERM then reach gunicorn's master).

    Gunicorn's workers import ``yibao.wsgi`` afresh, which runs the safety check; nothing of
    this process (database connections, the demo build's objects) is inherited.
    """
    from django.db import connections

    connections.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    argv = gunicorn_argv(options)
    os.execve(argv[0], argv, dict(environ if environ is not None else os.environ))
