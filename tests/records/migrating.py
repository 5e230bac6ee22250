"""Running the migrations back and forth inside a test (for the tests of data migrations)."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(target: list[tuple[str, str]]) -> MigrationExecutor:
    """Migrate the test database to ``target``; the executor's loader knows the states."""
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor


def migrate_to_latest() -> None:
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
