"""Every route of the API, walked from the ninja router, refuses a collector of another village.

A refusal reveals nothing: the answer is 404 ``not_found``, the same as for a record that does
not exist, and names no person or village of 三河街社区.

The routes come from the API's own OpenAPI schema, and the schema is checked against the URL
patterns, so a route added later is walked automatically: it must either be reachable with
the probe below (path parameters filled with 三河街社区's records, bodies for the few routes
without one) or be listed in UNSCOPED with the reason it touches no village's records.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest

from tests.records import factories as f
from yibao.api.main import api
from yibao.api.urls import urlpatterns
from yibao.collection.models import EnrollmentFact, StaffMember
from yibao.collection.services import enrollment_create, payment_record
from yibao.core.models import AuditLog

from .conftest import API, POLICY, error_of

UNSCOPED = {
    ("GET", f"{API}/me"): "answers only about the caller",
    ("GET", f"{API}/villages"): "lists only the caller's own villages (tested below)",
    ("POST", f"{API}/quotes"): "policy arithmetic on the request's own facts; reads no record",
    ("GET", f"{API}/progress"): "figures of the caller's own villages only (test_progress.py)",
    ("GET", f"{API}/progress/channels"): "the caller's own villages only (test_progress.py)",
    ("GET", f"{API}/progress/daily"): "the caller's own villages only (test_progress.py)",
    ("GET", f"{API}/cash"): "the caller and collectors of their villages (test_progress.py)",
    ("GET", f"{API}/divisions"): "official statistical division codes, public data",
    ("POST", f"{API}/divisions/load"): "district office only (tests/intake/test_areas_api.py)",
    ("POST", f"{API}/townships/setup"): "district office only (tests/intake/test_areas_api.py)",
    ("GET", f"{API}/cash/limits"): "the limits of the caller's own township",
    ("PUT", f"{API}/cash/limits"): "an office sets its own township's (tests/funds/test_api.py)",
    ("GET", f"{API}/cash/status"): "the caller and collectors of their villages",
    ("GET", f"{API}/daily-closes"): "closed days of the caller's collectors only",
    ("POST", f"{API}/tax-imports"): "an office's file; matches persons in its scope only",
    ("GET", f"{API}/receipt-books"): "books of the caller's collectors only",
    ("POST", f"{API}/receipt-books"): "an office issues to its collectors (tests/funds)",
    (
        "POST",
        f"{API}/receipt-books/{{book_id}}/voids",
    ): "a book's collector or its office (tests/funds)",
    ("POST", f"{API}/collectors/{{collector_id}}/days/{{day}}/close"): (
        "only the collector closes their own day (tests/funds/test_api.py)"
    ),
    ("POST", f"{API}/daily-closes/{{close_id}}/acknowledgement"): (
        "township office only, its collectors (tests/funds/test_api.py)"
    ),
    (
        "GET",
        f"{API}/identity-lists",
    ): "offices' own townships only (tests/intake/test_lists_api.py)",
    ("POST", f"{API}/identity-lists"): "township offices only (tests/intake/test_lists_api.py)",
    ("GET", f"{API}/identity-lists/{{list_id}}"): "township lists (tests/intake/test_lists_api.py)",
    ("POST", f"{API}/identity-lists/{{list_id}}/confirm"): "township (test_lists_api.py)",
    ("POST", f"{API}/identity-lists/{{list_id}}/discard"): "township (test_lists_api.py)",
    ("POST", f"{API}/person-lists"): "township offices only (tests/intake/test_lists_api.py)",
    ("GET", f"{API}/anomalies"): "offices, their own area only (tests/intake/test_lists_api.py)",
    ("GET", f"{API}/payer-patterns"): "offices, their own area (tests/intake/test_lists_api.py)",
    # Campaign records: lists of the caller's township only, or office-only writes that
    # refuse every village collector (tests/api/test_campaign.py).
    ("GET", f"{API}/target-tables"): "tables of the caller's township only",
    ("POST", f"{API}/target-tables"): "office only",
    ("GET", f"{API}/target-tables/{{table_id}}"): "tables of the caller's township only",
    ("POST", f"{API}/target-tables/{{table_id}}/accept"): "office only",
    ("GET", f"{API}/target-reductions"): "reductions in the caller's villages only",
    ("POST", f"{API}/target-reductions"): "office only (and access_person)",
    ("POST", f"{API}/target-reductions/{{reduction_id}}/revoke"): "office only",
    ("GET", f"{API}/bulletins"): "bulletins of the caller's township only",
    ("POST", f"{API}/bulletins"): "office only",
    ("GET", f"{API}/bulletins/preview"): "figures of the caller's villages only",
    ("GET", f"{API}/bulletins/pdf"): "figures of the caller's villages only (as the preview)",
    ("GET", f"{API}/bulletins/{{bulletin_id}}"): "bulletins of the caller's township only",
    ("GET", f"{API}/progress/hardship"): "the caller's villages only",
    ("GET", f"{API}/assessment"): "the caller's villages only",
    ("GET", f"{API}/subsidy-accounts"): "the caller's villages only",
    ("GET", f"{API}/policies/{{policy_id}}"): "public policy text, offices only (test_policies.py)",
    ("POST", f"{API}/policy-supplements"): "district office only (tests/api/test_policies.py)",
}

SCHEMA_FREE = {"", "openapi.json", "docs", "docs/assets/{name}", "^.*$"}


def _routes() -> list[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return sorted((method.upper(), path) for path, ops in paths.items() for method in ops)


ROUTES = _routes()
SCOPED = [route for route in ROUTES if route not in UNSCOPED]


@pytest.fixture
def sanhe_records(town):
    """三河街社区: a person with an unpaid enrollment, one who paid, one not yet enrolled."""
    collector = town.sanhe_collector
    enrolled = f.person(town.sanhe, name="赵一")
    enrollment = enrollment_create(actor=collector, person=enrolled, policy_id=POLICY, tier=1)
    payer = f.person(town.sanhe, name="钱二")
    payment = payment_record(
        actor=collector, person=payer, policy_id=POLICY, tier=1, amount="350", channel="cash"
    )
    newcomer = f.person(town.sanhe, name="孙三")
    fact = EnrollmentFact.objects.create(
        person=payer, benefit_year=f.YEAR, policy_id=POLICY, kind="graduating", reason="毕业"
    )
    return SimpleNamespace(
        fact=fact,
        person=enrolled,
        enrollment=enrollment,
        payment=payment,
        newcomer=newcomer,
        collector=collector.staff,
    )


def _member(name: str) -> dict[str, str]:
    return {"id_number": f.id_number(), "name": name}


def probe(method: str, path: str, town, records) -> tuple[str, dict[str, Any] | None]:
    """The URL and body that ask for something of 三河街社区 on ``path``."""
    params = {
        "person_id": records.person.pk,
        "enrollment_id": records.enrollment.pk,
        "payment_id": records.payment.pk,
        "village_id": town.sanhe.pk,
        "kind": "hardship",
        "collector_id": records.collector.pk,
        "day": f.CAMPAIGN_DAY.isoformat(),
        "fact_id": records.fact.pk,
    }
    url = re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), path)
    bodies = {
        ("GET", f"{API}/persons"): None,
        ("GET", f"{API}/villages/{{village_id}}/ledger"): None,
        ("GET", f"{API}/villages/{{village_id}}/notice"): None,
        ("POST", f"{API}/persons"): {"village_id": town.sanhe.pk, **_member("周四")},
        ("POST", f"{API}/households"): {
            "village_id": town.sanhe.pk,
            "head": _member("吴五"),
            "members": [_member("吴六")],
        },
        ("POST", f"{API}/persons/{{person_id}}/identity-tags"): {
            "category_key": "低保对象",
            "department": "民政局",
        },
        ("POST", f"{API}/enrollments"): {
            "person_id": records.newcomer.pk,
            "policy": POLICY,
            "tier": 1,
        },
        ("POST", f"{API}/enrollments/{{enrollment_id}}/tier"): {"tier": 2},
        ("POST", f"{API}/payments"): {
            "person_id": records.newcomer.pk,
            "policy": POLICY,
            "tier": 1,
            "amount": "350.00",
            "channel": "wechat",
        },
        ("POST", f"{API}/payments/{{payment_id}}/reversal"): {"reason": "核对"},
        ("POST", f"{API}/collectors/{{collector_id}}/remittances"): {
            "amount": "100.00",
            "bank": "农商行",
            "slip_number": "JK-probe",
        },
        ("GET", f"{API}/villages/{{village_id}}/unpaid"): None,
        ("POST", f"{API}/persons/{{person_id}}/contacts"): {"outcome": "away"},
        ("POST", f"{API}/persons/{{person_id}}/enrollment-facts"): {
            "policy": POLICY,
            "kind": "graduating",
            "reason": "毕业",
        },
        ("POST", f"{API}/enrollment-facts/{{fact_id}}/end"): {"reason": "撤回"},
    }
    queries = {
        ("GET", f"{API}/persons"): f"?village_id={town.sanhe.pk}",
        ("GET", f"{API}/villages/{{village_id}}/ledger"): f"?benefit_year={f.YEAR}",
        ("GET", f"{API}/villages/{{village_id}}/notice"): f"?benefit_year={f.YEAR}",
    }
    if method != "GET" and (method, path) not in bodies:
        raise AssertionError(f"{method} {path}: add a probe body to test_village_scope.py")
    if method == "GET" and "{" not in path and (method, path) not in queries:
        raise AssertionError(f"{method} {path}: add a probe query naming 三河街社区")
    return url + queries.get((method, path), ""), bodies.get((method, path))


def send(client, method: str, url: str, body: Any):
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, data=json.dumps(body or {}), content_type="application/json")


def test_the_walk_covers_every_url_of_the_api():
    """No URL pattern is missing from the schema (and so from the walk)."""
    in_schema = {path.removeprefix(f"{API}/") for _, path in ROUTES}
    patterns = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern)) for p in urlpatterns}
    assert patterns - in_schema == SCHEMA_FREE
    assert len(SCOPED) >= 11


@pytest.mark.parametrize(("method", "path"), SCOPED, ids=[f"{m} {p}" for m, p in SCOPED])
def test_a_collector_of_another_village_is_refused(method, path, town, sanhe_records, binjiang):
    url, body = probe(method, path, town, sanhe_records)
    audit_before = AuditLog.objects.count()
    response = send(binjiang, method, url, body)
    assert response.status_code == 404, response.content
    error = error_of(response)
    assert error["code"] == "not_found"
    assert error["message"].startswith("找不到编号为")
    for secret in ("三河", "赵一", "钱二", "孙三", "周四", "吴五"):
        assert secret not in response.content.decode(), secret
    assert AuditLog.objects.count() == audit_before  # nothing written


def _ghost(pk: int) -> SimpleNamespace:
    return SimpleNamespace(pk=pk)


@pytest.mark.parametrize(("method", "path"), SCOPED, ids=[f"{m} {p}" for m, p in SCOPED])
def test_another_village_s_record_answers_as_one_that_does_not_exist(
    method, path, town, sanhe_records, binjiang
):
    """The same status and body as the same request for records that do not exist, but for
    the number the caller gave."""
    url, body = probe(method, path, town, sanhe_records)
    nowhere = SimpleNamespace(sanhe=_ghost(999_990))
    ghosts = SimpleNamespace(
        person=_ghost(999_991),
        enrollment=_ghost(999_992),
        payment=_ghost(999_993),
        newcomer=_ghost(999_994),
        collector=_ghost(999_995),
        fact=_ghost(999_996),
    )
    ghost_url, ghost_body = probe(method, path, nowhere, ghosts)
    refused, absent = (
        send(binjiang, method, url, body),
        send(binjiang, method, ghost_url, ghost_body),
    )
    assert refused.status_code == absent.status_code == 404

    def shape(error: dict[str, Any]) -> tuple[str, str, list[str]]:
        (key, number), *_ = error["details"].items()
        return error["code"], error["message"].replace(str(number), "#"), sorted(error["details"])

    assert shape(error_of(refused)) == shape(error_of(absent))
    assert error_of(refused)["code"] == "not_found"


@pytest.mark.parametrize(("method", "path"), SCOPED, ids=[f"{m} {p}" for m, p in SCOPED])
def test_the_same_request_succeeds_for_the_village_s_own_collector(
    method, path, town, sanhe_records, sanhe
):
    """The probe is a real request: the refusal above is the village scope, nothing else."""
    url, body = probe(method, path, town, sanhe_records)
    response = send(sanhe, method, url, body)
    if path in OFFICE_ONLY or (method, path) in OFFICE_WRITES:
        # Marking identities is the township's (璧城街道办发〔2022〕36号 五（二）1): the own
        # collector is refused for the role, not the village.
        assert response.status_code == 403 and error_of(response)["code"] == "office_required"
        return
    assert response.status_code in (200, 201), response.content


OFFICE_ONLY = {f"{API}/persons/{{person_id}}/identity-tags"}
# What offices record about a person's year (graduating, 预参保, an office's decision).
OFFICE_WRITES = {
    ("POST", f"{API}/persons/{{person_id}}/enrollment-facts"),
    ("POST", f"{API}/enrollment-facts/{{fact_id}}/end"),
}


@pytest.mark.parametrize(("method", "path"), SCOPED, ids=[f"{m} {p}" for m, p in SCOPED])
def test_the_township_clerk_may_act_in_every_village_of_the_township(
    method, path, town, sanhe_records, clerk
):
    url, body = probe(method, path, town, sanhe_records)
    assert send(clerk, method, url, body).status_code in (200, 201)


def test_lists_without_a_village_show_only_the_caller_s_villages(town, sanhe_records, binjiang):
    own = f.person(town.binjiang, name="郑七")
    persons = binjiang.get(f"{API}/persons").json()
    assert [p["id"] for p in persons["items"]] == [own.pk]
    assert [v["name"] for v in binjiang.get(f"{API}/villages").json()] == ["滨江社区"]
    me = binjiang.get(f"{API}/me").json()
    assert me["username"] == "binjiang"
    assert [v["name"] for v in me["villages"]] == ["滨江社区"]


def test_a_resident_living_in_another_village_is_seen_by_both_villages(town, sanhe, binjiang):
    person = f.person(town.sanhe, name="冯八", residence_village=town.binjiang)
    assert binjiang.get(f"{API}/persons/{person.pk}").status_code == 200
    assert sanhe.get(f"{API}/persons/{person.pk}").status_code == 200


@pytest.mark.parametrize(("method", "path"), SCOPED, ids=[f"{m} {p}" for m, p in SCOPED])
def test_the_township_auditor_reads_every_village_and_writes_nothing(
    method, path, town, sanhe_records, as_user
):
    auditor = as_user(
        f.user("auditor", role=StaffMember.Role.AUDITOR, township=town.sanhe.township)
    )
    url, body = probe(method, path, town, sanhe_records)
    audit_before = AuditLog.objects.count()
    response = send(auditor, method, url, body)
    if method == "GET":
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403, response.content
        assert error_of(response)["code"] == "read_only"
        assert AuditLog.objects.count() == audit_before


def test_the_auditor_s_person_card_shows_the_masked_number_only(town, sanhe_records, as_user):
    auditor = as_user(
        f.user("auditor", role=StaffMember.Role.AUDITOR, township=town.sanhe.township)
    )
    card = auditor.get(f"{API}/persons/{sanhe_records.person.pk}").json()
    assert card["id_number"] == sanhe_records.person.masked_id_number
    assert card["birth_date"] is None
