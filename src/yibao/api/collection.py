"""Enrollments, payments and reversals, and the ledger of a village."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Header, Query, Router, Status

from yibao.collection import services
from yibao.collection.selectors import collection_totals, village_ledger
from yibao.core.access import (
    access_collector,
    access_enrollment,
    access_payment,
    access_person,
    access_village,
)

from .schemas import (
    EnrollmentIn,
    EnrollmentOut,
    LedgerOut,
    PaymentIn,
    PaymentOut,
    ReversalIn,
    TierIn,
)

router = Router(tags=["参保与缴费"])


@router.post("/enrollments", response={201: EnrollmentOut}, summary="参保登记")
def enrollment_create(request: HttpRequest, payload: EnrollmentIn) -> Any:
    actor = request.auth
    person = access_person(actor, payload.person_id)
    enrollment = services.enrollment_create(
        actor=actor,
        person=person,
        policy_id=payload.policy,
        tier=payload.tier,
        population=payload.population,
    )
    return Status(201, enrollment)


@router.get("/enrollments/{enrollment_id}", response=EnrollmentOut, summary="参保登记详情")
def enrollment_detail(request: HttpRequest, enrollment_id: int) -> Any:
    return access_enrollment(request.auth, enrollment_id)


@router.post(
    "/enrollments/{enrollment_id}/tier", response=EnrollmentOut, summary="变更档次（缴费前）"
)
def enrollment_change_tier(request: HttpRequest, enrollment_id: int, payload: TierIn) -> Any:
    actor = request.auth
    enrollment = access_enrollment(actor, enrollment_id)
    return services.enrollment_change_tier(actor=actor, enrollment=enrollment, tier=payload.tier)


@router.post(
    "/payments",
    response={200: PaymentOut, 201: PaymentOut},
    summary="登记缴费（未参保登记的同时登记）",
    description=(
        "幂等：同一 Idempotency-Key 请求头或同一票据号（receipt_number）再次提交时，"
        "返回第一次的缴费记录（200），不会重复缴费；新缴费返回 201。"
        "金额、资助与待遇享受期按服务器当日核定，客户端的 paid_at 不决定价格；"
        "往日缴费由街道、区县经办以 backdate_reason 补录。"
    ),
)
def payment_record(
    request: HttpRequest,
    payload: PaymentIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=64),
) -> Any:
    actor = request.auth
    taken_by = (
        access_collector(actor, payload.taken_by_collector_id)
        if payload.taken_by_collector_id is not None
        else None
    )
    # The person is read once, locked, in the payment's transaction, and refused there (as
    # not found) when outside the actor's scope.
    result = services.payment_submit(
        actor=actor,
        person=payload.person_id,
        policy_id=payload.policy,
        tier=payload.tier,
        amount=payload.amount,
        channel=payload.channel,
        paid_at=payload.paid_at,
        backdate_reason=payload.backdate_reason,
        receipt_number=payload.receipt_number,
        idempotency_key=idempotency_key,
        population=payload.population,
        taken_by=taken_by,
    )
    return Status(201 if result.created else 200, result.payment)


@router.get("/payments/{payment_id}", response=PaymentOut, summary="缴费记录")
def payment_detail(request: HttpRequest, payment_id: int) -> Any:
    return access_payment(request.auth, payment_id)


@router.post(
    "/payments/{payment_id}/reversal",
    response={201: PaymentOut},
    summary="冲正缴费（新增一笔负数记录，须填原因）",
)
def payment_reverse(request: HttpRequest, payment_id: int, payload: ReversalIn) -> Any:
    actor = request.auth
    payment = access_payment(actor, payment_id)
    return Status(
        201, services.payment_reverse(actor=actor, payment=payment, reason=payload.reason)
    )


@router.get("/villages/{village_id}/ledger", response=LedgerOut, summary="村（社区）台账")
def village_ledger_view(
    request: HttpRequest, village_id: int, benefit_year: int = Query(..., ge=2000, le=2100)
) -> dict[str, Any]:
    actor = request.auth
    village = access_village(actor, village_id)
    rows = village_ledger(actor=actor, village=village, benefit_year=benefit_year)
    services.ledger_read_record(
        actor=actor, village=village, benefit_year=benefit_year, rows=len(rows)
    )
    return {
        "village": village,
        "benefit_year": benefit_year,
        "totals": collection_totals(actor=actor, benefit_year=benefit_year, village=village),
        "rows": rows,
    }
