"""Every rule of every shipped policy is exercised by at least one table row or typed case."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from tests.policy.cases import Case, all_cases
from yibao.policy import get_policy, list_policies
from yibao.policy.model import Identity
from yibao.policy.rules import MissingRule, NotApplicable

CASES = all_cases()
POLICY_IDS = [engine.id for engine in list_policies()]


def _cases(policy_id: str, kinds: Iterable[str]) -> list[Case]:
    return [c for c in CASES if c.policy == policy_id and c.kind in kinds]


def _identity_keys(policy_id: str, case: Case) -> set[str]:
    policy = get_policy(policy_id).data
    keys = set()
    for claim in case.request.identities:
        identity = policy.identity(claim.key)
        if identity is not None:
            keys.add(identity.key)
    return keys


def _rule_missing(identity: Identity) -> bool:
    """Both tiers' amounts are in a document not given: every quote with it is refused."""
    return all(isinstance(identity.rule(tier), MissingRule) for tier in (1, 2))


def test_every_shipped_policy_has_a_fixture() -> None:
    assert set(POLICY_IDS) <= {c.policy for c in CASES}


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_every_identity_and_tier_is_quoted_or_refused(policy_id: str) -> None:
    policy = get_policy(policy_id).data
    missing = []
    for identity in policy.identities:
        for tier in (1, 2):
            not_applicable = isinstance(identity.rule(tier), NotApplicable | MissingRule)
            kinds = ("refusals",) if not_applicable else ("rows",)
            hit = [
                c
                for c in _cases(policy_id, kinds)
                if c.request.tier == tier and _identity_keys(policy_id, c) == {identity.key}
            ]
            if not hit:
                missing.append(f"{identity.label()} tier {tier}")
    assert not missing, f"no fixture case for: {missing}"


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_every_coverage_window_has_a_case_on_its_first_and_last_day(policy_id: str) -> None:
    policy = get_policy(policy_id).data
    days = {
        c.request.paid_on
        for c in _cases(policy_id, ("coverage",))
        if c.request.population != "university_student"
    }
    for window in policy.coverage.windows:
        for edge in (window.starts, window.ends):
            if edge is not None:
                assert edge in days, f"{window.rule} window edge {edge} has no coverage case"
        if window.starts is None and window.ends is not None:
            assert any(d <= window.ends for d in days)
        if window.ends is None and window.starts is not None:
            assert any(d >= window.starts for d in days)


@pytest.mark.parametrize("policy_id", POLICY_IDS)
def test_every_exemption_and_date_rule_has_a_case(policy_id: str) -> None:
    policy = get_policy(policy_id).data
    quoted = _cases(policy_id, ("rows", "coverage", "multi"))
    refused = _cases(policy_id, ("refusals",))
    codes = {c.data["code"] for c in refused}
    if policy.collection.opens_on:
        assert "before_collection" in codes
    if policy.collection.last_payment_day:
        assert "after_last_payment_day" in codes
    if policy.collection.extended_last_day:
        last = policy.collection.last_payment_day
        assert last is not None and any(c.request.paid_on > last for c in quoted)
    if policy.late_surcharge:
        assert any(c.request.paid_on >= policy.late_surcharge.starts_on for c in quoted)
    rule = policy.coverage.no_waiting
    if rule is not None:
        missing = {i.key for i in policy.identities if _rule_missing(i)}
        for key in [k for k in rule.identities if k not in missing][:1]:
            assert any(key in _identity_keys(policy_id, c) for c in quoted), "no-waiting identity"
        if rule.newborn_days:
            assert any(c.request.population == "newborn" for c in quoted)
        if rule.employee_insurance_months:
            assert any(c.request.employee_insurance_ended_on for c in quoted)
    if policy.surcharge_borne:
        assert any(
            set(policy.surcharge_borne.identities) & _identity_keys(policy_id, c)
            and c.request.paid_on >= policy.late_surcharge.starts_on  # type: ignore[union-attr]
            for c in quoted
        )
    # Outside its window (or certified after the cut-off) an identity gives no subsidy: a case
    # must show the person enrolling at full price, or the refusal a document gives.
    unsubsidised = _cases(policy_id, ("unsubsidised", "refusals"))
    for identity in policy.identities:
        if identity.valid_to or identity.certified_until:
            assert any(identity.key in _identity_keys(policy_id, c) for c in unsubsidised), (
                identity.label()
            )
    if policy.published_personal_stands:
        late = policy.late_surcharge
        assert late is not None
        assert any(
            c.request.paid_on >= late.starts_on
            and any(
                (i := policy.identity(k)) is not None
                and i.valid_to is not None
                and i.valid_to >= c.request.paid_on
                for k in _identity_keys(policy_id, c)
            )
            for c in quoted
        ), "published personal amount after 1 July has no case"
    if len([i for i in policy.identities if not _rule_missing(i)]) > 1:
        assert _cases(policy_id, ("multi",)), "multi-identity rule has no case"
