"""``yibao serve``'s threaded worker (``yibao.serving.worker.ThreadWorker``, gunicorn's
``gthread`` that leaves new connections to the less busy processes) under gunicorn: kept-alive
connections, connections spread over the processes, graceful stop."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from yibao.serving.gunicorn import ServerOptions, gunicorn_argv

APP = """
import os, time

def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        time.sleep(1.5)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path):
    (tmp_path / "tiny_app.py").write_text(APP)
    port = _free_port()
    argv = gunicorn_argv(
        ServerOptions(bind=f"127.0.0.1:{port}", workers=2, threads=4, access_log=None)
    )
    argv[argv.index("yibao.wsgi:application")] = "tiny_app:application"
    assert argv[argv.index("--worker-class") + 1] == "yibao.serving.worker.ThreadWorker"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError(process.stdout.read()) from None  # type: ignore[union-attr]
            time.sleep(0.1)
    time.sleep(1)  # both workers booted
    yield process, port
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def _get(conn: http.client.HTTPConnection, path: str = "/") -> str:
    conn.request("GET", path)
    response = conn.getresponse()
    assert response.status == 200
    return response.read().decode()


def test_kept_alive_connections_are_answered_by_one_process_each_and_spread_over_both(server):
    _, port = server
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(12)]
    for conn in connections:
        conn.connect()
    answers: dict[int, list[str]] = {}

    def talk(n: int, conn: http.client.HTTPConnection) -> None:
        answers[n] = [_get(conn) for _ in range(20)]

    threads = [threading.Thread(target=talk, args=pair) for pair in enumerate(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers) == list(range(12))
    for pids in answers.values():  # 20 answers on one kept-alive connection: one process
        assert len(set(pids)) == 1
    per_process: dict[str, int] = {}
    for pids in answers.values():
        per_process[pids[0]] = per_process.get(pids[0], 0) + 1
    assert len(per_process) == 2, per_process  # gunicorn's own gthread may give one all 12
    assert min(per_process.values()) >= 3, per_process
    for conn in connections:
        conn.close()


def test_a_request_under_way_is_finished_when_the_server_stops(server):
    process, port = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/slow")
    time.sleep(0.5)
    os.kill(process.pid, signal.SIGTERM)  # gunicorn's graceful stop
    response = conn.getresponse()
    assert response.status == 200
    assert response.read().decode().isdigit()
    assert process.wait(timeout=30) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout(server):
    _, port = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    _get(conn)
    time.sleep(3.5)  # gunicorn's keep-alive: 2 seconds
    assert conn.sock is not None
    assert conn.sock.recv(1) == b""  # closed by the server
    conn.close()


def test_more_connections_than_threads_are_all_answered(server):
    _, port = server
    results: list[str] = []
    lock = threading.Lock()

    def once() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        answer = _get(conn, "/slow")
        with lock:
            results.append(answer)
        conn.close()

    threads = [threading.Thread(target=once) for _ in range(12)]  # 2 processes × 4 threads
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 12


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("gunicorn runs on Linux here")
