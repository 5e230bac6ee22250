"""``yibao demo`` serves through gunicorn (2 workers) with whitenoise and a key of its own."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.demo.test_cli import TEST_SETTINGS


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, **headers: str):
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def _wait_for_server(server: subprocess.Popen[str], base: str, path: str = "/login/") -> None:
    deadline = time.monotonic() + 300  # the small demo build comes first
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"yibao demo stopped: {server.stdout.read()}")  # type: ignore[union-attr]
        try:
            _get(base + path)
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("yibao demo did not answer")


@pytest.fixture
def demo_server(tmp_path: Path):
    (tmp_path / "demo_test_settings.py").write_text(TEST_SETTINGS)
    port = _free_port()
    env = {
        **os.environ,
        "YIBAO_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "demo_test_settings",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    for name in ("DATABASE_URL", "YIBAO_SECRET_KEY", "YIBAO_DEBUG", "YIBAO_TODAY"):
        env.pop(name, None)
    server = subprocess.Popen(
        [sys.executable, "-m", "yibao.cli", "demo", "--residents", "150", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_server(server, f"http://127.0.0.1:{port}")
        yield server, f"http://127.0.0.1:{port}", tmp_path / "data"
    finally:
        server.terminate()  # gunicorn's master: the demo process was replaced by it
        server.wait(timeout=60)


def test_the_demo_serves_pages_and_compressed_hashed_static_files_from_gunicorn(demo_server):
    server, base, data_dir = demo_server
    status, headers, body = _get(base + "/login/")
    assert status == 200
    assert headers["Server"] == "gunicorn"
    stylesheet = re.search(rb'href="(/static/web/app\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet, body[:800]

    status, headers, _ = _get(base + stylesheet.group(1).decode(), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    # The vendored ECharts was collected with the rest, hashed and compressed.
    assert list((data_dir / "static/web/vendor/echarts").glob("echarts.min.*.js.gz"))

    # The server answers at all, so yibao.wsgi accepted its key: the one the demo stored.
    key = data_dir / "demo-secret-key"
    assert len(key.read_text()) >= 50
    assert key.stat().st_mode & 0o777 == 0o600

    server.terminate()
    output = server.communicate(timeout=60)[0]
    assert "启动服务（gunicorn，2个进程）" in output
    assert output.count("Booting worker with pid") == 2
    assert "演示账号" in output


def test_yibao_serve_starts_gunicorn_with_the_workers_asked_for(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "YIBAO_DATA_DIR": str(tmp_path),
        "YIBAO_SECRET_KEY": "a-key-of-this-test-only-" + "k" * 40,
    }
    for name in ("DATABASE_URL", "YIBAO_DEBUG", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    yibao = str(Path(sys.executable).with_name("yibao"))
    server = subprocess.Popen(
        [yibao, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "3", "--access-log", ""],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_server(server, f"http://127.0.0.1:{port}", path="/login/")
        status, headers, _ = _get(f"http://127.0.0.1:{port}/login/")
        assert (status, headers["Server"]) == (200, "gunicorn")
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert "gunicorn 3个进程×16个线程" in output  # 16 threads: the default
    assert output.count("Booting worker with pid") == 3
