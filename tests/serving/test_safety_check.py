"""Outside the demo, the production server refuses the default SECRET_KEY and DEBUG."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from yibao.settings import _database

A_KEY = "k3J9x-a-random-looking-key-for-this-test-only-0123456789abcdef"


def _run(args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "YIBAO_DATA_DIR": str(tmp_path), **env}
    for name in ("YIBAO_SECRET_KEY", "YIBAO_DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"):
        if name not in env:
            environ.pop(name, None)
    return subprocess.run(
        args, env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def _import_wsgi(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-c", "import yibao.wsgi"], tmp_path, **env)


def test_the_wsgi_application_refuses_the_default_secret_key(tmp_path):
    done = _import_wsgi(tmp_path)
    assert done.returncode != 0
    assert "ImproperlyConfigured: 拒绝启动服务：SECRET_KEY 仍是开发用的默认值" in done.stderr


def test_the_wsgi_application_refuses_debug(tmp_path):
    done = _import_wsgi(tmp_path, YIBAO_SECRET_KEY=A_KEY, YIBAO_DEBUG="1")
    assert done.returncode != 0
    assert "DEBUG 已打开" in done.stderr
    assert "SECRET_KEY" not in done.stderr


def test_the_wsgi_application_loads_with_a_key_of_its_own_and_debug_off(tmp_path):
    done = _import_wsgi(tmp_path, YIBAO_SECRET_KEY=A_KEY)
    assert done.returncode == 0, done.stderr


def test_the_wsgi_application_loads_every_route_before_its_first_request(tmp_path):
    # Django would load the included URL configurations (the pages, the API) and the views
    # behind them during the first request of each server process.
    code = (
        "import sys, yibao.wsgi; "
        "print(sorted(m for m in ('yibao.web.urls', 'yibao.api.urls', 'yibao.web.views.desk', "
        "'yibao.api.collection') if m in sys.modules))"
    )
    done = _run([sys.executable, "-c", code], tmp_path, YIBAO_SECRET_KEY=A_KEY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(
        ["yibao.api.collection", "yibao.api.urls", "yibao.web.urls", "yibao.web.views.desk"]
    )


def test_yibao_serve_refuses_before_starting_gunicorn(tmp_path):
    yibao = os.path.join(os.path.dirname(sys.executable), "yibao")
    done = _run([yibao, "serve", "--bind", "127.0.0.1:1"], tmp_path, YIBAO_DEBUG="1")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "拒绝启动服务：SECRET_KEY 仍是开发用的默认值：请设置环境变量 YIBAO_SECRET_KEY"
        "（50位以上的随机字符串，例如 python3 -c 'import secrets; print(secrets.token_urlsafe(50))'）",
        "拒绝启动服务：DEBUG 已打开（YIBAO_DEBUG=1）：调试页面会泄露数据，生产服务必须关闭",
    ]
    assert "gunicorn" not in done.stdout
    assert not (tmp_path / "static").exists()  # refused before collectstatic


def test_an_empty_secret_key_variable_counts_as_the_default_key(tmp_path):
    done = _import_wsgi(tmp_path, YIBAO_SECRET_KEY="")
    assert done.returncode != 0
    assert "SECRET_KEY 仍是开发用的默认值" in done.stderr


@pytest.mark.parametrize(
    ("url", "max_age", "health_checks"),
    [
        ("postgres://yibao:yibao@127.0.0.1:5432/yibao", 60, True),
        ("sqlite:////tmp/yibao-settings-test.sqlite3", 60, False),
    ],
)
def test_connections_are_kept_a_minute_and_only_postgresql_ones_checked_before_reuse(
    url, max_age, health_checks
):
    config = _database(url)
    assert config["CONN_MAX_AGE"] == max_age
    assert config["CONN_HEALTH_CHECKS"] is health_checks
