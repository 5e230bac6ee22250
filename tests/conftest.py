"""Shared test configuration.

pytest-django reads ``DJANGO_SETTINGS_MODULE = "yibao.settings"`` from pyproject.toml and
sets Django up before any conftest is imported; tests/records uses the database, the
policy tests do not.

Transactional tests (``django_db(transaction=True)``, ``live_server``) end with Django's
flush. On PostgreSQL that is a TRUNCATE, which the audit table's row triggers do not see;
on SQLite it is a DELETE, which the append-only triggers (audit log, payments,
remittances) rightly refuse. So, for tests only, the SQLite flush lifts those triggers
around itself and puts them back, in the same transaction. Nothing in the application can do this.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.test.utils import override_settings

from yibao.core.integrity import APPEND_ONLY, sqlite_drop_statements, sqlite_statements
from yibao.registry.idcrypto import ENV_KEY, ENV_KEY_FILE, key_file_create

# ID numbers are encrypted at rest (yibao.registry.idcrypto): the tests make their own key
# file, one per process, unless a key is given; subprocesses (the CLI, gunicorn) inherit it.
if not os.environ.get(ENV_KEY) and not os.environ.get(ENV_KEY_FILE):
    _key_file = Path(tempfile.gettempdir()) / f"yibao-test-field-key-{os.getpid()}"
    _key_file.unlink(missing_ok=True)
    key_file_create(_key_file)
    os.environ[ENV_KEY_FILE] = str(_key_file)
    atexit.register(_key_file.unlink, missing_ok=True)

SQLiteOperations = SQLiteWrapper.ops_class
_flush = SQLiteOperations.execute_sql_flush


def _flush_lifting_the_audit_trigger(self: object, sql_list: list[str]) -> None:
    tables = [t for t in APPEND_ONLY if any(t in sql for sql in sql_list)]
    if not tables:
        _flush(self, sql_list)
        return
    lift = [sql for t in tables for sql in sqlite_drop_statements(t)]
    restore = [sql for t in tables for sql in sqlite_statements(t)]
    _flush(self, [*lift, *sql_list, *restore])


SQLiteOperations.execute_sql_flush = _flush_lifting_the_audit_trigger  # type: ignore[method-assign]

PLAIN_STATIC_STORAGE = "django.contrib.staticfiles.storage.StaticFilesStorage"


@pytest.fixture(autouse=True, scope="session")
def _static_files_without_collectstatic():
    """Plain static file names in tests: the hashed names of the production storage need a
    manifest written by ``collectstatic``, which tests do not run (Django's advice for
    ManifestStaticFilesStorage). The live server serves the apps' files through the finders."""
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC_STORAGE}}
    with override_settings(STORAGES=plain):
        yield
