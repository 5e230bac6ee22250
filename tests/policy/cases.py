"""Fixtures quoting the documents' tables, shared by the policy tests."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from yibao.policy import IdentityClaim, QuoteRequest

FIXTURES = Path(__file__).with_name("fixtures")
KINDS = ("rows", "refusals", "coverage", "multi", "unsubsidised")


@dataclass(frozen=True)
class Case:
    policy: str
    kind: str
    index: int
    data: dict[str, Any]
    request: QuoteRequest

    @property
    def id(self) -> str:
        label = "+".join(self.data.get("identities", [])) or self.data.get("identity", "")
        return f"{self.policy}:{self.kind}[{self.index}]{label}:t{self.data['tier']}"


def _claims(data: dict[str, Any]) -> tuple[IdentityClaim, ...]:
    keys = data.get("identities") or ([data["identity"]] if "identity" in data else [])
    certified = data.get("certified_on")
    return tuple(IdentityClaim(key=str(key), certified_on=certified) for key in keys)


def build_request(data: dict[str, Any], default_paid_on: date) -> QuoteRequest:
    return QuoteRequest(
        paid_on=data.get("paid_on", default_paid_on),
        tier=data["tier"],
        identities=_claims(data),
        population=data.get("population", "resident"),
        birth_date=data.get("birth_date"),
        graduating=data.get("graduating", False),
        employee_insurance_ended_on=data.get("employee_insurance_ended_on"),
        continuous_insured_years=data.get("continuous_insured_years"),
    )


def load_fixture(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(FIXTURES.glob("*.toml")):
        fixture = load_fixture(path)
        for kind in KINDS:
            for index, data in enumerate(fixture.get(kind, [])):
                request = build_request(data, fixture["paid_on"])
                cases.append(Case(fixture["policy"], kind, index, data, request))
    return cases


def money(text: str) -> Decimal:
    return Decimal(text)
