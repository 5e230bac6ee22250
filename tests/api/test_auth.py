import pytest
from django.test import Client

from tests.records import factories as f
from yibao.api.tokens import api_token_issue

from .conftest import API, ApiClient, error_of, payment_body


def test_a_request_without_credentials_is_told_in_chinese_to_log_in(town):
    for response in (Client().get(f"{API}/persons"), Client().post(f"{API}/quotes", {})):
        assert response.status_code == 401
        error = error_of(response)
        assert error["code"] == "not_authenticated"
        assert "未登录" in error["message"]


def test_an_unknown_token_is_refused(town):
    response = ApiClient("yb_not-a-token").get(f"{API}/me")
    assert response.status_code == 401


def test_a_bearer_token_acts_as_its_user(town, sanhe):
    assert sanhe.get(f"{API}/me").json()["username"] == "sanhe"


def test_a_token_is_not_a_session_cookie(town):
    token = api_token_issue(actor=town.sanhe_collector).secret
    client = Client()
    client.cookies["sessionid"] = token
    assert client.get(f"{API}/me").status_code == 401


@pytest.fixture
def session(town):
    """The future web app: a logged-in browser session that must send the CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(town.sanhe_collector)
    return client


def test_a_session_reads_without_a_csrf_token(session):
    assert session.get(f"{API}/me").json()["username"] == "sanhe"


def test_a_session_write_without_the_csrf_token_is_refused(session, town):
    person = f.person(town.sanhe)
    response = session.post(
        f"{API}/payments", data=payment_body(person), content_type="application/json"
    )
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "csrf_failed" and "CSRF" in error["message"]
    assert not person.enrollments.exists()


def test_a_session_write_with_the_csrf_token_is_accepted(session, town):
    session.get(f"{API}/docs")  # any page that hands out the csrftoken cookie
    csrf = session.cookies["csrftoken"].value
    response = session.post(
        f"{API}/payments",
        data=payment_body(f.person(town.sanhe)),
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert response.status_code == 201, response.content
