"""``yibao demo`` end to end, in subprocesses on their own SQLite files: same seed, same data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TEST_SETTINGS = """
from yibao.settings import *  # noqa: F403
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""


def _demo(tmp_path: Path, name: str, *args: str) -> str:
    (tmp_path / "demo_test_settings.py").write_text(TEST_SETTINGS)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / name}.sqlite3",
        "DJANGO_SETTINGS_MODULE": "demo_test_settings",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    env.pop("YIBAO_TODAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "yibao.cli", "demo", "--no-serve", "--digest", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _digest(output: str) -> str:
    match = re.search(r"数据摘要：([0-9a-f]{64})", output)
    assert match, output
    return match.group(1)


def test_same_seed_same_data_in_two_databases(tmp_path):
    first = _demo(tmp_path, "one", "--residents", "300", "--seed", "5")
    second = _demo(tmp_path, "two", "--residents", "300", "--seed", "5")
    other = _demo(tmp_path, "three", "--residents", "300", "--seed", "6")
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(other)
    assert "YIBAO_TODAY=2022-12-05" in first
    assert "[26/26] 100%" in first
    assert first.count("◀ 后三名") == 3


def test_second_run_keeps_the_data_and_reset_rebuilds_it(tmp_path):
    first = _demo(tmp_path, "keep", "--residents", "200", "--seed", "3")
    again = _demo(tmp_path, "keep", "--residents", "200", "--seed", "3")
    assert "演示数据已存在" in again
    assert _digest(again) == _digest(first)
    rebuilt = _demo(tmp_path, "keep", "--residents", "200", "--seed", "4", "--reset")
    assert "建立三江街道演示数据" in rebuilt
    assert _digest(rebuilt) != _digest(first)
