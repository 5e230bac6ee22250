"""API routes of intake: division codes, township set-up, departments' lists, worklists."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from yibao.api.pagination import Page
from yibao.core.access import access_village
from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number
from yibao.registry.models import Township

from . import areas, people, selectors, services, worklists
from .uploads import uploaded_path
from .worklists import worklist_policy

router = Router(tags=["数据接收"])

Level = Literal["province", "city", "county", "township", "village"]


class DivisionOut(Schema):
    code: str
    name: str
    level: Level
    parent_code: str


class DivisionLoadOut(Schema):
    source: str
    created: int
    updated: int
    unchanged: int
    by_level: dict[str, int]
    summary: str


class TownshipSetupIn(Schema):
    code: str
    add_missing: bool = False


class TownshipSetupOut(Schema):
    district: str
    township: str
    township_code: str
    created: list[str]
    coded: list[str]
    corrected: list[str]
    official_unmatched: list[str]
    local_unmatched: list[str]
    summary: str


def _with_summary(result: Any) -> dict[str, Any]:
    return {**result.__dict__, "summary": result.summary()}


@router.get("/divisions", response=list[DivisionOut], summary="统计用区划代码（按上级或名称查找）")
@paginate(Page)
def division_list(
    request: HttpRequest,
    parent: str = Query("", max_length=12, description="上级区划代码，如 500110003"),
    search: str = Query("", max_length=64, description="名称中的字或代码开头"),
    level: Level | None = None,
) -> Any:
    return areas.division_list(parent=parent, search=search, level=level or "")


@router.post("/divisions/load", response=DivisionLoadOut, summary="载入随系统提供的区划代码")
def division_load(request: HttpRequest) -> Any:
    return _with_summary(areas.divisions_load(actor=request.auth))


@router.post(
    "/townships/setup", response=TownshipSetupOut, summary="按区划代码设置街道（镇）及其村（社区）"
)
def township_setup(request: HttpRequest, payload: TownshipSetupIn) -> Any:
    result = areas.township_setup(
        actor=request.auth, code=payload.code, add_missing=payload.add_missing
    )
    return _with_summary(result)


# --- departments' identity lists ----------------------------------------------------------


class IdentityListOut(Schema):
    id: int
    township: str
    department: str
    batch: str
    list_date: dt.date
    policy_id: str
    source: str
    status: str
    counts: dict[str, int]
    previous_id: int | None

    @staticmethod
    def resolve_township(obj: Any) -> str:
        return obj.township.name


class IdentityListEntryOut(Schema):
    row: int | None
    id_number: str
    name: str
    category_key: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    change: str
    detail: str
    flags: list[str]
    applied: str
    tagged: bool

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_tagged(obj: Any) -> bool:
        return obj.tag_id is not None


class IdentityListDetail(IdentityListOut):
    entries: list[IdentityListEntryOut]

    @staticmethod
    def resolve_entries(obj: Any) -> Any:
        return obj.review_entries


class DiscardIn(Schema):
    reason: str = ""


def _detail(actor: Any, identity_list: Any) -> Any:
    """The list with the entries the actor may see (selected once, by the selector)."""
    identity_list.review_entries = list(
        selectors.identity_list_entries(actor=actor, identity_list=identity_list)
    )
    return identity_list


@router.get("/identity-lists", response=list[IdentityListOut], summary="部门身份名单（本辖区）")
def identity_lists(request: HttpRequest) -> Any:
    return selectors.identity_list_list(actor=request.auth)


@router.post(
    "/identity-lists",
    response={201: IdentityListDetail},
    summary="导入部门身份名单（.xlsx/.csv），与该部门上一份名单比对，待确认",
)
def identity_list_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    department: Form[str],
    batch: Form[str],
    list_date: Form[dt.date],
    policy: Form[str],
    township_id: Form[int | None] = None,
) -> Any:
    actor = request.auth
    township = Township.objects.filter(pk=township_id).first() if township_id else None
    if township_id and township is None:
        raise ApplicationError("not_found", f"找不到编号为{township_id}的街道（镇）")
    with uploaded_path(file) as path:
        staged = services.identity_list_stage(
            actor=actor,
            path=path,
            header=services.ListHeader(
                department=department, batch=batch, list_date=list_date, policy_id=policy
            ),
            township=township,
        )
    return Status(201, _detail(actor, staged))


@router.get("/identity-lists/{list_id}", response=IdentityListDetail, summary="名单及其比对结果")
def identity_list_detail(request: HttpRequest, list_id: int) -> Any:
    return _detail(request.auth, selectors.access_identity_list(request.auth, list_id))


@router.post(
    "/identity-lists/{list_id}/confirm",
    response=IdentityListOut,
    summary="确认名单：新增、变更的身份生效，退出的身份截止",
)
def identity_list_confirm(request: HttpRequest, list_id: int) -> Any:
    identity_list = selectors.access_identity_list(request.auth, list_id)
    return services.identity_list_confirm(actor=request.auth, identity_list=identity_list)


@router.post(
    "/identity-lists/{list_id}/discard", response=IdentityListOut, summary="作废待确认的名单"
)
def identity_list_discard(request: HttpRequest, list_id: int, payload: DiscardIn) -> Any:
    identity_list = selectors.access_identity_list(request.auth, list_id)
    return services.identity_list_discard(
        actor=request.auth, identity_list=identity_list, reason=payload.reason
    )


# --- worklists ----------------------------------------------------------------------------


WorklistKind = Literal[
    "hardship", "lapsed", "household_partial", "newborn", "residents", "no_phone", "ecard"
]


class WorklistRowOut(Schema):
    person_id: int
    name: str
    id_number: str
    phone: str
    household_head: str
    identities: list[str]
    reason: str
    deadline: dt.date | None
    deadline_cite: str


class WorklistOut(Schema):
    village_id: int
    village: str
    kind: WorklistKind
    title: str
    policy: str
    rows: list[WorklistRowOut]


@router.get(
    "/villages/{village_id}/worklists/{kind}",
    response=WorklistOut,
    summary="村（社区）工作清单：困难群体未申报、近两年参保本年未参保、户内部分参保、新生儿、无联系电话",
)
def village_worklist(
    request: HttpRequest, village_id: int, kind: WorklistKind, policy: str = ""
) -> Any:
    actor = request.auth
    village = access_village(actor, village_id)
    policy_id = policy or worklist_policy(actor)
    rows = worklists.worklist(actor=actor, village=village, policy_id=policy_id, kind=kind)
    return {
        "village_id": village.pk,
        "village": village.name,
        "kind": kind,
        "title": worklists.WORKLISTS[kind],
        "policy": policy_id,
        "rows": [
            {
                "person_id": r.person.pk,
                "name": r.person.name,
                "id_number": r.masked_id_number,
                "phone": r.person.phone,
                "household_head": r.household_head,
                "identities": r.identities,
                "reason": r.reason,
                "deadline": r.deadline,
                "deadline_cite": r.deadline_cite,
            }
            for r in rows
        ],
    }


# --- death, employee and university lists; anomalies -------------------------------------


class PersonListEntryOut(Schema):
    row: int
    id_number: str
    name: str
    outcome: str
    detail: str

    @staticmethod
    def resolve_id_number(obj: Any) -> str:
        return mask_id_number(obj.id_number)


class PersonListOut(Schema):
    id: int
    kind: Literal["death", "employee", "university", "ecard"]
    benefit_year: int
    source: str
    counts: dict[str, int]
    entries: list[PersonListEntryOut]


class AnomalyOut(Schema):
    kind: str
    title: str
    person_id: int
    name: str
    id_number: str
    village: str
    detail: str


class PayerPatternOut(Schema):
    phone: str
    households: int
    subsidised: int
    names: list[str]


@router.post(
    "/person-lists",
    response={201: PersonListOut},
    summary="导入死亡、职工医保或在校大学生名单，标记人员",
)
def person_list_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[Literal["death", "employee", "university", "ecard"]],
    benefit_year: Form[int],
) -> Any:
    with uploaded_path(file) as path:
        imported = people.person_list_import(
            actor=request.auth, path=path, kind=kind, benefit_year=benefit_year
        )
    return Status(201, imported)


@router.get(
    "/anomalies", response=list[AnomalyOut], summary="异常名单：死亡后缴费、已在别处参保仍缴费"
)
def anomalies(request: HttpRequest, benefit_year: int) -> Any:
    return [
        {
            "kind": a.kind,
            "title": people.ANOMALY_KINDS[a.kind],
            "person_id": a.person.pk,
            "name": a.person.name,
            "id_number": a.person.masked_id_number,
            "village": a.person.hukou_village.name,
            "detail": a.detail,
        }
        for a in people.anomaly_list(actor=request.auth, benefit_year=benefit_year)
    ]


@router.get(
    "/payer-patterns",
    response=list[PayerPatternOut],
    summary="同一电话为多户缴费（垫资参保线索，待核）",
)
def payer_patterns(request: HttpRequest, benefit_year: int, min_households: int = 3) -> Any:
    return [
        {
            "phone": p.phone,
            "households": p.households,
            "subsidised": p.subsidised,
            "names": [person.name for person in p.persons],
        }
        for p in people.payer_patterns(
            actor=request.auth, benefit_year=benefit_year, min_households=min_households
        )
    ]
