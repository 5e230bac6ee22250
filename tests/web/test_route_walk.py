"""Every page, walked as each role: the village's collector, a collector of another village,
the township office and the auditor. No page answers a server error; another village's
records answer 404 and show nothing of them; a role without the page gets 403 (or the
sign-in page).

The URL patterns come from the web's own urlconf, so a page added later is walked too.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver

from tests.records import factories as f
from yibao.collection.services import payment_record
from yibao.web.urls import urlpatterns

from .conftest import client_for


def _paths(patterns, prefix: str = "/") -> list[str]:
    paths = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            paths += _paths(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            paths.append(route)
    return paths


PAGES = [p for p in _paths(urlpatterns) if p not in ("/logout/",)]
ROLES = ["sanhe_collector", "dashan_collector", "office", "auditor"]


@pytest.fixture
def records(town):
    person = f.person(town.sanhe, name="走查人")
    payment = payment_record(
        actor=town.sanhe_collector,
        person=person,
        policy_id=f.POLICY,
        tier=1,
        amount=Decimal("350"),
        channel="cash",
        idempotency_key="walk-key-0001",
    )
    return {
        "person_id": person.pk,
        "payment_id": payment.pk,
        "key": "walk-key-0001",
        "close_id": 999_999,
    }


def _url(path: str, records: dict) -> str:
    # A parameter without a record of the walk names one that does not exist.
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(records.get(m.group(1), 999_999)), path)


def _visit(client, url: str):
    """GET the page; a page that takes only POST is posted to (empty form)."""
    response = client.get(url)
    return client.post(url) if response.status_code == 405 else response


def test_the_walk_covers_the_pages():
    assert len(PAGES) >= 20


@pytest.mark.parametrize("role", ROLES)
def test_no_page_fails_for_any_role(town, records, role):
    client = client_for(getattr(town, role))
    for path in PAGES:
        response = _visit(client, _url(path, records))
        assert response.status_code in (200, 302, 400, 403, 404), (role, path, response.status_code)


def test_a_collector_of_another_village_gets_404_and_sees_nothing_of_the_record(town, records):
    client = client_for(town.dashan_collector)
    for path in PAGES:
        if not any(name in path for name in ("person_id", "payment_id", "key")):
            continue
        response = _visit(client, _url(path, records))
        assert response.status_code in (403, 404), (path, response.status_code)
        assert "走查人" not in response.content.decode(), path


def test_the_village_s_own_collector_reaches_the_same_records(town, records):
    client = client_for(town.sanhe_collector)
    for path in ("/desk/person/<int:person_id>/", "/desk/payments/<int:payment_id>/receipt/"):
        response = client.get(_url(path, records))
        assert response.status_code == 200, path
        assert "走查人" in response.content.decode()


def test_the_auditor_reads_but_cannot_pay(town, records, auditor):
    assert auditor.get("/ledger/").status_code == 200
    assert auditor.get("/audit/").status_code == 200
    assert auditor.post("/desk/pay/", {}).status_code in (403, 302)
