from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_triggers(using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from .integrity import ensure_triggers

    ensure_triggers(connections[using])


class CoreConfig(AppConfig):
    name = "yibao.core"
    label = "core"
    verbose_name = "基础"

    def ready(self) -> None:
        # A table rebuilt by a later SQLite migration loses its triggers: put them back.
        post_migrate.connect(_ensure_triggers, sender=self, dispatch_uid="yibao.core.triggers")
        from . import signin_audit

        signin_audit.connect()
