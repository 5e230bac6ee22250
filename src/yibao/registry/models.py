"""Administrative areas, households, persons, other insurance and identity tags."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from yibao.core.masking import mask_id_number

from .idcrypto import id_number_decrypt, id_number_fields, normalise


class District(models.Model):
    """区县, e.g. 綦江区 (administrative division code 500110)."""

    code = models.CharField("区划代码", max_length=12, unique=True, null=True, blank=True)
    name = models.CharField("名称", max_length=64, unique=True)

    class Meta:
        verbose_name = "区县"
        verbose_name_plural = "区县"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Township(models.Model):
    """街道 / 镇."""

    district = models.ForeignKey(
        District, verbose_name="区县", on_delete=models.PROTECT, related_name="townships"
    )
    code = models.CharField("区划代码", max_length=12, unique=True, null=True, blank=True)
    name = models.CharField("名称", max_length=64)

    class Meta:
        verbose_name = "街道（镇）"
        verbose_name_plural = "街道（镇）"
        ordering = ["district_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="township_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Village(models.Model):
    """村 / 社区: the unit a collector works in."""

    township = models.ForeignKey(
        Township, verbose_name="街道（镇）", on_delete=models.PROTECT, related_name="villages"
    )
    code = models.CharField("区划代码", max_length=12, unique=True, null=True, blank=True)
    name = models.CharField("名称", max_length=64)
    seq = models.PositiveIntegerField("序号", null=True, blank=True)

    class Meta:
        verbose_name = "村（社区）"
        verbose_name_plural = "村（社区）"
        ordering = ["township_id", "seq", "name"]
        constraints = [
            models.UniqueConstraint(fields=["township", "name"], name="village_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """户: first-time enrollment is done by household with the register book."""

    village = models.ForeignKey(
        Village, verbose_name="户籍村（社区）", on_delete=models.PROTECT, related_name="households"
    )
    number = models.CharField("户号", max_length=32, unique=True, null=True, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    head = models.OneToOneField(
        "Person",
        verbose_name="户主",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户"

    def __str__(self) -> str:
        return self.number or f"户#{self.pk}"


class IdNumberAtRest(models.Model):
    """A row holding an ID number, stored encrypted (issue 9, yibao.registry.idcrypto): the
    AES-GCM ciphertext and keyed blind indexes of the whole number and of its last six
    characters, all three written by ``id_number_fields``; read and written through the
    ``id_number`` property. ``yibao keys rotate`` re-encrypts every model built on this."""

    id_cipher = models.BinaryField("证件号码密文")
    id_digest = models.CharField("证件号码索引", max_length=32, db_index=True)
    id_last6_digest = models.CharField("证件号码后六位索引", max_length=32)

    class Meta:
        abstract = True

    @property
    def id_number(self) -> str:
        """The full number, decrypted once per loaded row (IdNumberUnreadable if tampered)."""
        cipher = self.id_cipher
        if not cipher:
            return ""
        cached = self.__dict__.get("_id_number_plain")
        if cached is not None and cached[0] is cipher:
            return str(cached[1])
        number = id_number_decrypt(cipher, self.id_digest)
        self.__dict__["_id_number_plain"] = (cipher, number)
        return number

    @id_number.setter
    def id_number(self, number: str) -> None:
        fields = id_number_fields(number)
        for name, value in fields.items():
            setattr(self, name, value)
        self.__dict__["_id_number_plain"] = (fields["id_cipher"], normalise(number))


class Person(IdNumberAtRest):
    """参保人. ``birth_date`` and ``sex`` are derived from an 18-character ID number."""

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", "居民身份证"
        RESIDENCE_PERMIT = "residence_permit", "居住证"
        HKMT_RESIDENCE_PERMIT = "hkmt_residence_permit", "港澳台居民居住证"
        FOREIGN_PERMANENT = "foreign_permanent", "外国人永久居留身份证"

    class Sex(models.TextChoices):
        MALE = "male", "男"
        FEMALE = "female", "女"

    class Status(models.TextChoices):
        ALIVE = "alive", "正常"
        DECEASED = "deceased", "死亡"

    id_type = models.CharField(
        "证件类型", max_length=32, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    # The ID number at rest (IdNumberAtRest): a number is registered once (unique blind
    # index), and the desk searches by its last six characters. Both found by equality
    # only: PostgreSQL's *_like pattern indexes on them (and on name_initials, Household
    # number) are dropped by migration 0008.
    id_digest = models.CharField("证件号码索引", max_length=32, unique=True)
    id_last6_digest = models.CharField("证件号码后六位索引", max_length=32, db_index=True)
    name = models.CharField("姓名", max_length=64)
    # " wxm" (with the leading space): pinyin initials of the name, every reading of a
    # polyphonic character, so that "wxm" finds 王秀梅 (see yibao.registry.pinyin).
    name_initials = models.CharField("姓名拼音首字母", max_length=200, blank=True, db_index=True)
    sex = models.CharField("性别", max_length=8, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    phone = models.CharField("联系电话", max_length=32, blank=True)
    household = models.ForeignKey(
        Household,
        verbose_name="户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    relation_to_head = models.CharField("与户主关系", max_length=16, blank=True)
    hukou_village = models.ForeignKey(
        Village, verbose_name="户籍村（社区）", on_delete=models.PROTECT, related_name="persons"
    )
    residence_village = models.ForeignKey(
        Village,
        verbose_name="居住村（社区）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ALIVE)
    deceased_on = models.DateField("死亡日期", null=True, blank=True)
    id_warnings = models.JSONField("证件号码提示", default=list, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "参保人"
        verbose_name_plural = "参保人"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="alive", deceased_on__isnull=True)
                | models.Q(status="deceased", deceased_on__isnull=False),
                name="person_deceased_has_date",
            )
        ]
        # Covers the should-enroll count per village (collection.selectors.should_enroll)
        # and the people side of the hardship pass (hardship_summary): read from the index
        # alone, in village order, without touching the rows. ``id`` is a key column for
        # PostgreSQL, whose index entries point at rows by position, not by id (SQLite's
        # carry the rowid anyway).
        indexes = [
            models.Index(
                fields=["hukou_village", "status", "deceased_on", "id"],
                name="person_village_status_idx",
            )
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_id_number_short(self) -> str:
        """For a list that shows an age group (新生儿, 未成年 ...) beside the number: two
        digits kept, so the number cannot be rebuilt from the row (issue 9)."""
        return mask_id_number(self.id_number, keep_last=2)

    @property
    def label(self) -> str:
        """Name with the masked ID number, as error messages and lists show a person."""
        return f"{self.name}（{self.masked_id_number}）"


class OtherInsurance(models.Model):
    """Coverage outside this scheme for a benefit year, with its evidence."""

    class Kind(models.TextChoices):
        EMPLOYEE = "employee", "职工基本医疗保险"
        ELSEWHERE = "elsewhere", "在外地参加居民医保"
        STUDENT = "student", "在校参加大学生医保"

    person = models.ForeignKey(
        Person, verbose_name="参保人", on_delete=models.PROTECT, related_name="other_insurance"
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    benefit_year = models.PositiveSmallIntegerField("年度")
    place = models.CharField("参保地或单位", max_length=100, blank=True)
    ended_on = models.DateField(
        "停保日期", null=True, blank=True, help_text="职工医保中断缴费（停保）的日期"
    )
    evidence = models.TextField("佐证材料", blank=True)
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "其他参保情况"
        verbose_name_plural = "其他参保情况"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "benefit_year"], name="other_insurance_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.get_kind_display()} {self.benefit_year}"


class IdentityTag(models.Model):
    """身份标识: a hardship category certified by a department, from a source list."""

    person = models.ForeignKey(
        Person, verbose_name="参保人", on_delete=models.PROTECT, related_name="identity_tags"
    )
    category_key = models.CharField(
        "身份类别", max_length=64, help_text="政策文件中的类别代码或名称，如 101 或 低保对象"
    )
    category_name = models.CharField("类别名称", max_length=64, blank=True)
    department = models.CharField("认定部门", max_length=64)
    source_list = models.CharField("来源名单", max_length=100, blank=True)
    source_batch = models.CharField("批次", max_length=64, blank=True)
    valid_from = models.DateField("有效期起", null=True, blank=True)
    valid_to = models.DateField("有效期止", null=True, blank=True)
    certified_on = models.DateField("认定日期", null=True, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "身份标识"
        verbose_name_plural = "身份标识"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "category_key", "source_batch"],
                name="identity_tag_unique_per_batch",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_from__lte=models.F("valid_to")),
                name="identity_tag_valid_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} {self.category_name or self.category_key}"
