"""Policies as the ledger applies them, and the supplements a district office loads."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from yibao.collection import services
from yibao.collection.selectors import policy_supplements
from yibao.core.access import scope_of
from yibao.core.errors import ApplicationError

from .schemas import Timestamp

router = Router(tags=["政策"])


class SupplementIn(Schema):
    text: str = Field(
        min_length=1,
        max_length=200_000,
        description="补充文件（TOML）：policy、document、cite 与各身份 identities 的资助标准",
    )
    note: str = Field("", max_length=200)


class SupplementOut(Schema):
    policy_id: str
    version: int
    document: str
    cite: str
    sha256: str
    note: str
    loaded_at: Timestamp


def _office(actor: Any) -> None:
    if scope_of(actor).role in (None, "collector"):
        raise ApplicationError("office_required", "查看政策全文须由街道社保所或区医保局办理")


@router.get("/policies/{policy_id}", summary="政策（含补充文件、市级规则、核对发现与产品决定）")
def policy_detail(request: HttpRequest, policy_id: str) -> dict[str, Any]:
    _office(request.auth)
    data = services.policy_engine(policy_id).describe()
    data["supplements"] = [
        SupplementOut.from_orm(s).dict() for s in policy_supplements(policy_id=policy_id)
    ]
    return data


@router.post(
    "/policy-supplements",
    response={201: SupplementOut},
    summary="载入政策补充文件（区医保局）：校验同政策文件，按版本保存并留痕",
)
def supplement_load(request: HttpRequest, payload: SupplementIn) -> Any:
    record = services.policy_supplement_load(
        actor=request.auth, text=payload.text, note=payload.note
    )
    return Status(201, record)
