"""The policy engine: each official document as cited data, and the questions it answers.

Pure Python: nothing here imports the web framework (``tests/policy`` proves it).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .assessment import AssessmentResult, assess
from .checks import policy_findings
from .engine import (
    IdentityClaim,
    IdentityRef,
    Quote,
    QuoteRequest,
    compute_quote,
    offline_payment_refusal,
)
from .errors import PolicyError, PolicyFileError, QuoteRefused, RuleMissing
from .loader import load_policy, policy_ids
from .model import Policy
from .targets import Finding, targets_check

__all__ = [
    "AssessmentResult",
    "Finding",
    "IdentityClaim",
    "IdentityRef",
    "Policy",
    "PolicyEngine",
    "PolicyError",
    "PolicyFileError",
    "Quote",
    "QuoteRefused",
    "QuoteRequest",
    "RuleMissing",
    "get_policy",
    "list_policies",
    "policies_for",
]

CACHE_LIMIT = 500_000


class PolicyEngine:
    """One loaded policy with its quote cache: quotes are a pure function of the request."""

    def __init__(self, data: Policy) -> None:
        self.data = data
        self._cache: dict[QuoteRequest, Quote | QuoteRefused] = {}

    @property
    def id(self) -> str:
        return self.data.id

    @property
    def name(self) -> str:
        return self.data.name

    @property
    def benefit_year(self) -> int:
        return self.data.benefit_year

    @property
    def targets(self):  # type: ignore[no-untyped-def]
        return self.data.targets

    def quote(self, request: QuoteRequest) -> Quote:
        """What the person owes and from when they are covered; raises :class:`QuoteRefused`."""
        hit = self._cache.get(request)
        if hit is None:
            try:
                hit = compute_quote(self.data, request)
            except QuoteRefused as refused:
                hit = refused
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[request] = hit
        if isinstance(hit, QuoteRefused):
            raise type(hit)(hit.message, code=hit.code, **hit.params)
        return hit

    def targets_check(self) -> list[Finding]:
        return targets_check(self.data)

    def assess(self, *, completion: Decimal, hardship: Decimal) -> AssessmentResult:
        return assess(self.data, completion=completion, hardship=hardship)

    def findings(self) -> list[Finding]:
        return policy_findings(self.data)

    def describe(self) -> dict[str, Any]:
        """The policy as data with its findings: what ``policy show --json`` and the pages show."""
        data = self.data.model_dump(mode="json", by_alias=True)
        data["findings"] = [f.to_dict() for f in self.findings()]
        return data

    def offline_payment_refusal(
        self, *, paid_on: date, channel: str, at_village: bool
    ) -> str | None:
        """Why an offline payment taken at the village is refused (the policy's place rule)."""
        return offline_payment_refusal(
            self.data, paid_on=paid_on, channel=channel, at_village=at_village
        )


_ENGINES: dict[str, PolicyEngine] = {}


def get_policy(policy_id: str) -> PolicyEngine:
    """The shipped policy ``policy_id`` (for example ``qijiang-sanjiang-2023``)."""
    engine = _ENGINES.get(policy_id)
    if engine is None:
        engine = _ENGINES[policy_id] = PolicyEngine(load_policy(policy_id))
    return engine


def list_policies() -> list[PolicyEngine]:
    return [get_policy(policy_id) for policy_id in policy_ids()]


def policies_for(district: str, township: str) -> list[PolicyEngine]:
    """The shipped policies of a township: its own, and its district's as a whole."""
    return [
        engine
        for engine in list_policies()
        if engine.data.district == district and engine.data.township in (None, township)
    ]
