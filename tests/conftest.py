"""Shared test configuration.

pytest-django reads ``DJANGO_SETTINGS_MODULE = "yibao.settings"`` from pyproject.toml and
sets Django up before any conftest is imported; tests/records uses the database, the
policy tests do not.
"""
