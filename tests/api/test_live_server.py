"""One test over a real socket: a village tablet pays, retries after a lost answer, reads back."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.records import factories as f
from yibao.api.tokens import api_token_issue
from yibao.collection.models import Payment

from .conftest import API, payment_body


def _call(base: str, method: str, path: str, token: str, body=None, headers=None):
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_tablet_pays_over_http_and_a_retry_returns_the_same_payment(api_live_server, town):
    person = f.person(town.sanhe, name="黄九")
    token = api_token_issue(actor=town.sanhe_collector).secret
    base = api_live_server.url
    key = {"Idempotency-Key": "tablet-3-000123"}
    first = _call(base, "POST", f"{API}/payments", token, payment_body(person), key)
    again = _call(base, "POST", f"{API}/payments", token, payment_body(person), key)
    assert (first[0], again[0]) == (201, 200)
    assert first[1]["id"] == again[1]["id"]
    assert Payment.objects.count() == 1

    status, other = _call(
        base,
        "GET",
        f"{API}/persons/{person.pk}",
        api_token_issue(actor=town.binjiang_collector).secret,
        None,
    )
    assert status == 404 and other["error"]["code"] == "not_found"
