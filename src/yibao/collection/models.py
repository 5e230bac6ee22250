"""Collectors, enrollments, payments (append-only) and cash remittances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NoReturn

from django.conf import settings
from django.db import models

from yibao.core.models import UnicodeJSONEncoder
from yibao.registry.models import District, IdentityTag, Person, Township, Village

MONEY = {"max_digits": 12, "decimal_places": 2}


class StaffMember(models.Model):
    """A member of staff and their role: a village collector with their villages, a township
    office (社保所), a district office (医保局) or an auditor, each with their area."""

    class Role(models.TextChoices):
        COLLECTOR = "collector", "村（社区）征收员"
        TOWNSHIP = "township", "街道社保所"
        DISTRICT = "district", "区医保局"
        AUDITOR = "auditor", "审计（只读）"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.PROTECT,
        related_name="staff",
    )
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.COLLECTOR)
    villages = models.ManyToManyField(
        Village, verbose_name="负责村（社区）", blank=True, related_name="collectors"
    )
    township = models.ForeignKey(
        Township,
        verbose_name="街道（镇）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        District,
        verbose_name="区县",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    phone = models.CharField("联系电话", max_length=32, blank=True)

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"

    def __str__(self) -> str:
        return (
            f"{self.user.get_full_name() or self.user.get_username()}（{self.get_role_display()}）"
        )


class QuoteRecord(models.Model):
    """One distinct quote of the policy engine (amounts, identity, coverage, notes, sources),
    stored once and referenced by every enrollment quoted the same: a township has a few
    hundred distinct quotes for tens of thousands of enrollments. Never changed: an
    enrollment re-quoted points to another record."""

    digest = models.CharField("摘要（SHA-256）", max_length=64, unique=True)
    body = models.JSONField("核定明细", encoder=UnicodeJSONEncoder)

    class Meta:
        verbose_name = "核定明细"
        verbose_name_plural = "核定明细"

    def __str__(self) -> str:
        return f"{self.body.get('policy')} {self.body.get('paid_on')} {self.digest[:8]}"


class Enrollment(models.Model):
    """参保登记 of one person for one benefit year.

    Amounts, applied identity and coverage come from the policy engine's quote; they are
    re-quoted when paid (the payment date decides surcharge and coverage) and then frozen.
    """

    class Population(models.TextChoices):
        RESIDENT = "resident", "城乡居民"
        UNIVERSITY_STUDENT = "university_student", "在渝高校大学生"
        NEWBORN = "newborn", "新生儿"

    class Status(models.TextChoices):
        UNPAID = "unpaid", "未缴费"
        PAID = "paid", "已缴费"
        DECEASED = "deceased", "已死亡（待核）"

    # No index of its own: the unique (person, benefit_year) below leads with it.
    person = models.ForeignKey(
        Person,
        verbose_name="参保人",
        on_delete=models.PROTECT,
        related_name="enrollments",
        db_index=False,
    )
    village = models.ForeignKey(
        Village,
        verbose_name="参保村（社区）",
        on_delete=models.PROTECT,
        related_name="enrollments",
    )
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    policy_id = models.CharField("政策", max_length=64)
    tier = models.PositiveSmallIntegerField("档次", choices=[(1, "一档"), (2, "二档")])
    population = models.CharField(
        "人群", max_length=32, choices=Population.choices, default=Population.RESIDENT
    )
    identity_code = models.CharField("资助身份代码", max_length=32, blank=True)
    identity_name = models.CharField("资助身份", max_length=64, blank=True)
    standard = models.DecimalField("个人缴费标准", **MONEY)
    subsidy = models.DecimalField("资助金额", **MONEY)
    personal = models.DecimalField("个人实缴", **MONEY)
    coverage_start = models.DateField("待遇享受起", null=True, blank=True)
    coverage_end = models.DateField("待遇享受止", null=True, blank=True)
    quoted_on = models.DateField("核定日期")
    quote_record = models.ForeignKey(
        QuoteRecord,
        verbose_name="核定明细",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.UNPAID)
    paid_at = models.DateTimeField("缴费时间", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "参保登记"
        verbose_name_plural = "参保登记"
        constraints = [
            # The last line against double enrollment, also across villages and under races.
            models.UniqueConstraint(
                fields=["person", "benefit_year"], name="enrollment_one_per_person_year"
            ),
            models.CheckConstraint(
                condition=models.Q(standard=models.F("subsidy") + models.F("personal")),
                name="enrollment_standard_is_subsidy_plus_personal",
            ),
        ]
        # Covers the progress figures (collection.selectors.ledger_counts: enrolled, and paid
        # at several cut-offs, per village in one pass) from the index alone.
        indexes = [
            models.Index(
                fields=["benefit_year", "village", "status", "paid_at", "created_at", "quoted_on"],
                name="enrollment_progress_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.benefit_year}年度 {self.get_tier_display()}"

    @property
    def quote(self) -> dict[str, Any]:
        """The policy engine's quote this enrollment was priced by (as ``Quote.to_dict()``)."""
        return self.quote_record.body if self.quote_record_id else {}


