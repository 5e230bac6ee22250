"""pytest-django configuration shared by every test directory.

Django is configured for all tests (``yibao.settings`` unless DJANGO_SETTINGS_MODULE says
otherwise) so that tests/records can use pytest-django's database fixtures; the policy
tests use no database.
"""

import os

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")


def pytest_configure(config: pytest.Config) -> None:
    # pytest-django's own (trylast) pytest_configure then finds Django ready and blocks
    # database access outside tests that ask for it.
    django.setup()
