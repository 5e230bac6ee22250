"""Data taken in from outside: official division codes and departments' lists."""

from __future__ import annotations

from django.db import models


class Division(models.Model):
    """统计用区划代码: one official area, province to village, code padded to 12 digits."""

    class Level(models.TextChoices):
        PROVINCE = "province", "省级"
        CITY = "city", "地级"
        COUNTY = "county", "县级"
        TOWNSHIP = "township", "乡级（街道、镇）"
        VILLAGE = "village", "村级（村、社区）"

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("级别", max_length=16, choices=Level.choices)
    parent_code = models.CharField("上级代码", max_length=12, blank=True, db_index=True)
    source = models.CharField("来源", max_length=100)

    class Meta:
        verbose_name = "统计用区划代码"
        verbose_name_plural = "统计用区划代码"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
