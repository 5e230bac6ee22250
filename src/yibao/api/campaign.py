"""Targets, reductions (核减), bulletins (通报), hardship gaps, assessment, subsidy accounts.

Thin routes over ``yibao.campaign.services`` and ``yibao.campaign.selectors``; the same
figures as the pages and ``yibao bulletin`` / ``assessment`` / ``subsidy``.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from yibao.campaign import exports, selectors, services
from yibao.core.access import access_person, not_found

from .progress import Percent, VillageProgressOut, policy_for
from .schemas import Money

router = Router(tags=["目标任务、通报与考核"])

PolicyQuery = Annotated[str | None, Query(description="政策编号；缺省为本人范围内的街道政策")]
OnQuery = Annotated[dt.date | None, Query(description="截至该日日终；缺省为当前")]


class FindingOut(Schema):
    level: str = Field(description="error 算术错误 / warning 与规则或文件其他处不一致")
    village: str | None
    message: str


class TargetRowOut(Schema):
    village_id: int
    village: str
    seq: int | None
    target: int
    period_target: int | None
    should_enroll: int | None
    values: dict[str, int]

    @staticmethod
    def resolve_village(obj: Any) -> str:
        return obj.village.name


class TargetTableOut(Schema):
    id: int
    policy_id: str
    township: str
    source_name: str
    status: str
    status_name: str
    columns: list[list[str]]
    totals: dict[str, int]
    findings: list[FindingOut]
    rows: list[TargetRowOut]

    @staticmethod
    def resolve_township(obj: Any) -> str:
        return obj.township.name

    @staticmethod
    def resolve_status_name(obj: Any) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_rows(obj: Any) -> list[Any]:
        return list(obj.rows.select_related("village").order_by("seq", "id"))


class ReductionIn(Schema):
    person_id: int
    policy: str | None = None
    scope: str = Field(description="in_city 市内参保 / out_of_city 市外参保")
    insured_where: str = Field(description="参保地或单位")
    evidence: str = Field(description="佐证材料")
    coverage_from: dt.date | None = Field(None, description="参保期起（市外必填）")
    coverage_to: dt.date | None = Field(None, description="参保期止（市外必填）")


class ReductionOut(Schema):
    id: int
    person_id: int
    person: str
    village: str
    benefit_year: int
    scope: str
    insured_where: str
    coverage_from: dt.date | None
    coverage_to: dt.date | None
    evidence: str
    revoked: bool
    revoke_reason: str

    @staticmethod
    def resolve_person(obj: Any) -> str:
        return obj.person.label

    @staticmethod
    def resolve_village(obj: Any) -> str:
        return obj.village.name

    @staticmethod
    def resolve_revoked(obj: Any) -> bool:
        return obj.revoked_at is not None


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=200)


class AssessmentOut(Schema):
    score: str | None
    band: str | None
    reason: str
    cite: str | None


class BulletinRowOut(Schema):
    progress: VillageProgressOut
    enrollment_base: int
    enrollment_rate: Percent
    paid_last_7_days: int
    projected_on: dt.date | None
    projection: str
    previous_paid: int | None
    previous_rank: int | None
    change_paid: int | None
    change_completion: str | None
    interview: bool
    assessment: AssessmentOut


class HardshipCategoryOut(Schema):
    category: str
    people: int
    paid: int
    rate: Percent


class MissingPersonOut(Schema):
    person_id: int
    name: str
    masked_id_number: str
    village: str
    phone: str
    categories: list[str]


class FloorOut(Schema):
    percent: Percent
    of: str = Field(description="should_enroll（对应参保人数）或 target（对目标任务数）")
    per: str = Field(description="township（全街道/镇）或 village（每个村）")
    text: str
    cite: str


class BulletinFiguresOut(Schema):
    policy_id: str
    policy_name: str
    benefit_year: int
    on: dt.date
    previous_on: dt.date | None
    previous_source: str | None = Field(
        description="较上期的来源：issued（上期已发布通报所载数字）或 ledger（上期未发布，按台账）"
    )
    scheduled: bool
    rows: list[BulletinRowOut]
    totals: dict[str, Any]
    totals_paid_last_7_days: int
    totals_assessment: AssessmentOut
    hardship: list[HardshipCategoryOut]
    missing: list[MissingPersonOut]
    notes: list[str]
    floor: FloorOut | None = Field(description="政策规定的参保率下限（如有）")


class BulletinOut(Schema):
    id: int
    policy_id: str
    on: dt.date
    scheduled: bool
    issued_by: str
    figures: BulletinFiguresOut

    @staticmethod
    def resolve_issued_by(obj: Any) -> str:
        return obj.issued_by.get_username() if obj.issued_by else ""


class BulletinIn(Schema):
    on: dt.date
    policy: str | None = None


class AssessmentRowOut(Schema):
    village_id: int | None
    name: str
    completion: Percent
    hardship_rate: Percent
    assessment: AssessmentOut


class SubsidyLineOut(Schema):
    department: str
    identity: str
    village: str
    people: int
    subsidy: Money
    surcharge_borne: Money


class SubsidyAccountsOut(Schema):
    policy: str
    villages: list[SubsidyLineOut]
    totals: list[SubsidyLineOut]


class HardshipOut(Schema):
    policy: str
    on: dt.date | None
    categories: list[HardshipCategoryOut]
    missing: list[MissingPersonOut]


def _stored(figures: Any) -> dict[str, Any]:
    data: dict[str, Any] = figures.to_dict()
    return data


@router.get("/target-tables", response=list[TargetTableOut], summary="任务表")
def target_tables(request: HttpRequest, policy: str | None = None) -> Any:
    return selectors.target_table_list(actor=request.auth, policy_id=policy)


@router.post(
    "/target-tables",
    response={201: TargetTableOut},
    summary="导入任务表（.xlsx/.xls/.csv），返回核对发现，待采用",
)
def target_table_import(
    request: HttpRequest,
    file: File[UploadedFile],
    policy: Form[str | None] = None,
) -> Any:
    actor = request.auth
    policy_id = policy_for(actor, policy)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(file.name or "targets.xlsx").name
        path.write_bytes(file.read())
        table = services.target_table_import(actor=actor, policy_id=policy_id, path=path)
    return Status(201, table)


def _table(actor: Any, table_id: int) -> Any:
    table = selectors.target_table_list(actor=actor).filter(pk=table_id).first()
    if table is None:
        raise not_found(f"编号为{table_id}的任务表", table_id=table_id)
    return table


@router.get("/target-tables/{table_id}", response=TargetTableOut, summary="任务表及核对发现")
def target_table_detail(request: HttpRequest, table_id: int) -> Any:
    return _table(request.auth, table_id)


@router.post(
    "/target-tables/{table_id}/accept", response=TargetTableOut, summary="采用任务表（原表为准）"
)
def target_table_accept(request: HttpRequest, table_id: int) -> Any:
    actor = request.auth
    return services.target_table_accept(actor=actor, table=_table(actor, table_id))


@router.get("/target-reductions", response=list[ReductionOut], summary="目标任务核减")
def reductions(request: HttpRequest, benefit_year: int = Query(..., ge=2000, le=2100)) -> Any:
    return selectors.target_reduction_list(actor=request.auth, benefit_year=benefit_year)


@router.post("/target-reductions", response={201: ReductionOut}, summary="核减一人（须有佐证）")
def reduction_record(request: HttpRequest, payload: ReductionIn) -> Any:
    actor = request.auth
    person = access_person(actor, payload.person_id)
    reduction = services.target_reduction_record(
        actor=actor,
        person=person,
        policy_id=policy_for(actor, payload.policy),
        scope=payload.scope,
        insured_where=payload.insured_where,
        evidence=payload.evidence,
        coverage_from=payload.coverage_from,
        coverage_to=payload.coverage_to,
    )
    return Status(201, reduction)


@router.post("/target-reductions/{reduction_id}/revoke", response=ReductionOut, summary="撤销核减")
def reduction_revoke(request: HttpRequest, reduction_id: int, payload: ReasonIn) -> Any:
    actor = request.auth
    reduction = selectors.target_reduction_get(actor=actor, reduction_id=reduction_id)
    return services.target_reduction_revoke(actor=actor, reduction=reduction, reason=payload.reason)


@router.get("/bulletins/preview", response=BulletinFiguresOut, summary="某日的通报数据（不发布）")
def bulletin_preview(request: HttpRequest, on: dt.date, policy: PolicyQuery = None) -> Any:
    actor = request.auth
    figures = selectors.bulletin_compute(actor=actor, policy_id=policy_for(actor, policy), on=on)
    return _stored(figures)


@router.get(
    "/bulletins/pdf",
    summary="某日的通报（PDF，A4横向，中文字体内嵌；已发布的按发布时的数据）",
    openapi_extra={
        "responses": {
            200: {
                "description": "通报PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def bulletin_pdf(request: HttpRequest, on: dt.date, policy: PolicyQuery = None) -> HttpResponse:
    actor = request.auth
    policy_id = policy_for(actor, policy)
    figures = selectors.bulletin_figures(actor=actor, policy_id=policy_id, on=on)
    township = services.policy_township(policy_id).name
    response = HttpResponse(
        exports.bulletin_pdf(figures, township=township), content_type="application/pdf"
    )
    filename = quote(f"{township}征缴进度通报{on}.pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


@router.get("/bulletins", response=list[BulletinOut], summary="已发布的通报")
def bulletins(request: HttpRequest, policy: PolicyQuery = None) -> Any:
    return selectors.bulletin_list(actor=request.auth, policy_id=policy)


@router.post(
    "/bulletins",
    response={200: BulletinOut, 201: BulletinOut},
    summary="发布某日的通报（同日再次发布返回第一次的）",
)
def bulletin_issue(request: HttpRequest, payload: BulletinIn) -> Any:
    actor = request.auth
    bulletin, created = services.bulletin_issue(
        actor=actor, policy_id=policy_for(actor, payload.policy), on=payload.on
    )
    return Status(201 if created else 200, bulletin)


@router.get("/bulletins/{bulletin_id}", response=BulletinOut, summary="通报（发布时的数据）")
def bulletin_detail(request: HttpRequest, bulletin_id: int) -> Any:
    bulletin = selectors.bulletin_list(actor=request.auth).filter(pk=bulletin_id).first()
    if bulletin is None:
        raise not_found(f"编号为{bulletin_id}的通报", bulletin_id=bulletin_id)
    return bulletin


@router.get(
    "/progress/hardship", response=HardshipOut, summary="困难群体参保率（按身份类别）与未缴名单"
)
def hardship(request: HttpRequest, policy: PolicyQuery = None, on: OnQuery = None) -> Any:
    actor = request.auth
    policy_id = policy_for(actor, policy)
    return {
        "policy": policy_id,
        "on": on,
        "categories": [
            asdict(c)
            for c in selectors.hardship_by_category(actor=actor, policy_id=policy_id, on=on)
        ],
        "missing": [
            asdict(m) for m in selectors.hardship_missing(actor=actor, policy_id=policy_id, on=on)
        ],
    }


@router.get("/assessment", response=list[AssessmentRowOut], summary="考核得分（按政策考核办法）")
def assessment(request: HttpRequest, policy: PolicyQuery = None, on: OnQuery = None) -> Any:
    actor = request.auth
    rows = selectors.assessment_list(actor=actor, policy_id=policy_for(actor, policy), on=on)
    return [
        {**asdict(r), "assessment": {**asdict(r.assessment), "score": _score(r.assessment.score)}}
        for r in rows
    ]


def _score(score: Any) -> str | None:
    return None if score is None else str(score)


@router.get(
    "/subsidy-accounts",
    response=SubsidyAccountsOut,
    summary="资助参保资金：按认定部门、身份类别和村（社区）",
)
def subsidy_accounts(request: HttpRequest, policy: PolicyQuery = None, on: OnQuery = None) -> Any:
    actor = request.auth
    policy_id = policy_for(actor, policy)
    lines, totals = selectors.subsidy_accounts(actor=actor, policy_id=policy_id, on=on)
    return {
        "policy": policy_id,
        "villages": [asdict(x) for x in lines],
        "totals": [asdict(x) for x in totals],
    }
