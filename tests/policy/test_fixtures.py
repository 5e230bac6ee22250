"""Every row of every published table, and every case typed from the documents, through the engine."""

from __future__ import annotations

from datetime import date

import pytest

from tests.policy.cases import Case, all_cases, money
from yibao.policy import QuoteRefused, get_policy

CASES = all_cases()


def _expect_date(expected: str, actual: date | None) -> None:
    if expected == "none":
        assert actual is None
    else:
        assert actual == date.fromisoformat(expected)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind != "refusals"], ids=lambda c: c.id)
def test_quote_gives_the_published_amounts_and_dates(case: Case) -> None:
    quote = get_policy(case.policy).quote(case.request)
    data = case.data
    assert quote.standard == quote.subsidy + quote.personal
    for field in ("standard", "subsidy", "personal"):
        if field in data:
            assert getattr(quote, field) == money(data[field]), field
    if "start" in data:
        _expect_date(data["start"], quote.coverage_start)
    if "end" in data:
        _expect_date(data["end"], quote.coverage_end)
    if "applied" in data:
        assert quote.identity is not None
        assert data["applied"] in (quote.identity.name, quote.identity.code)
    if "identity" in data:
        assert quote.identity is not None and data["identity"] in (
            quote.identity.name,
            quote.identity.code,
        )
    if "start" in data and data["start"] == "none":
        assert any("待遇享受期" in note for note in quote.notes)


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "refusals"], ids=lambda c: c.id)
def test_refusal_names_the_rule(case: Case) -> None:
    with pytest.raises(QuoteRefused) as refused:
        get_policy(case.policy).quote(case.request)
    assert refused.value.code == case.data["code"]
    assert refused.value.message


@pytest.mark.parametrize("case", [c for c in CASES if c.kind == "unsubsidised"], ids=lambda c: c.id)
def test_an_identity_that_gives_no_subsidy_enrolls_at_full_price_naming_the_rule(
    case: Case,
) -> None:
    quote = get_policy(case.policy).quote(case.request)
    assert quote.identity is None
    assert quote.subsidy == 0
    assert any("不予资助" in note for note in quote.notes)
