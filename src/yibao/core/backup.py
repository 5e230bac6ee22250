"""Backup and restore of the whole database, consistent while the server runs.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the live database page
by page into a new file, which is itself an SQLite database. PostgreSQL: ``pg_dump`` in its
custom format (``-Fc``), restored with ``pg_restore``; both read the connection settings
from ``DATABASE_URL`` (password through ``PGPASSWORD``, never on the command line).

A restore goes into an empty database (``force`` overwrites one that is not) and refuses a
backup made by a newer version of yibao: one whose ``django_migrations`` lists a migration
this code does not know. An older backup is restored as it is; ``yibao migrate`` then brings
it up to date.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connections

from .errors import ApplicationError

SQLITE_PAGES_PER_STEP = 1024


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int
    schema: str  # the latest applied migration of each app, e.g. "core.0003 collection.0002"


def _engine(settings_dict: dict[str, Any]) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise ApplicationError("backup_unsupported", f"不支持备份此类数据库：{engine}")


def _known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _schema(applied: set[tuple[str, str]]) -> str:
    latest: dict[str, str] = {}
    for app, name in applied:
        latest[app] = max(latest.get(app, ""), name)
    return " ".join(f"{app}.{name.split('_')[0]}" for app, name in sorted(latest.items()))


def _refuse_newer(applied: set[tuple[str, str]]) -> None:
    unknown = sorted(applied - _known_migrations())
    if unknown:
        names = "、".join(f"{app}.{name}" for app, name in unknown[:5])
        raise ApplicationError(
            "backup_newer_schema",
            f"该备份来自更新版本的系统（含本程序不认识的数据库迁移：{names}），请先升级程序再恢复",
            migrations=[f"{app}.{name}" for app, name in unknown],
        )


# --- SQLite -----------------------------------------------------------------------------------


def _sqlite_applied(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return set(db.execute("SELECT app, name FROM django_migrations").fetchall())
        except sqlite3.DatabaseError:
            raise ApplicationError(
                "backup_invalid", f"{path.name}不是 yibao 的 SQLite 备份文件", path=str(path)
            ) from None


def _sqlite_backup(using: str, path: Path) -> None:
    connection = connections[using]
    connection.ensure_connection()
    temporary = path.with_name(f".{path.name}.partial")
    temporary.unlink(missing_ok=True)
    target = sqlite3.connect(temporary)
    try:
        connection.connection.backup(target, pages=SQLITE_PAGES_PER_STEP)
    finally:
        target.close()
    os.replace(temporary, path)


def _sqlite_tables(path: Path) -> list[str]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    return [row[0] for row in rows]


def _sqlite_restore(path: Path, target: Path) -> None:
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination, pages=SQLITE_PAGES_PER_STEP)
    finally:
        source.close()
        destination.close()


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_command(program: str, settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    binary = shutil.which(program)
    if binary is None:
        raise ApplicationError(
            "backup_tool_missing",
            f"找不到 {program}：请安装 PostgreSQL 客户端（Debian: postgresql-client）",
        )
    args = [binary, "--no-password"]
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return args, env


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ApplicationError(
            "backup_failed", f"{what}失败：{done.stderr.strip()[-500:]}", returncode=done.returncode
        )
    return done.stdout


def _pg_backup(settings_dict: dict[str, Any], path: Path) -> None:
    args, env = _pg_command("pg_dump", settings_dict)
    temporary = path.with_name(f".{path.name}.partial")
    _run(
        [*args, "--format=custom", "--file", str(temporary), str(settings_dict["NAME"])],
        env,
        "pg_dump 备份",
    )
    os.replace(temporary, path)


_COPY_LINE = re.compile(r"^COPY public\.django_migrations \(([^)]*)\) FROM stdin;$")


def _pg_applied(settings_dict: dict[str, Any], path: Path) -> set[tuple[str, str]]:
    args, env = _pg_command("pg_restore", settings_dict)
    script = _run(
        [*args, "--data-only", "--table=django_migrations", "--file=-", str(path)],
        env,
        "读取备份",
    )
    applied: set[tuple[str, str]] = set()
    columns: list[str] | None = None
    for line in script.splitlines():
        if columns is None:
            match = _COPY_LINE.match(line)
            if match:
                columns = [c.strip() for c in match.group(1).split(",")]
            continue
        if line == "\\.":
            break
        values = dict(zip(columns, line.split("\t"), strict=False))
        applied.add((values["app"], values["name"]))
    if columns is None:
        raise ApplicationError(
            "backup_invalid", f"{path.name}不是 yibao 的 PostgreSQL 备份文件", path=str(path)
        )
    return applied


def _pg_tables(settings_dict: dict[str, Any]) -> list[str]:
    import psycopg

    with psycopg.connect(
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        dbname=settings_dict["NAME"],
    ) as db:
        rows = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return [row[0] for row in rows]


def _pg_restore(settings_dict: dict[str, Any], path: Path, *, force: bool) -> None:
    args, env = _pg_command("pg_restore", settings_dict)
    clean = ["--clean", "--if-exists"] if force else []
    _run(
        [
            *args,
            *clean,
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(settings_dict["NAME"]),
            str(path),
        ],
        env,
        "pg_restore 恢复",
    )


# --- the two commands -------------------------------------------------------------------------


def backup_create(*, path: str | Path, using: str = "default") -> BackupResult:
    """Back the database ``using`` up to ``path`` (written under a temporary name first)."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    settings_dict = connections[using].settings_dict
    if _engine(settings_dict) == "sqlite":
        _sqlite_backup(using, path)
        applied = _sqlite_applied(path)
    else:
        _pg_backup(settings_dict, path)
        applied = _pg_applied(settings_dict, path)
    return BackupResult(path=path, size=path.stat().st_size, schema=_schema(applied))


def backup_restore(
    *, path: str | Path, database: dict[str, Any] | None = None, force: bool = False
) -> BackupResult:
    """Restore ``path`` into ``database`` (connection settings; the default database when
    ``None``). Refuses ``backup_newer_schema``, and ``restore_target_not_empty`` unless
    ``force``."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ApplicationError("backup_missing", f"找不到备份文件：{path}", path=str(path))
    settings_dict = database or connections["default"].settings_dict
    engine = _engine(settings_dict)
    applied = _sqlite_applied(path) if engine == "sqlite" else _pg_applied(settings_dict, path)
    _refuse_newer(applied)
    if engine == "sqlite":
        target = Path(settings_dict["NAME"])
        tables = _sqlite_tables(target)
    else:
        tables = _pg_tables(settings_dict)
    if tables and not force:
        raise ApplicationError(
            "restore_target_not_empty",
            f"目标数据库已有{len(tables)}张表：恢复只写入空数据库（确需覆盖请加 --force）",
            tables=len(tables),
        )
    if database is None:
        connections["default"].close()
    if engine == "sqlite":
        _sqlite_restore(path, target)
    else:
        _pg_restore(settings_dict, path, force=force)
    return BackupResult(path=path, size=path.stat().st_size, schema=_schema(applied))
