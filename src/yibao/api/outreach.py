"""未缴名单 and what came of each contact: the collector's outreach, as the desk shows it."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from yibao.collection.campaign import age_group, unpaid_list
from yibao.collection.models import ContactAttempt
from yibao.collection.selectors import campaign_policy
from yibao.collection.services import contact_record
from yibao.core.access import access_person, access_village
from yibao.core.errors import ApplicationError
from yibao.policy import get_policy

router = Router(tags=["未缴名单"])

Group = Literal["hardship", "last_year", "other"]
Outcome = Literal["contacted", "away", "insured_elsewhere", "refused", "deceased_to_check"]


class UnpaidItem(Schema):
    person_id: int
    name: str
    masked_id_number: str
    age_group: str = Field(description="新生儿 / 未成年 / 成年 / 老年（不给出生日期）")
    group: Group = Field(description="hardship 困难群体 / last_year 上年已缴费 / other 其他")
    identities: list[str]
    phone: str
    enrolled: bool = Field(description="已登记本年度参保但未缴费")
    last_outcome: str = Field(description="最近一次联系结果（中文），没有则为空")


class ContactIn(Schema):
    outcome: Outcome
    note: str = Field("", max_length=200)


class ContactOut(Schema):
    id: int
    person_id: int
    benefit_year: int
    outcome: Outcome
    outcome_label: str
    note: str


def _year(actor: Any) -> int:
    policy_id = campaign_policy(actor=actor)
    if policy_id is None:
        raise ApplicationError("no_policy", "您负责的村（社区）没有可用的征缴政策文件")
    return get_policy(policy_id).benefit_year


@router.get(
    "/villages/{village_id}/unpaid",
    response=list[UnpaidItem],
    summary="本村未缴费人员（困难群体优先，其次上年已缴费，再次其他）",
)
def unpaid(request: HttpRequest, village_id: int, group: Group | None = None) -> Any:
    actor = request.auth
    village = access_village(actor, village_id)
    rows = unpaid_list(actor=actor, village=village, benefit_year=_year(actor), group=group)
    return [
        {
            "person_id": r.person.pk,
            "name": r.person.name,
            "masked_id_number": r.person.masked_id_number,
            "age_group": age_group(r.person.birth_date),
            "group": r.group,
            "identities": r.identities,
            "phone": r.person.phone,
            "enrolled": r.enrolled,
            "last_outcome": r.last_outcome,
        }
        for r in rows
    ]


@router.post(
    "/persons/{person_id}/contacts",
    response={201: ContactOut},
    summary="记录催缴联系结果（已联系 / 外出务工 / 已在外地参保 / 拒绝 / 死亡待核）",
)
def contact(request: HttpRequest, person_id: int, payload: ContactIn) -> Any:
    actor = request.auth
    person = access_person(actor, person_id)
    attempt = contact_record(
        actor=actor,
        person=person,
        benefit_year=_year(actor),
        outcome=payload.outcome,
        note=payload.note,
    )
    return Status(
        201,
        {
            "id": attempt.pk,
            "person_id": person.pk,
            "benefit_year": attempt.benefit_year,
            "outcome": attempt.outcome,
            "outcome_label": ContactAttempt.Outcome(attempt.outcome).label,
            "note": attempt.note,
        },
    )
