"""The policy engine's quote: what a person owes and from when they are covered."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from yibao.collection.services import policy_engine
from yibao.policy import IdentityClaim, QuoteRequest

from .schemas import QuoteIn, QuoteOut

router = Router(tags=["政策测算"])


@router.post("/quotes", response=QuoteOut, summary="测算个人缴费、资助与待遇享受期")
def quote(request: HttpRequest, payload: QuoteIn) -> dict[str, Any]:
    """Pure policy arithmetic on the request's own facts; reads no person, so no village scope.

    Refusals (tier not applicable, after the last payment day, ...) are 400 with the engine's
    stable code and Chinese message.
    """
    engine = policy_engine(payload.policy)
    answer = engine.quote(
        QuoteRequest(
            paid_on=payload.paid_on,
            tier=payload.tier,
            identities=tuple(IdentityClaim(i.key, i.certified_on) for i in payload.identities),
            population=payload.population,
            birth_date=payload.birth_date,
            graduating=payload.graduating,
            employee_insurance_ended_on=payload.employee_insurance_ended_on,
            continuous_insured_years=payload.continuous_insured_years,
            without_missing_subsidy=payload.without_missing_subsidy,
        )
    )
    return answer.to_dict()
