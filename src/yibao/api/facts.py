"""What an office records about a person's benefit year: graduating, 预参保 (moving to
employee insurance), enrolling without a missing document's subsidy."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from yibao.collection import services
from yibao.collection.selectors import enrollment_facts
from yibao.core.access import access_enrollment_fact, access_person

from .schemas import Timestamp

router = Router(tags=["参保情况登记"])

Kind = Literal["without_subsidy", "graduating", "employee_waiting"]


class FactIn(Schema):
    policy: str = Field(description="政策编号，须为本人所在街道（镇）的政策")
    kind: Kind = Field(
        description=(
            "without_subsidy：资助标准所在文件未收录期间，经办决定先按普通居民全额缴费参保；"
            "graduating：当年毕业的在渝高校大学生；"
            "employee_waiting：年度内转职工医保，starts_on 至 ends_on（等待期）为预参保"
        )
    )
    reason: str = Field(min_length=1, max_length=200, description="依据或原因")
    starts_on: dt.date | None = Field(None, description="参加职工医保日期（employee_waiting）")
    ends_on: dt.date | None = Field(None, description="职工医保等待期最后一天（employee_waiting）")


class FactEndIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class FactOut(Schema):
    id: int
    person_id: int
    benefit_year: int
    policy_id: str
    kind: str
    kind_label: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    reason: str
    recorded_at: Timestamp
    ended_at: Timestamp | None
    end_reason: str

    @staticmethod
    def resolve_kind_label(fact: Any) -> str:
        return str(fact.get_kind_display())


@router.get(
    "/persons/{person_id}/enrollment-facts",
    response=list[FactOut],
    summary="参保人的经办登记（当年毕业、预参保、未收录文件期间不享受资助参保），含已撤销",
)
def fact_list(request: HttpRequest, person_id: int, benefit_year: int | None = None) -> Any:
    person = access_person(request.auth, person_id)
    return enrollment_facts(actor=request.auth, person=person, benefit_year=benefit_year)


@router.post(
    "/persons/{person_id}/enrollment-facts",
    response={201: FactOut},
    summary="登记（街道社保所、区医保局）：须写明依据，留痕",
)
def fact_record(request: HttpRequest, person_id: int, payload: FactIn) -> Any:
    person = access_person(request.auth, person_id)
    fact = services.enrollment_fact_record(
        actor=request.auth,
        person=person,
        policy_id=payload.policy,
        kind=payload.kind,
        reason=payload.reason,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
    )
    return Status(201, fact)


@router.post(
    "/enrollment-facts/{fact_id}/end",
    response=FactOut,
    summary="撤销一项经办登记（街道社保所、区医保局）：须写明原因，留痕",
)
def fact_end(request: HttpRequest, fact_id: int, payload: FactEndIn) -> Any:
    fact = access_enrollment_fact(request.auth, fact_id)
    return services.enrollment_fact_end(actor=request.auth, fact=fact, reason=payload.reason)
