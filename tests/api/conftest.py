"""Named fixture users in 三江街道 and HTTP clients that act as them.

- ``sanhe``: the collector of 三河街社区
- ``binjiang``: the collector of 滨江社区
- ``clerk``: the township clerk of 三江街道 (both villages)

``as_user(user)`` is a Django test client sending ``Authorization: Bearer <token>`` with a
token issued by :func:`yibao.api.tokens.api_token_issue`, as a tablet in the village would.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from tests.records import factories as f
from tests.records.conftest import purge_audit_log
from yibao.api.tokens import api_token_issue
from yibao.collection.models import StaffMember

API = "/api/v1"
POLICY = f.POLICY
YEAR = f.YEAR


@pytest.fixture(autouse=True)
def campaign_day(settings):
    """Sanjiang's collection period (benefit year 2023)."""
    settings.YIBAO_TODAY = f.CAMPAIGN_DAY.isoformat()
    return f.CAMPAIGN_DAY


@pytest.fixture
def town(db):
    villages = f.area(villages=("三河街社区", "滨江社区"))
    sanhe, binjiang = villages["三河街社区"], villages["滨江社区"]
    return SimpleNamespace(
        sanhe=sanhe,
        binjiang=binjiang,
        township=sanhe.township,
        sanhe_collector=f.user("sanhe", villages=(sanhe,)),
        binjiang_collector=f.user("binjiang", villages=(binjiang,)),
        clerk=f.user("clerk", role=StaffMember.Role.TOWNSHIP, township=sanhe.township),
    )


class ApiClient(Client):
    """A test client with JSON helpers; ``token`` is sent as a bearer token."""

    def __init__(self, token: str | None = None, **kwargs: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        super().__init__(headers=headers, **kwargs)

    def post_json(self, path: str, data: Any, **kwargs: Any):
        return self.post(path, data=data, content_type="application/json", **kwargs)


@pytest.fixture
def as_user(town):
    """``as_user(user)``: a bearer-token client acting as ``user``."""

    def make(user) -> ApiClient:
        return ApiClient(api_token_issue(actor=user, name="测试").secret)

    return make


@pytest.fixture
def sanhe(as_user, town) -> ApiClient:
    return as_user(town.sanhe_collector)


@pytest.fixture
def binjiang(as_user, town) -> ApiClient:
    return as_user(town.binjiang_collector)


@pytest.fixture
def clerk(as_user, town) -> ApiClient:
    return as_user(town.clerk)


@pytest.fixture
def api_live_server(ledger_transactional_db, live_server):
    yield live_server


@pytest.fixture
def ledger_transactional_db(transactional_db):
    yield
    purge_audit_log()


def error_of(response) -> dict[str, Any]:
    """The ``error`` object of a refusal; fails unless the body has the API's error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def payment_body(person, amount: str = "350.00", **extra: Any) -> dict[str, Any]:
    return {
        "person_id": person.pk,
        "policy": POLICY,
        "tier": 1,
        "amount": amount,
        "channel": "cash",
        **extra,
    }
