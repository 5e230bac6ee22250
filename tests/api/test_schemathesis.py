"""Schemathesis against the API's own OpenAPI schema: for every operation, generated requests
(bounded, so the suite stays quick) never get a server error, a status code the schema does
not list, or a body that breaks the documented schema.

The caller is the township clerk of 三江街道 with a bearer token, over a township with people,
an enrollment and a payment, so that generated ids sometimes hit real records.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from tests.records import factories as f
from yibao.api.tokens import api_token_issue
from yibao.collection.services import enrollment_create, payment_record

from .conftest import API

MAX_EXAMPLES = 5
# What the API promises: no server error, only status codes and content types the schema
# lists, bodies that match it. Not checked: that every schema-valid request is accepted (a
# business refusal such as amount_mismatch is a documented 400) or every invalid one refused.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]

# The fuzzing phase only: the coverage phase adds dozens of boundary cases per operation
# and would take the suite past a few minutes on two databases.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_wsgi(
    f"{API}/openapi.json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture
def keep_the_test_connection():
    """The WSGI handler closes the database connection after each request; the test's
    transaction must outlive them (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def clerk_token(town, keep_the_test_connection):
    collector = town.sanhe_collector
    for i in range(3):
        f.person(town.sanhe, name=f"示例{i}")
    enrollment_create(
        actor=collector, person=f.person(town.sanhe, name="登记"), policy_id=f.POLICY, tier=1
    )
    payment_record(
        actor=collector,
        person=f.person(town.sanhe, name="缴费"),
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="cash",
    )
    return api_token_issue(actor=town.clerk, name="schemathesis").secret


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@pytest.mark.django_db
def test_the_api_keeps_to_its_schema(case, clerk_token):
    response = case.call(headers={"Authorization": f"Bearer {clerk_token}"})
    case.validate_response(response, checks=CHECKS)
