"""Request and response shapes: money as two-decimal strings, dates ISO, times with +08:00."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AwareDatetime, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")

Money = Annotated[
    Decimal,
    PlainSerializer(lambda v: str(v.quantize(CENT)), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["380.00"]}),
]
"""Yuan with two decimals, as a string: ``"380.00"``."""

Timestamp = Annotated[
    dt.datetime,
    PlainSerializer(lambda v: timezone.localtime(v).isoformat(timespec="seconds"), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware timestamp shown in Asia/Shanghai: ``2022-12-05T10:00:00+08:00``."""

MoneyIn = Annotated[str, Field(pattern=r"^\d{1,9}(\.\d{1,2})?$", examples=["380.00"])]
IdType = Literal["resident_id", "residence_permit", "hkmt_residence_permit", "foreign_permanent"]
Sex = Literal["male", "female"]
Tier = Literal[1, 2]
Population = Literal["resident", "university_student", "newborn"]
Channel = Literal[
    "wechat",
    "alipay",
    "yukuaiban",
    "unionpay",
    "cqrcb_app",
    "tax_bureau",
    "village_pos",
    "cash",
    "post_office",
]
NonBlank = Annotated[str, Field(min_length=1, max_length=200)]


class VillageOut(Schema):
    id: int
    name: str
    code: str | None
    township: str

    @staticmethod
    def resolve_township(obj: Any) -> str:
        return obj.township.name


class VillageRef(Schema):
    id: int
    name: str


class Me(Schema):
    username: str
    name: str
    role: str | None
    villages: list[VillageRef]


# --- registry ------------------------------------------------------------------------------


class PersonListItem(Schema):
    """A person as lists show them: the ID number masked, and no birth date (with it, the
    masked digits could be rebuilt)."""

    id: int
    name: str
    masked_id_number: str
    sex: Sex
    phone: str
    hukou_village: VillageRef
    residence_village: VillageRef | None
    household_id: int | None
    status: Literal["alive", "deceased"]
    deceased_on: dt.date | None


class IdentityTagOut(Schema):
    id: int
    person_id: int
    category_key: str
    category_name: str
    department: str
    source_list: str
    source_batch: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    certified_on: dt.date | None
    created_at: Timestamp


class EnrollmentOut(Schema):
    id: int
    person_id: int
    person_name: str
    masked_id_number: str
    village: VillageRef
    benefit_year: int
    policy: str = Field(alias="policy_id")
    tier: int
    population: str
    identity_code: str
    identity_name: str
    standard: Money
    subsidy: Money
    personal: Money
    coverage_start: dt.date | None
    coverage_end: dt.date | None
    quoted_on: dt.date
    status: Literal["unpaid", "paid", "deceased"]
    status_name: str
    paid_at: Timestamp | None

    @staticmethod
    def resolve_person_name(obj: Any) -> str:
        return obj.person.name

    @staticmethod
    def resolve_masked_id_number(obj: Any) -> str:
        return obj.person.masked_id_number

    @staticmethod
    def resolve_status_name(obj: Any) -> str:
        return obj.get_status_display()


class PersonDetail(PersonListItem):
    """One person's card: identity tags and enrollments; the full ID number and the birth
    date for roles that may read them (the read is audited), else the masked number only."""

    id_type: IdType
    id_number: str = Field(description="完整证件号码（有权查看的角色，查看留痕），否则脱敏")
    birth_date: dt.date | None
    id_warnings: list[str]
    relation_to_head: str
    identity_tags: list[IdentityTagOut]
    enrollments: list[EnrollmentOut]

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return getattr(obj, "card_id_number", None) or obj.masked_id_number

    @staticmethod
    def resolve_birth_date(obj: Any) -> dt.date | None:
        return getattr(obj, "card_birth_date", None)

    @staticmethod
    def resolve_identity_tags(obj: Any) -> list[Any]:
        return list(obj.identity_tags.order_by("id"))

    @staticmethod
    def resolve_enrollments(obj: Any) -> list[Any]:
        return list(
            obj.enrollments.select_related("person", "village").order_by("benefit_year", "id")
        )


class PersonIn(Schema):
    """A person as written in the register book; sex and birth date come from the ID."""

    id_number: Annotated[str, Field(min_length=1, max_length=32)]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    id_type: IdType = "resident_id"
    phone: Annotated[str, Field(max_length=32)] = ""
    relation_to_head: Annotated[str, Field(max_length=16)] = ""
    residence_village_id: int | None = None
    sex: Sex | None = None
    birth_date: dt.date | None = None


class PersonRegisterIn(PersonIn):
    village_id: int = Field(description="户籍村（社区）")


class HouseholdIn(Schema):
    village_id: int
    number: Annotated[str, Field(max_length=32)] | None = None
    address: Annotated[str, Field(max_length=200)] = ""
    head: PersonIn
    members: list[PersonIn] = []


class HouseholdOut(Schema):
    id: int
    number: str | None
    address: str
    village: VillageRef
    head_id: int | None
    members: list[PersonListItem]

    @staticmethod
    def resolve_members(obj: Any) -> list[Any]:
        return list(obj.members.select_related("hukou_village", "residence_village").order_by("id"))


