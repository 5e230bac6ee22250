"""Signing in: the login page, and ten wrong passwords lock the account (django-axes)."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import PASSWORD, screenshot, sign_in


def test_a_collector_signs_in_and_lands_on_the_desk(page, town):
    page.goto("/login/")
    screenshot(page, "login")
    sign_in(page, town.sanhe_collector)
    expect(page.get_by_role("searchbox", name="查找参保人")).to_be_visible()
    expect(page.get_by_test_id("who")).to_contain_text("三河街社区")


def test_ten_wrong_passwords_lock_the_account_even_against_the_right_one(page, town):
    for attempt in range(1, 10):
        sign_in(page, town.sanhe_collector, password=f"wrong-password-{attempt}")
        expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")

    sign_in(page, town.sanhe_collector, password="wrong-password-10")
    expect(page.get_by_role("heading", name="账号已锁定")).to_be_visible()
    screenshot(page, "locked")

    sign_in(page, town.sanhe_collector, password=PASSWORD)
    expect(page.get_by_role("heading", name="账号已锁定")).to_be_visible()
    page.goto("/desk/")
    assert "/login/" in page.url  # not signed in


def test_nine_wrong_passwords_do_not_lock_the_account(page, town):
    for attempt in range(1, 10):
        sign_in(page, town.sanhe_collector, password=f"wrong-password-{attempt}")
    sign_in(page, town.sanhe_collector)
    expect(page.get_by_role("searchbox", name="查找参保人")).to_be_visible()