class PaymentQuerySet(models.QuerySet["Payment"]):
    # Integrity guard: payments are corrected by a reversing entry, never edited or deleted.
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("缴费记录不能修改，请冲正")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise TypeError("缴费记录不能删除，请冲正")


class Payment(models.Model):
    """缴费: append-only. A reversal is a new row with the negated amount and ``reverses`` set.

    ``slot`` is the number of reversals of this enrollment before this payment; it is unique
    per enrollment among non-reversal rows, so two payments for the same enrollment cannot
    both commit even if two requests race past every check.
    """

    class Channel(models.TextChoices):
        WECHAT = "wechat", "微信"
        ALIPAY = "alipay", "支付宝"
        YUKUAIBAN = "yukuaiban", "渝快办"
        UNIONPAY = "unionpay", "云闪付"
        CQRCB_APP = "cqrcb_app", "重庆农商行APP"
        TAX_BUREAU = "tax_bureau", "电子税务局"
        VILLAGE_POS = "village_pos", "村POS机"
        CASH = "cash", "现金"
        POST_OFFICE = "post_office", "邮政代缴"

    enrollment = models.ForeignKey(
        Enrollment, verbose_name="参保登记", on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField("金额", **MONEY)
    channel = models.CharField("缴费渠道", max_length=16, choices=Channel.choices)
    receipt_number = models.CharField("票据号", max_length=64, unique=True, null=True, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=64, unique=True, null=True, blank=True)
    # No index of its own: the (collector, channel) index below leads with it.
    collector = models.ForeignKey(
        StaffMember,
        verbose_name="征收员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,
    )
    paid_at = models.DateTimeField("缴费时间")
    slot = models.PositiveIntegerField("缴费序次", default=0)
    reverses = models.OneToOneField(
        "self",
        verbose_name="冲正原缴费",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    reason = models.CharField("冲正原因", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "缴费记录"
        verbose_name_plural = "缴费记录"
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "slot"],
                condition=models.Q(reverses__isnull=True),
                name="payment_one_per_enrollment_slot",
            ),
            models.CheckConstraint(
                condition=models.Q(reverses__isnull=True, amount__gte=0)
                | models.Q(reverses__isnull=False, amount__lte=0),
                name="payment_sign_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["collector", "channel"])]

    def __str__(self) -> str:
        return f"{self.enrollment.person} {self.amount} {self.get_channel_display()}"

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def is_zero_declaration(self) -> bool:
        """零申报: the person is fully subsidised and pays nothing."""
        return self.reverses_id is None and self.amount == Decimal("0")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("缴费记录不能修改，请冲正")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("缴费记录不能删除，请冲正")


class Remittance(models.Model):
    """入库解缴: cash a collector hands to the bank. Cash on hand = cash taken - remitted."""

    collector = models.ForeignKey(
        StaffMember, verbose_name="征收员", on_delete=models.PROTECT, related_name="remittances"
    )
    amount = models.DecimalField("解缴金额", **MONEY)
    remitted_at = models.DateTimeField("解缴时间")
    bank = models.CharField("收款银行", max_length=64, blank=True)
    slip_number = models.CharField("解缴凭证号", max_length=64, unique=True, null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    class Meta:
        verbose_name = "现金解缴"
        verbose_name_plural = "现金解缴"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="remittance_positive")
        ]

    def __str__(self) -> str:
        return f"{self.collector} {self.amount}"


class ContactAttempt(models.Model):
    """A collector's call or visit to someone who has not paid, and what came of it.

    The latest outcome per person and year feeds the township's worklists (外出务工,
    已在外地参保 and 死亡待核 want checking by the office)."""

    class Outcome(models.TextChoices):
        CONTACTED = "contacted", "已联系"
        AWAY = "away", "外出务工"
        INSURED_ELSEWHERE = "insured_elsewhere", "已在外地参保"
        REFUSED = "refused", "拒绝"
        DECEASED_TO_CHECK = "deceased_to_check", "死亡待核"

    person = models.ForeignKey(
        Person, verbose_name="参保人", on_delete=models.PROTECT, related_name="contacts"
    )
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    outcome = models.CharField("联系结果", max_length=32, choices=Outcome.choices)
    note = models.CharField("备注", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="联系人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("联系时间", auto_now_add=True)

    class Meta:
        verbose_name = "催缴联系"
        verbose_name_plural = "催缴联系"
        indexes = [models.Index(fields=["benefit_year", "person"])]

    def __str__(self) -> str:
        return f"{self.person} {self.get_outcome_display()}"


class PolicySupplement(models.Model):
    """A cited document a shipped policy needs but the project did not have (Tongnan's
    潼南府办发〔2021〕77号), loaded by a district office: versioned, never edited."""

    policy_id = models.CharField("政策", max_length=64)
    version = models.PositiveIntegerField("版本")
    document = models.CharField("补充的文件", max_length=100)
    cite = models.CharField("出处", max_length=200)
    text = models.TextField("补充文件内容（TOML）")
    sha256 = models.CharField("内容摘要", max_length=64)
    note = models.CharField("说明", max_length=200, blank=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="载入人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    loaded_at = models.DateTimeField("载入时间", auto_now_add=True)

    class Meta:
        verbose_name = "政策补充文件"
        verbose_name_plural = "政策补充文件"
        ordering = ["policy_id", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy_id", "version"], name="policy_supplement_one_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} 补充文件第{self.version}版（{self.document}）"


class EnrollmentFact(models.Model):
    """What a township or district office records about one person's benefit year that the
    policy engine needs and no list provides: the person graduates from a Chongqing
    university this year (coverage to 31 December), moves to employee insurance during the
    year (预参保 during its waiting period, 璧城街道办发〔2022〕36号 八), or the office decides
    that the person enrolls now at full price without the subsidy that a document the policy
    cites but the project lacks would give (Tongnan's 潼南府办发〔2021〕77号). Never edited:
    a mistake is ended with a reason and recorded again."""

    class Kind(models.TextChoices):
        WITHOUT_SUBSIDY = "without_subsidy", "文件未收录期间不享受资助参保（经办决定）"
        GRADUATING = "graduating", "当年毕业的在渝高校大学生"
        EMPLOYEE_WAITING = "employee_waiting", "年度内转职工医保（等待期内预参保）"

    person = models.ForeignKey(
        Person, verbose_name="参保人", on_delete=models.PROTECT, related_name="enrollment_facts"
    )
    benefit_year = models.PositiveSmallIntegerField("待遇年度")
    policy_id = models.CharField("政策", max_length=64)
    kind = models.CharField("事项", max_length=32, choices=Kind.choices)
    starts_on = models.DateField("起始日", null=True, blank=True)
    ends_on = models.DateField("截止日", null=True, blank=True)
    reason = models.CharField("依据或原因", max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    ended_at = models.DateTimeField("撤销时间", null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    end_reason = models.CharField("撤销原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "参保情况登记"
        verbose_name_plural = "参保情况登记"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "benefit_year", "kind"],
                condition=models.Q(ended_at__isnull=True),
                name="enrollment_fact_one_live_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_on__isnull=True)
                | models.Q(ends_on__isnull=True)
                | models.Q(starts_on__lte=models.F("ends_on")),
                name="enrollment_fact_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.benefit_year}年度 {self.get_kind_display()}"


class HardshipTag(models.Model):
    """An identity tag as the bulletin's hardship pass reads it: one row per tag and benefit
    year of the shipped policies, with the facts of its person that decide whether the
    person is a hardship person who should enroll (household-register village, death,
    other insurance for the year) and has paid (the year's enrollment's ``paid_at`` when
    it is paid). A read copy, so that the pass reads these narrow rows instead of joining
    every tag to its person and enrollment.

    Kept by one function, :func:`yibao.collection.hardship.hardship_tags_refresh`, which
    every write path that changes one of these facts calls in its transaction (tags,
    deaths, other insurance, payments and reversals); ``yibao progress --check`` compares it
    with the source rows and ``yibao progress --rebuild-hardship`` rewrites it."""

    tag = models.ForeignKey(IdentityTag, on_delete=models.CASCADE, related_name="+", db_index=False)
    benefit_year = models.PositiveSmallIntegerField()
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+", db_index=False)
    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="+", db_index=False)
    category_key = models.CharField(max_length=64)
    valid_from = models.DateField(null=True)
    valid_to = models.DateField(null=True)
    deceased_on = models.DateField(null=True)
    other_insured = models.BooleanField()
    paid_at = models.DateTimeField(null=True)
    # The person has another tag (valid or not): counted once per village, not per tag.
    other_tags = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tag", "benefit_year"], name="hardship_tag_per_year")
        ]
        indexes = [models.Index(fields=["person", "benefit_year"], name="hardship_tag_person_idx")]


class VillagePeople(models.Model):
    """The people of a household-register village who should enroll for a benefit year as
    far as today's records tell: alive now and without other insurance for the year (one
    row per village that has any, for each benefit year of the shipped policies). The
    bulletin's should-enroll count for a day is this plus the people of the village who
    died after that day (:func:`yibao.collection.selectors.should_enroll_counts`), so that
    it reads 1,200 rows and the few deaths instead of a million people.

    Kept by :mod:`yibao.collection.village_people`, whose functions every write path that
    adds a person or changes a person's death or other insurance calls in its transaction
    (each adds to or takes from a count); ``yibao progress --check`` compares the counts
    with the people and ``yibao progress --rebuild-hardship`` rewrites them."""

    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="+", db_index=False)
    benefit_year = models.PositiveSmallIntegerField()
    people = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["village", "benefit_year"], name="village_people_per_year"
            )
        ]
