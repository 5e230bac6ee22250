"""The OpenAPI schema and the docs page are served, and nothing points outside the intranet."""

from __future__ import annotations

import json
import re

from django.test import Client

from tests.records import factories as f

from .conftest import API, POLICY, payment_body

# Any http(s) URL whose host is not this server.
CDN = re.compile(r"(?<![A-Za-z0-9])cdn(?![A-Za-z0-9])", re.IGNORECASE)
EXTERNAL = re.compile(r"https?://(?!(?:localhost|127\.0\.0\.1|testserver)(?:[:/]|$))[^\s\"'<>)]+")


def test_the_openapi_schema_is_served_with_every_route_and_both_ways_to_authenticate(town):
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["version"] == "1"
    assert {f"{API}/persons", f"{API}/payments", f"{API}/quotes"} <= set(schema["paths"])
    assert set(schema["components"]["securitySchemes"]) == {"BearerToken", "SessionCsrf"}
    payment = schema["components"]["schemas"]["PaymentOut"]["properties"]
    assert payment["amount"]["type"] == "string"  # money is a decimal string


def test_the_docs_page_loads_only_files_from_this_server(town):
    client = Client()
    page = client.get(f"{API}/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert not EXTERNAL.findall(html)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(refs) == 4
    for ref in refs:
        assert ref.startswith(f"{API}/docs/assets/"), ref
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert b"".join(asset.streaming_content)
    settings = json.loads(re.search(r'id="swagger-settings">(.*?)</script>', html).group(1))
    # Swagger UI's only call home is its online validator badge.
    assert settings["validatorUrl"] is None
    assert settings["url"] == f"{API}/openapi.json"


def test_the_docs_assets_reference_nothing_outside_this_server(town):
    """The page's own script and stylesheet load nothing remote (Swagger UI's bundle is
    third-party code whose URL strings are links and XML namespaces, not loads)."""
    init = b"".join(Client().get(f"{API}/docs/assets/swagger-ui-init.js").streaming_content)
    assert not EXTERNAL.findall(init.decode())
    css = b"".join(Client().get(f"{API}/docs/assets/swagger-ui.css").streaming_content).decode()
    assert not re.findall(r"@import|url\(\s*['\"]?https?:", css)


def test_only_the_listed_docs_assets_are_served(town):
    assert Client().get(f"{API}/docs/assets/redoc.standalone.js.map").status_code == 404
    assert Client().get(f"{API}/docs/assets/..%2F..%2Fmain.py").status_code == 404


def test_no_response_of_the_api_references_an_outside_host(sanhe, town):
    person = f.person(town.sanhe)
    f.tag(person, "低保对象")
    paid = sanhe.post_json(f"{API}/payments", payment_body(person, "35.00"))
    responses = [
        Client().get(f"{API}/openapi.json"),
        Client().get(f"{API}/docs"),
        Client().get(f"{API}/persons"),
        sanhe.get(f"{API}/me"),
        sanhe.get(f"{API}/persons"),
        sanhe.get(f"{API}/persons/{person.pk}"),
        paid,
        sanhe.post_json(f"{API}/payments/{paid.json()['id']}/reversal", {"reason": "测试"}),
        sanhe.post_json(f"{API}/quotes", {"policy": POLICY, "paid_on": "2022-12-05", "tier": 2}),
        sanhe.get(f"{API}/villages/{town.sanhe.pk}/ledger?benefit_year=2023"),
        sanhe.get(f"{API}/no-such-route"),
    ]
    for response in responses:
        text = response.content.decode()
        assert not EXTERNAL.findall(text), (response.request["PATH_INFO"], EXTERNAL.findall(text))
        # "cdn" as a word of a host or path (cdn.jsdelivr.net, //cdn/...), not letters inside
        # a random token such as the docs page's CSRF token, which once held "...6cdn8u5...".
        assert not CDN.search(text), response.request["PATH_INFO"]


def test_an_unknown_path_under_the_api_is_a_json_404(sanhe):
    for path in (f"{API}/", f"{API}/no-such-route"):
        response = sanhe.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