class IdentityTagIn(Schema):
    category_key: NonBlank = Field(description="政策文件中的类别代码或名称，如 101 或 低保对象")
    department: NonBlank = Field(description="认定部门")
    category_name: Annotated[str, Field(max_length=64)] = ""
    source_list: Annotated[str, Field(max_length=100)] = ""
    source_batch: Annotated[str, Field(max_length=64)] = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    certified_on: dt.date | None = None


# --- collection ----------------------------------------------------------------------------


class EnrollmentIn(Schema):
    person_id: int
    policy: NonBlank = Field(examples=["qijiang-sanjiang-2023"])
    tier: Tier
    population: Population = "resident"


class TierIn(Schema):
    tier: Tier


class PaymentIn(Schema):
    """A payment; enrolls the person in the same transaction when not yet enrolled."""

    person_id: int
    policy: NonBlank = Field(examples=["qijiang-sanjiang-2023"])
    tier: Tier
    amount: MoneyIn
    channel: Channel
    paid_at: AwareDatetime | None = Field(
        None,
        description=(
            "缴费时间，缺省为服务器当前时间。金额按服务器当日计价：当日的时间照录；"
            "往日为补录，须填 backdate_reason，只限街道社保所、区医保局，"
            "最多追溯 YIBAO_BACKDATE_DAYS 天（缺省31天）；晚于今天拒收"
        ),
    )
    backdate_reason: Annotated[str, Field(max_length=200)] = Field(
        "", description="补录往日缴费的原因（如停电期间的纸质票据、税务系统缴费名单）"
    )
    receipt_number: Annotated[str, Field(max_length=64)] | None = None
    population: Population = "resident"
    taken_by_collector_id: int | None = Field(
        None,
        description=(
            "街道、区县经办补录村（社区）征收员收取的缴费（如停电期间的纸质票据）时，"
            "收款征收员的编号：须为该村（社区）的征收员，现金记入其手中"
        ),
    )


class PaymentOut(Schema):
    id: int
    enrollment_id: int
    person_id: int
    person_name: str
    masked_id_number: str
    benefit_year: int
    amount: Money
    channel: Channel
    channel_name: str
    receipt_number: str | None
    collector: str
    paid_at: Timestamp
    recorded_at: Timestamp
    zero_declaration: bool
    reverses_id: int | None
    reason: str

    @staticmethod
    def resolve_person_id(obj: Any) -> int:
        return obj.enrollment.person_id

    @staticmethod
    def resolve_person_name(obj: Any) -> str:
        return obj.enrollment.person.name

    @staticmethod
    def resolve_masked_id_number(obj: Any) -> str:
        return obj.enrollment.person.masked_id_number

    @staticmethod
    def resolve_benefit_year(obj: Any) -> int:
        return obj.enrollment.benefit_year

    @staticmethod
    def resolve_channel_name(obj: Any) -> str:
        return obj.get_channel_display()

    @staticmethod
    def resolve_collector(obj: Any) -> str:
        return str(obj.collector) if obj.collector_id else ""

    @staticmethod
    def resolve_zero_declaration(obj: Any) -> bool:
        return obj.is_zero_declaration


class ReversalIn(Schema):
    reason: NonBlank = Field(description="冲正原因")


# --- quotes and ledger ---------------------------------------------------------------------


class IdentityClaimIn(Schema):
    key: NonBlank = Field(description="身份代码或名称，如 101 或 低保对象")
    certified_on: dt.date | None = None


class QuoteIn(Schema):
    """The same question as ``yibao quote``."""

    policy: NonBlank = Field(examples=["qijiang-sanjiang-2023"])
    paid_on: dt.date
    tier: Tier
    identities: list[IdentityClaimIn] = []
    population: Population = "resident"
    birth_date: dt.date | None = None
    graduating: bool = False
    employee_insurance_ended_on: dt.date | None = None
    continuous_insured_years: Annotated[int, Field(ge=0)] | None = None
    without_missing_subsidy: bool = Field(
        False,
        description="经办机构已决定：资助标准所在文件未收录期间，先按普通居民全额缴费参保",
    )


class IdentityRefOut(Schema):
    code: str | None
    name: str


class QuoteOut(Schema):
    """The policy engine's quote, field for field as ``yibao quote --json`` prints it."""

    policy: str
    tier: int
    population: str
    paid_on: dt.date
    identity: IdentityRefOut | None
    standard: Money
    subsidy: Money
    personal: Money
    surcharge: Money
    zero_declaration: bool
    coverage_start: dt.date | None
    coverage_end: dt.date | None
    notes: list[str]
    sources: list[str]


class LedgerRowOut(Schema):
    person_id: int
    name: str
    masked_id_number: str
    phone: str
    household: str
    status: str
    tier: int | None
    identity: str
    standard: Money | None
    subsidy: Money | None
    personal: Money | None
    paid: Money
    channel: str
    paid_at: Timestamp | None
    coverage_start: dt.date | None
    coverage_end: dt.date | None
    zero_declaration: bool


class TotalsOut(Schema):
    enrolled: int
    paid: int
    zero_declarations: int
    amount: Money


class LedgerOut(Schema):
    village: VillageRef
    benefit_year: int
    totals: TotalsOut
    rows: list[LedgerRowOut]
