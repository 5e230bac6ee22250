"""The append-only audit log."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from . import chain


class UnicodeJSONEncoder(DjangoJSONEncoder):
    """Compact JSON as UTF-8 text: 张三, not \\u5f20\\u4e09 (a third of the bytes for
    Chinese), and no space after ``,`` or ``:`` (SQLite stores the text as written; an
    audit row has dozens of pairs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit record through the application."""


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    # Integrity guard, not a business rule: the audit trail is append-only.
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("审计日志只能追加，不能修改")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("审计日志只能追加，不能删除")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("审计日志只能追加，不能修改")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditLog]:
        # Integrity guard: every append is sealed into the hash chain, in order.
        entries = list(objs)
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise AppendOnlyError("审计日志只能追加，不能覆盖")
        with transaction.atomic(using=self.db, savepoint=False):
            chain.seal(entries)
            return super().bulk_create(entries, *args, **kwargs)


class AuditLog(models.Model):
    """Who did what, when, to which record, with the record before and after (ID masked).

    The table is append-only three times over: ``save()`` refuses an existing row,
    ``delete()`` and the queryset's ``update()``/``delete()`` raise, and database triggers
    (PostgreSQL and SQLite, :mod:`yibao.core.integrity`) abort any UPDATE or DELETE and, on
    SQLite, an INSERT OR REPLACE over an existing row. Each row carries the keyed hash of
    the row before it (:mod:`yibao.core.chain`), so a row changed by someone who lifted the
    triggers is named by ``yibao audit verify``.
    """

    # Few indexes: entries are read by record (object_type, object_id), by user (actor) and
    # newest first (id); every index is paid for on each of millions of appends.
    at = models.DateTimeField("时间", default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField("操作人用户名", max_length=150, blank=True)
    action = models.CharField("操作", max_length=64)
    object_type = models.CharField("对象类型", max_length=64)
    object_id = models.CharField("对象编号", max_length=64)
    before = models.JSONField("修改前", null=True, blank=True, encoder=UnicodeJSONEncoder)
    after = models.JSONField("修改后", null=True, blank=True, encoder=UnicodeJSONEncoder)
    # 32 raw bytes each (HMAC-SHA256), not 64 hex characters: the chain is in every row.
    prev_hash = models.BinaryField("前一条哈希", null=True, blank=True)
    row_hash = models.BinaryField("本条哈希", null=True, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("审计日志只能追加，不能修改")
        kwargs["force_insert"] = True
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):
            chain.seal([self])
            super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("审计日志只能追加，不能删除")
