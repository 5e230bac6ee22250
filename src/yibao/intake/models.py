"""Data taken in from outside: official division codes and departments' lists."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yibao.registry.models import IdNumberAtRest


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


class IdentityList(models.Model):
    """One monthly (or campaign) list of hardship identities from a certifying department,
    staged until a township or district office confirms it."""

    class Status(models.TextChoices):
        STAGED = "staged", "待确认"
        CONFIRMED = "confirmed", "已确认"
        DISCARDED = "discarded", "已作废"

    township = models.ForeignKey(
        "registry.Township", verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField("认定部门", max_length=64)
    batch = models.CharField("批次", max_length=64, help_text="如 2022-11 或 集中参保期")
    list_date = models.DateField("名单日期")
    policy_id = models.CharField("政策", max_length=64)
    source = models.CharField("来源文件", max_length=200)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.STAGED)
    previous = models.ForeignKey(
        "self",
        verbose_name="上一份名单",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    counts = models.JSONField("各类变化人数", default=dict)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("导入时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认（作废）人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("确认（作废）时间", null=True, blank=True)

    class Meta:
        verbose_name = "部门身份名单"
        verbose_name_plural = "部门身份名单"
        ordering = ["-list_date", "-id"]

    def __str__(self) -> str:
        return f"{self.department} {self.batch}"


class IdentityListEntry(IdNumberAtRest):
    """One person's identity on a list, and how it differs from the department's last list."""

    class Change(models.TextChoices):
        NEW = "new", "新增"
        CHANGED = "changed", "变更"
        UNCHANGED = "unchanged", "未变"
        ENDED = "ended", "退出"
        UNKNOWN_PERSON = "unknown_person", "系统中无此人"
        INVALID = "invalid", "有误"

    identity_list = models.ForeignKey(
        IdentityList, verbose_name="名单", on_delete=models.CASCADE, related_name="entries"
    )
    row = models.PositiveIntegerField("行号", null=True, blank=True)
    name = models.CharField("姓名", max_length=64, blank=True)
    person = models.ForeignKey(
        "registry.Person",
        verbose_name="参保人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    category_key = models.CharField("身份类别", max_length=64, blank=True)
    valid_from = models.DateField("有效期起", null=True, blank=True)
    valid_to = models.DateField("有效期止", null=True, blank=True)
    change = models.CharField("变化", max_length=16, choices=Change.choices)
    detail = models.CharField("说明", max_length=300, blank=True)
    flags = models.JSONField("提示", default=list, blank=True)
    applied = models.CharField("多重身份适用", max_length=300, blank=True)
    tag = models.ForeignKey(
        "registry.IdentityTag",
        verbose_name="身份标识",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "名单条目"
        verbose_name_plural = "名单条目"
        ordering = ["identity_list_id", "row", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.category_key} {self.get_change_display()}"


class PersonList(models.Model):
    """A list of facts about people from an authority: deaths (公安、民政), employee insurance
    (职工医保), university students (高校) for a benefit year."""

    class Kind(models.TextChoices):
        DEATH = "death", "死亡名单"
        EMPLOYEE = "employee", "职工医保参保名单"
        UNIVERSITY = "university", "在校大学生名单"
        ECARD = "ecard", "医保电子凭证激活名单"

    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    township = models.ForeignKey(
        "registry.Township", verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="+"
    )
    benefit_year = models.PositiveSmallIntegerField("年度")
    source = models.CharField("来源文件", max_length=200)
    counts = models.JSONField("各类结果人数", default=dict)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="导入人", on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "部门人员名单"
        verbose_name_plural = "部门人员名单"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.benefit_year} {self.source}"


class PersonListEntry(IdNumberAtRest):
    """One row of a :class:`PersonList` and what it did."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "已标记"
        ALREADY = "already", "此前已标记"
        UNKNOWN_PERSON = "unknown_person", "系统中无此人"
        INVALID = "invalid", "有误"

    person_list = models.ForeignKey(
        PersonList, verbose_name="名单", on_delete=models.CASCADE, related_name="entries"
    )
    row = models.PositiveIntegerField("行号")
    name = models.CharField("姓名", max_length=64, blank=True)
    person = models.ForeignKey(
        "registry.Person",
        verbose_name="参保人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices)
    detail = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "人员名单条目"
        verbose_name_plural = "人员名单条目"
        ordering = ["person_list_id", "row"]

    def __str__(self) -> str:
        return f"{self.name} {self.get_outcome_display()}"


class CardActivation(models.Model):
    """A person's electronic medical insurance card (医保电子凭证) is activated, as the
    district's list says."""

    person = models.OneToOneField(
        "registry.Person", verbose_name="参保人", on_delete=models.PROTECT, related_name="+"
    )
    activated_on = models.DateField("激活日期", null=True, blank=True)
    person_list = models.ForeignKey(
        PersonList, verbose_name="来源名单", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "医保电子凭证激活"
        verbose_name_plural = "医保电子凭证激活"

    def __str__(self) -> str:
        return f"{self.person} {self.activated_on or ''}"
