"""Villages, persons, households and identity tags."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from yibao.core.access import access_person, access_village, scope_of
from yibao.core.errors import ApplicationError
from yibao.registry import services
from yibao.registry.selectors import village_list

from .pagination import Page
from .schemas import (
    HouseholdIn,
    HouseholdOut,
    IdentityTagIn,
    IdentityTagOut,
    Me,
    PersonDetail,
    PersonIn,
    PersonListItem,
    PersonRegisterIn,
    VillageOut,
)
from .selectors import person_list_by_payment

router = Router(tags=["参保人与户"])


@router.get("/me", response=Me, summary="当前用户及其负责的村（社区）")
def me(request: HttpRequest) -> dict[str, Any]:
    actor = request.auth
    collector = getattr(actor, "collector", None)
    return {
        "username": actor.get_username(),
        "name": actor.get_full_name(),
        "role": collector.role if collector else None,
        "villages": list(village_list(actor=actor)),
    }


@router.get("/villages", response=list[VillageOut], summary="可办理的村（社区）")
def villages(request: HttpRequest) -> Any:
    return village_list(actor=request.auth)


@router.get("/persons", response=list[PersonListItem], summary="参保人列表（证件号码脱敏）")
@paginate(Page)
def person_list(
    request: HttpRequest,
    village_id: int | None = None,
    benefit_year: int | None = Query(None, description="与 paid 一起使用"),
    paid: bool | None = Query(None, description="true 已缴费，false 未缴费（含未登记）"),
    search: str = Query("", max_length=64, description="姓名、证件号码末几位或电话"),
) -> Any:
    actor = request.auth
    village = access_village(actor, village_id) if village_id is not None else None
    if paid is not None and benefit_year is None:
        raise ApplicationError(
            "benefit_year_required", "按已缴费或未缴费筛选时，须同时指定待遇年度（benefit_year）"
        )
    found = person_list_by_payment(
        actor=actor, village=village, search=search, benefit_year=benefit_year, paid=paid
    )
    services.person_search_record(actor=actor, search=search, found=found)
    return found


@router.get(
    "/persons/{person_id}",
    response=PersonDetail,
    summary="参保人详情（完整证件号码仅对有权角色显示，查看留痕）",
)
def person_detail(request: HttpRequest, person_id: int) -> Any:
    actor = request.auth
    person = access_person(actor, person_id)
    if scope_of(actor).may_read_full_id:
        person.card_id_number = services.person_full_id_number(actor=actor, person=person)
        person.card_birth_date = person.birth_date
    return person


def _person_data(actor: Any, data: PersonIn) -> services.PersonData:
    residence = (
        access_village(actor, data.residence_village_id)
        if data.residence_village_id is not None
        else None
    )
    return services.PersonData(
        id_number=data.id_number,
        name=data.name,
        id_type=data.id_type,
        phone=data.phone,
        relation_to_head=data.relation_to_head,
        residence_village=residence,
        sex=data.sex,
        birth_date=data.birth_date,
    )


@router.post("/persons", response={201: PersonDetail}, summary="登记参保人")
def person_register(request: HttpRequest, payload: PersonRegisterIn) -> Any:
    actor = request.auth
    village = access_village(actor, payload.village_id)
    data = _person_data(actor, payload)
    person = services.person_register(
        actor=actor,
        hukou_village=village,
        id_number=data.id_number,
        name=data.name,
        id_type=data.id_type,
        phone=data.phone,
        residence_village=data.residence_village,
        relation_to_head=data.relation_to_head,
        sex=data.sex,
        birth_date=data.birth_date,
    )
    # The clerk has just typed the number: the answer repeats it, not a read to audit.
    person.card_id_number, person.card_birth_date = person.id_number, person.birth_date
    return Status(201, person)


@router.post("/households", response={201: HouseholdOut}, summary="按户登记（户主及成员）")
def household_register(request: HttpRequest, payload: HouseholdIn) -> Any:
    actor = request.auth
    village = access_village(actor, payload.village_id)
    household = services.household_register(
        actor=actor,
        village=village,
        head=_person_data(actor, payload.head),
        members=[_person_data(actor, member) for member in payload.members],
        number=payload.number,
        address=payload.address,
    )
    return Status(201, household)


@router.post(
    "/persons/{person_id}/identity-tags",
    response={201: IdentityTagOut},
    summary="添加身份标识（同一批次同一类别不重复添加）",
)
def identity_tag_add(request: HttpRequest, person_id: int, payload: IdentityTagIn) -> Any:
    actor = request.auth
    person = access_person(actor, person_id)
    tag = services.identity_tag_add(actor=actor, person=person, **payload.dict())
    return Status(201, tag)
