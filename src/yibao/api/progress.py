"""Campaign progress: per village, per channel, per day, and the cash collectors hold.

The same selectors (``yibao.collection.selectors``) as the township dashboard, the demo's
summary and ``yibao progress``, so every edge shows the same numbers for the same actor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from yibao.collection import selectors
from yibao.core.errors import ApplicationError
from yibao.policy import get_policy

from .schemas import Money

router = Router(tags=["征缴进度"])

Percent = Money  # a percentage with two decimals, as a string: "96.50"


class VillageProgressOut(Schema):
    seq: int
    village_id: int
    name: str
    target: int = Field(description="目标任务数（核减后）")
    period_target: int | None = Field(description="集中缴费期目标任务数（任务表有此栏时）")
    should_enroll: int = Field(description="应参保人数：健在、本年度未参加职工医保或外地居民医保")
    enrolled: int = Field(description="已参保登记")
    paid: int = Field(description="已缴费（含零申报，不含已冲正）")
    completion: Percent = Field(description="完成率（%）= 已缴费 ÷ 目标任务数")
    period_completion: Percent | None
    hardship: int = Field(description="困难群体应参保人数（持有效身份标识）")
    hardship_paid: int
    hardship_rate: Percent
    rank: int = Field(description="按完成率排名")
    bottom_three: bool = Field(description="是否后三名")
    target_published: int = Field(description="任务表所列目标任务数（target 为其减去核减）")
    reductions: int = Field(description="已核减人数")
    should_enroll_published: int | None = Field(description="任务表所列应参保人数（如有）")
    enrollment_base: int = Field(
        description="参保率的分母：任务表所列应参保人数，否则台账应参保人数"
    )
    enrollment_rate: Percent = Field(description="参保率（%）= 已缴费 ÷ enrollment_base")
    below_floor: bool = Field(description="低于政策规定的参保率下限（如参保率达95%以上）")


class ProgressTotalsOut(Schema):
    villages: int
    target: int
    period_target: int | None
    should_enroll: int
    enrolled: int
    paid: int
    completion: Percent
    period_completion: Percent | None
    hardship: int
    hardship_paid: int
    hardship_rate: Percent
    target_published: int
    reductions: int
    enrollment_base: int
    enrollment_rate: Percent
    below_floor: bool = Field(description="全街道（镇）低于政策规定的参保率下限")


class ProgressOut(Schema):
    policy: str
    policy_name: str
    benefit_year: int
    on: dt.date | None = Field(description="截至该日日终；为空表示截至当前")
    villages: list[VillageProgressOut]
    totals: ProgressTotalsOut


class ChannelTotalOut(Schema):
    channel: str
    label: str
    payments: int
    zero_declarations: int
    reversals: int
    amount: Money


class ChannelsOut(Schema):
    benefit_year: int
    since: dt.date | None
    until: dt.date | None
    channels: list[ChannelTotalOut]


class DayProgressOut(Schema):
    day: dt.date
    paid: int
    cumulative_paid: int
    amount: Money


class CollectorCashOut(Schema):
    collector_id: int
    username: str
    name: str
    villages: list[str]
    taken: Money
    remitted: Money
    held: Money


def policy_for(actor: Any, policy: str | None) -> str:
    """``policy``, or the policy of the actor's campaign (refused when there is none)."""
    if policy:
        get_policy(policy)  # an unknown id is the engine's refusal
        return policy
    found = selectors.campaign_policy(actor=actor)
    if found is None:
        raise ApplicationError("policy_required", "请指定政策（policy）：你的范围内没有适用的政策")
    return found


@router.get("/progress", response=ProgressOut, summary="各村（社区）征缴进度与排名")
def progress(
    request: HttpRequest,
    policy: Annotated[str | None, Query(description="政策编号；缺省为本人范围内的街道政策")] = None,
    on: Annotated[dt.date | None, Query(description="截至该日日终（通报日期）；缺省为当前")] = None,
) -> dict[str, Any]:
    actor = request.auth
    policy_id = policy_for(actor, policy)
    engine = get_policy(policy_id)
    rows = selectors.village_progress(actor=actor, policy_id=policy_id, on=on)
    return {
        "policy": policy_id,
        "policy_name": engine.name,
        "benefit_year": engine.benefit_year,
        "on": on,
        "villages": [asdict(r) for r in rows],
        "totals": asdict(
            selectors.progress_totals(rows, floor=selectors.enrollment_floor(policy_id))
        ),
    }


@router.get("/progress/channels", response=ChannelsOut, summary="各缴费渠道笔数与金额")
def channels(
    request: HttpRequest,
    benefit_year: int = Query(..., ge=2000, le=2100),
    since: Annotated[dt.date | None, Query(description="自该日起（含）")] = None,
    until: Annotated[dt.date | None, Query(description="至该日止（含）")] = None,
) -> dict[str, Any]:
    rows = selectors.channel_totals(
        actor=request.auth, benefit_year=benefit_year, since=since, until=until
    )
    return {
        "benefit_year": benefit_year,
        "since": since,
        "until": until,
        "channels": [asdict(r) for r in rows],
    }


@router.get("/progress/daily", response=list[DayProgressOut], summary="每日缴费人数与累计")
def daily(
    request: HttpRequest, benefit_year: int = Query(..., ge=2000, le=2100)
) -> list[dict[str, Any]]:
    return [
        asdict(d) for d in selectors.daily_progress(actor=request.auth, benefit_year=benefit_year)
    ]


@router.get("/cash", response=list[CollectorCashOut], summary="征收员现金：已收、已解缴、在手")
def cash(request: HttpRequest) -> list[dict[str, Any]]:
    return [asdict(c) for c in selectors.collector_cash(actor=request.auth)]
