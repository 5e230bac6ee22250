"""Township cash limits, collectors' daily closes, receipt books and voided receipts, and the
record of each tax-system payment list imported.

An app of its own beside ``collection`` (whose payments and remittances it reads and never
changes): the controls a township runs over the ledger, with their own migrations.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from yibao.collection.models import MONEY, StaffMember
from yibao.registry.models import Township

# The documents name the two limits of 双限报解 but give no figures (Bishan 九（五）); these
# are the product's defaults until a township sets its own, and every page says so.
DEFAULT_LIMIT_AMOUNT = Decimal("5000.00")
DEFAULT_LIMIT_DAYS = 7


class CashLimit(models.Model):
    """双限报解: the most cash a collector may hold, and for how many days, in one township."""

    township = models.OneToOneField(
        Township, verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="cash_limit"
    )
    amount = models.DecimalField("限额（元）", **MONEY)
    days = models.PositiveSmallIntegerField("限时（天）")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField("设置时间", auto_now=True)

    class Meta:
        verbose_name = "现金双限"
        verbose_name_plural = "现金双限"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, days__gt=0), name="cash_limit_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.township} {self.amount}元/{self.days}天"


class DailyClose(models.Model):
    """日结: one collector's day, as it stood when they closed it. Nothing dated on a closed
    day may be written for the collector afterwards; a correction is a reversal on a later day.
    """

    collector = models.ForeignKey(
        StaffMember, verbose_name="征收员", on_delete=models.PROTECT, related_name="daily_closes"
    )
    day = models.DateField("日期")
    held_opening = models.DecimalField("日初手中现金", **MONEY)
    cash_count = models.PositiveIntegerField("现金缴费笔数")
    cash_taken = models.DecimalField("现金缴费金额", **MONEY)
    zero_declarations = models.PositiveIntegerField("零申报笔数")
    reversal_count = models.PositiveIntegerField("冲正笔数")
    reversed_cash = models.DecimalField("冲正退还现金", **MONEY)
    remitted = models.DecimalField("当日解缴", **MONEY)
    held = models.DecimalField("日终手中现金", **MONEY)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="日结人", on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField("日结时间")
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "日结"
        verbose_name_plural = "日结"
        ordering = ["-day", "collector_id"]
        constraints = [
            models.UniqueConstraint(fields=["collector", "day"], name="daily_close_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.collector} {self.day} 日结"


class ReceiptBook(models.Model):
    """现金收缴凭证: a numbered range issued by the township to one collector.

    A receipt number is ``prefix`` and the number zero-padded to ``width`` digits."""

    township = models.ForeignKey(
        Township, verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="+"
    )
    collector = models.ForeignKey(
        StaffMember, verbose_name="征收员", on_delete=models.PROTECT, related_name="receipt_books"
    )
    prefix = models.CharField("字头", max_length=16)
    first = models.PositiveIntegerField("起始号")
    last = models.PositiveIntegerField("终止号")
    width = models.PositiveSmallIntegerField("号码位数", default=8)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发放人", on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("发放时间", auto_now_add=True)

    class Meta:
        verbose_name = "收据本"
        verbose_name_plural = "收据本"
        ordering = ["prefix", "first"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last__gte=models.F("first"), first__gt=0),
                name="receipt_book_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number(self.first)}–{self.number(self.last)}"

    def number(self, n: int) -> str:
        return f"{self.prefix}{n:0{self.width}d}"


class ReceiptVoid(models.Model):
    """A receipt of a book spoiled or cancelled (作废), with the reason."""

    book = models.ForeignKey(
        ReceiptBook, verbose_name="收据本", on_delete=models.PROTECT, related_name="voids"
    )
    number = models.PositiveIntegerField("号码")
    reason = models.CharField("作废原因", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "作废收据"
        verbose_name_plural = "作废收据"
        ordering = ["book_id", "number"]
        constraints = [models.UniqueConstraint(fields=["book", "number"], name="receipt_void_once")]

    def __str__(self) -> str:
        return f"{self.book.number(self.number)} 作废"


class TaxImport(models.Model):
    """One tax-system payment list as imported: the file, what came of it, who did it."""

    township = models.ForeignKey(
        Township, verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField("文件名", max_length=200)
    sha256 = models.CharField("文件摘要", max_length=64)
    rows = models.PositiveIntegerField("明细行数")
    recorded = models.PositiveIntegerField("新登记缴费")
    already = models.PositiveIntegerField("此前已登记")
    discrepancies = models.JSONField("差异", default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "税务缴费明细导入"
        verbose_name_plural = "税务缴费明细导入"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_name} {self.imported_at:%Y-%m-%d}"
