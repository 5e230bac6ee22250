"""The township's campaign records: target tables, target reductions (核减) and bulletins (通报).

These are administrative decisions about the campaign, not ledger entries of people and
money: a target table is imported, checked by the policy engine and accepted; a reduction is
recorded with its evidence and revoked, never deleted; a bulletin is issued for a date and
keeps the figures it published. The ledger's progress selectors read the accepted targets
and the live reductions from here (models only; nothing here imports the ledger's code).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yibao.registry.models import Person, Township, Village


class TargetTable(models.Model):
    """目标任务分配表 of one policy for one township, as imported from the clerk's sheet."""

    class Status(models.TextChoices):
        DRAFT = "draft", "待核对"
        ACCEPTED = "accepted", "已采用"
        SUPERSEDED = "superseded", "已被替换"
        DISCARDED = "discarded", "已放弃"

    policy_id = models.CharField("政策", max_length=64)
    township = models.ForeignKey(
        Township, verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="+"
    )
    source_name = models.CharField("来源文件", max_length=200)
    columns = models.JSONField("栏目", default=list)  # [[key, label], ...] as printed
    totals = models.JSONField("合计行", default=dict, blank=True)
    findings = models.JSONField("核对发现", default=list, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.DRAFT)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("导入时间")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="采用人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_at = models.DateTimeField("采用时间", null=True, blank=True)

    class Meta:
        verbose_name = "目标任务表"
        verbose_name_plural = "目标任务表"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy_id", "township"],
                condition=models.Q(status="accepted"),
                name="target_table_one_accepted",
            )
        ]

    def __str__(self) -> str:
        return f"{self.township} {self.policy_id} {self.source_name}（{self.get_status_display()}）"


class TargetRow(models.Model):
    """One village's row of a target table, with every printed column in ``values``."""

    table = models.ForeignKey(
        TargetTable, verbose_name="任务表", on_delete=models.CASCADE, related_name="rows"
    )
    village = models.ForeignKey(
        Village, verbose_name="村（社区）", on_delete=models.PROTECT, related_name="+"
    )
    seq = models.PositiveIntegerField("序号", null=True, blank=True)
    target = models.PositiveIntegerField("目标任务数")
    period_target = models.PositiveIntegerField("集中缴费期目标", null=True, blank=True)
    should_enroll = models.PositiveIntegerField("应参保人数（表列）", null=True, blank=True)
    values = models.JSONField("各栏数值", default=dict)

    class Meta:
        verbose_name = "目标任务"
        verbose_name_plural = "目标任务"
        ordering = ["table_id", "seq", "id"]
        constraints = [
            models.UniqueConstraint(fields=["table", "village"], name="target_row_one_per_village")
        ]


class TargetReduction(models.Model):
    """核减: one person taken out of a village's target for a benefit year, with evidence.

    Revoked by setting ``revoked_at`` with a reason (audited), never deleted.
    """

    class Scope(models.TextChoices):
        IN_CITY = "in_city", "市内参保"
        OUT_OF_CITY = "out_of_city", "市外参保"

    person = models.ForeignKey(
        Person, verbose_name="参保人", on_delete=models.PROTECT, related_name="target_reductions"
    )
    village = models.ForeignKey(
        Village, verbose_name="核减村（社区）", on_delete=models.PROTECT, related_name="+"
    )
    policy_id = models.CharField("政策", max_length=64)
    benefit_year = models.PositiveSmallIntegerField("年度")
    scope = models.CharField("参保地", max_length=16, choices=Scope.choices)
    insured_where = models.CharField("参保地或单位", max_length=100)
    coverage_from = models.DateField("参保期起", null=True, blank=True)
    coverage_to = models.DateField("参保期止", null=True, blank=True)
    evidence = models.TextField("佐证材料")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("登记时间")
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoke_reason = models.CharField("撤销原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "目标任务核减"
        verbose_name_plural = "目标任务核减"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "benefit_year"],
                condition=models.Q(revoked_at__isnull=True),
                name="target_reduction_one_live_per_person_year",
            )
        ]


class Bulletin(models.Model):
    """通报 issued for a date: the figures as published, kept for the record and the next
    bulletin's comparison."""

    policy_id = models.CharField("政策", max_length=64)
    township = models.ForeignKey(
        Township, verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="+"
    )
    on = models.DateField("通报截至日")
    scheduled = models.BooleanField("按规定日程", default=False)
    figures = models.JSONField("通报数据")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField("发布时间")

    class Meta:
        verbose_name = "通报"
        verbose_name_plural = "通报"
        ordering = ["-on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy_id", "township", "on"], name="bulletin_one_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.township} {self.on} 通报"
