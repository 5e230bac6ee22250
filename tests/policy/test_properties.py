"""Properties that hold for every quote of every shipped policy."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.policy import IdentityClaim, QuoteRefused, QuoteRequest, get_policy, list_policies

POLICIES = {engine.id: engine for engine in list_policies()}


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, QuoteRequest]:
    policy_id = draw(st.sampled_from(sorted(POLICIES)))
    policy = POLICIES[policy_id].data
    year = policy.benefit_year
    paid_on = draw(st.dates(date(year - 1, 9, 1), date(year + 1, 1, 31)))
    keys = [i.key for i in policy.identities]
    chosen = draw(st.lists(st.sampled_from(keys), max_size=3)) if keys else []
    certified = draw(st.none() | st.dates(date(year - 2, 1, 1), date(year, 12, 31)))
    population = draw(st.sampled_from(["resident", "resident", "newborn", "university_student"]))
    birth = None
    if population == "newborn":
        birth = paid_on - timedelta(days=draw(st.integers(0, 200)))
    request = QuoteRequest(
        paid_on=paid_on,
        tier=draw(st.sampled_from([1, 2])),
        identities=tuple(IdentityClaim(k, certified) for k in chosen),
        population=population,
        birth_date=birth,
        graduating=draw(st.booleans()),
        employee_insurance_ended_on=draw(st.none() | st.just(paid_on - timedelta(days=40))),
        continuous_insured_years=draw(st.none() | st.integers(0, 5)),
    )
    return policy_id, request


@settings(max_examples=1500, deadline=None)
@given(requests())
def test_subsidy_plus_personal_is_the_standard_and_nothing_is_negative(
    case: tuple[str, QuoteRequest],
) -> None:
    policy_id, request = case
    try:
        quote = get_policy(policy_id).quote(request)
    except QuoteRefused as refused:
        assert refused.message and refused.code
        return
    assert quote.standard == quote.subsidy + quote.personal
    assert quote.subsidy >= 0 and quote.personal >= 0 and quote.standard > 0
    assert quote.surcharge >= 0


@settings(max_examples=1500, deadline=None)
@given(requests())
def test_coverage_stays_inside_the_benefit_year(case: tuple[str, QuoteRequest]) -> None:
    policy_id, request = case
    try:
        quote = get_policy(policy_id).quote(request)
    except QuoteRefused:
        return
    year = POLICIES[policy_id].benefit_year
    if quote.coverage_start is None:
        assert quote.coverage_end is None
        return
    assert quote.coverage_end is not None and quote.coverage_start <= quote.coverage_end
    if request.population != "university_student":
        assert date(year, 1, 1) <= quote.coverage_start
        assert quote.coverage_end <= date(year, 12, 31)
        assert quote.coverage_start >= min(request.paid_on, date(year, 1, 1))
