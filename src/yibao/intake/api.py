"""API routes of intake: official division codes, township set-up."""

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from . import areas

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
@paginate(LimitOffsetPagination)
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
