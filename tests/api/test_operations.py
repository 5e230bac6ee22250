"""Operations: request ids, server errors in the log, ID numbers masked in log lines,
security headers, no-store on personal data, session cookies and the idle timeout."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.test import Client

from tests.records import factories as f
from yibao.core.operations import MaskIdNumbers

from .conftest import API


def test_pages_and_api_answers_carry_the_security_headers_and_no_store(sanhe, town):
    for response in (Client().get("/login/"), sanhe.get(f"{API}/persons")):
        assert response.status_code == 200
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert "no-store" in response["Cache-Control"]
        assert len(response["X-Request-ID"]) >= 8


def test_the_session_cookie_is_httponly_samesite_and_expires_after_30_idle_minutes(town):
    user = town.sanhe_collector
    user.set_password("正确的密码Abc123")
    user.save()
    client = Client()
    client.post("/login/", {"username": "sanhe", "password": "正确的密码Abc123"})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # plain http on 127.0.0.1; YIBAO_HTTPS=1 makes it Secure
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST


def test_a_server_error_is_logged_with_the_request_id_the_response_shows(
    sanhe, town, monkeypatch, caplog
):
    def broken(**kwargs):
        raise RuntimeError("数据库不见了")

    monkeypatch.setattr("yibao.api.registry.village_list", broken)
    sanhe.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="yibao.errors"):
        response = sanhe.get(f"{API}/villages")
    assert response.status_code == 500
    (record,) = [r for r in caplog.records if r.name == "yibao.errors"]
    assert response["X-Request-ID"] in record.getMessage()
    assert "数据库不见了" in str(record.exc_info[1])


def test_the_log_filter_masks_id_numbers_in_messages_and_tracebacks():
    number = f.id_number()
    try:
        raise ValueError(f"bad {number}")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "yibao", logging.ERROR, __file__, 1, "参保人 %s 出错", (number,), sys.exc_info()
        )
    assert MaskIdNumbers().filter(record)
    line = logging.Formatter("%(message)s").format(record)
    assert number not in line
    assert f"{number[:6]}********{number[-4:]}" in line


@pytest.mark.parametrize("header", ["abc", "x" * 65, "<script>alert(1)</script>"])
def test_a_request_id_from_the_client_is_used_only_when_it_is_plain(header):
    response = Client().get("/login/", headers={"X-Request-ID": header})
    assert response["X-Request-ID"] != header


def test_a_full_id_number_shown_after_a_card_read_never_travels_in_a_cookie(town):
    number = f.id_number()
    person = f.person(town.sanhe, name="卡号", number=number)
    user = town.sanhe_collector
    user.set_password("正确的密码Abc123")
    user.save()
    client = Client()
    client.post("/login/", {"username": "sanhe", "password": "正确的密码Abc123"})
    response = client.post(f"/desk/person/{person.pk}/id-number/", follow=True)
    assert number in response.content.decode()  # shown once on the card
    assert all(number not in morsel.value for morsel in client.cookies.values())
    assert "messages" not in client.cookies
