"""Bearer tokens: an ``ApiToken`` row per token, holding a digest and never the secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone

from tests.records import factories as f
from yibao.api import cli
from yibao.api.models import ApiToken
from yibao.api.tokens import (
    TOKEN_DAYS,
    api_token_issue,
    api_token_revoke,
    api_token_status,
    api_token_user,
)
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog

from .conftest import API, ApiClient


def _me(secret: str) -> int:
    return ApiClient(secret).get(f"{API}/me").status_code


def test_issuing_a_token_stores_its_digest_and_prefix_and_expires_in_180_days(town):
    issued = api_token_issue(actor=town.sanhe_collector, name="三河平板")
    row = ApiToken.objects.get()
    assert row == issued.api_token
    assert row.user == town.sanhe_collector and row.name == "三河平板"
    assert issued.secret.startswith(row.prefix) and len(row.prefix) < len(issued.secret) // 3
    assert row.digest == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert row.expires_at - row.created_at == pytest.approx(
        dt.timedelta(days=TOKEN_DAYS), abs=dt.timedelta(seconds=5)
    )
    assert row.last_used_at is None and row.revoked_at is None
    assert api_token_status(row) == "active"


def test_the_secret_is_stored_nowhere_and_the_session_table_is_not_used(town):
    secret = api_token_issue(actor=town.sanhe_collector).secret
    values = ApiToken.objects.values().get()
    assert not any(secret in str(value) for value in values.values())
    assert not Session.objects.exists()


def test_two_tokens_of_one_user_work_side_by_side(town):
    first = api_token_issue(actor=town.sanhe_collector, name="平板").secret
    second = api_token_issue(actor=town.sanhe_collector, name="脚本").secret
    assert first != second
    assert _me(first) == _me(second) == 200


def test_using_a_token_records_when_it_was_last_used(town):
    issued = api_token_issue(actor=town.sanhe_collector)
    before = timezone.now()
    assert _me(issued.secret) == 200
    issued.api_token.refresh_from_db()
    assert issued.api_token.last_used_at >= before


def test_a_revoked_token_no_longer_works_and_keeps_its_row(town):
    issued = api_token_issue(actor=town.sanhe_collector)
    api_token_revoke(actor=town.sanhe_collector, api_token=issued.api_token)
    assert _me(issued.secret) == 401
    row = ApiToken.objects.get()
    assert row.revoked_at is not None and api_token_status(row) == "revoked"


def test_a_token_cannot_be_revoked_twice(town):
    issued = api_token_issue(actor=town.sanhe_collector)
    api_token_revoke(actor=town.sanhe_collector, api_token=issued.api_token)
    with pytest.raises(ApplicationError) as refused:
        api_token_revoke(actor=town.sanhe_collector, api_token=issued.api_token)
    assert refused.value.code == "token_revoked"


def test_only_the_owner_or_a_superuser_revokes_a_token(town):
    issued = api_token_issue(actor=town.sanhe_collector)
    with pytest.raises(ApplicationError) as refused:
        api_token_revoke(actor=town.binjiang_collector, api_token=issued.api_token)
    assert refused.value.code == "out_of_scope"
    assert _me(issued.secret) == 200
    api_token_revoke(actor=f.admin(), api_token=issued.api_token)
    assert _me(issued.secret) == 401


def test_only_a_superuser_issues_a_token_for_someone_else(town):
    with pytest.raises(ApplicationError) as refused:
        api_token_issue(actor=town.binjiang_collector, user=town.sanhe_collector)
    assert refused.value.code == "out_of_scope"
    secret = api_token_issue(actor=f.admin(), user=town.sanhe_collector).secret
    assert ApiClient(secret).get(f"{API}/me").json()["username"] == "sanhe"


def test_an_inactive_user_is_issued_no_token(town):
    town.sanhe_collector.is_active = False
    town.sanhe_collector.save(update_fields=["is_active"])
    with pytest.raises(ApplicationError) as refused:
        api_token_issue(actor=f.admin(), user=town.sanhe_collector)
    assert refused.value.code == "user_inactive"
    assert not ApiToken.objects.exists()


def test_an_expired_token_no_longer_works(town):
    issued = api_token_issue(actor=town.sanhe_collector)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _me(issued.secret) == 401
    assert api_token_status(ApiToken.objects.get()) == "expired"


def test_a_token_works_until_it_expires(town):
    issued = api_token_issue(actor=town.sanhe_collector)
    ApiToken.objects.update(expires_at=timezone.now() + dt.timedelta(minutes=1))
    assert _me(issued.secret) == 200


def test_changing_the_password_ends_the_user_s_tokens(town):
    issued = api_token_issue(actor=town.sanhe_collector)
    town.sanhe_collector.set_password("新的密码-2022")
    town.sanhe_collector.save()
    assert _me(issued.secret) == 401
    assert api_token_status(ApiToken.objects.get()) == "password_changed"
    # a token issued after the change works
    assert _me(api_token_issue(actor=town.sanhe_collector).secret) == 200


def test_a_deactivated_user_s_token_no_longer_works(town):
    issued = api_token_issue(actor=town.sanhe_collector)
    town.sanhe_collector.is_active = False
    town.sanhe_collector.save()
    assert _me(issued.secret) == 401
    assert api_token_user(issued.secret) is None


@pytest.mark.parametrize("secret", ["", "yb_", "not-ours", "yb_" + "x" * 43])
def test_an_unknown_or_malformed_token_acts_as_nobody(town, secret):
    api_token_issue(actor=town.sanhe_collector)
    assert api_token_user(secret) is None


def test_issuing_and_revoking_are_audited_without_the_secret_or_its_digest(town):
    issued = api_token_issue(actor=town.sanhe_collector, name="三河平板")
    api_token_revoke(actor=town.sanhe_collector, api_token=issued.api_token)
    entries = list(AuditLog.objects.filter(object_type="api.apitoken").order_by("id"))
    assert [e.action for e in entries] == ["api_token.issue", "api_token.revoke"]
    row = ApiToken.objects.get()
    for entry in entries:
        assert entry.actor == town.sanhe_collector
        assert entry.object_id == str(row.pk)
        text = f"{entry.before} {entry.after}"
        assert issued.secret not in text
        assert row.digest not in text and row.auth_hash not in text
    assert entries[0].after["prefix"] == row.prefix and entries[0].after["name"] == "三河平板"
    assert entries[1].before["revoked_at"] is None and entries[1].after["revoked_at"]


def test_the_console_issues_lists_and_revokes_a_token(town, capsys):
    assert cli.main(["token", "issue", "--user", "sanhe", "--name", "三河平板"]) == 0
    secret = capsys.readouterr().out.strip()
    assert _me(secret) == 200
    assert cli.main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    prefix = ApiToken.objects.get().prefix
    assert prefix in listing and "三河平板" in listing and "有效" in listing
    assert secret not in listing
    assert cli.main(["token", "revoke", secret]) == 0
    assert _me(secret) == 401
    capsys.readouterr()
    assert cli.main(["token", "list"]) == 0
    assert prefix not in capsys.readouterr().out
    assert cli.main(["token", "list", "--all"]) == 0
    assert "已撤销" in capsys.readouterr().out


def test_the_console_revokes_a_lost_device_s_token_by_its_prefix(town, capsys):
    issued = api_token_issue(actor=town.sanhe_collector, name="丢失的平板")
    keep = api_token_issue(actor=town.sanhe_collector, name="新平板")
    assert cli.main(["token", "revoke", issued.api_token.prefix + "…"]) == 0
    assert (_me(issued.secret), _me(keep.secret)) == (401, 200)


def test_the_console_refuses_an_unknown_token_or_user(town, capsys):
    assert cli.main(["token", "revoke", "yb_nothing"]) == 2
    assert "不存在" in capsys.readouterr().err
    assert cli.main(["token", "issue", "--user", "nobody"]) == 2
    assert "不存在" in capsys.readouterr().err


def test_the_yibao_command_has_the_token_commands(town, capsys):
    from yibao.cli import main

    assert main(["token", "issue", "--user", "sanhe"]) == 0
    assert _me(capsys.readouterr().out.strip()) == 200
    assert main(["token", "list", "--user", "sanhe"]) == 0


def test_rotating_the_secret_key_with_a_fallback_keeps_tokens_working(town, settings):
    issued = api_token_issue(actor=town.sanhe_collector)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-the-server-" + "x" * 32
    assert _me(issued.secret) == 200


def test_a_token_works_while_another_writer_holds_the_database(ledger_transactional_db, town):
    """A CLI import holds SQLite's write lock (or a PostgreSQL row lock on the token) for
    minutes: the token's last-use bookkeeping skips that minute instead of waiting."""
    issued = api_token_issue(actor=town.sanhe_collector)
    holding, done = threading.Event(), threading.Event()
    released_by_timeout: list[bool] = []

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                ApiToken.objects.select_for_update().get(pk=issued.api_token.pk)
                ApiToken.objects.filter(pk=issued.api_token.pk).update(name="导入中")
                holding.set()
                released_by_timeout.append(not done.wait(timeout=60))
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert holding.wait(timeout=30)
    try:
        user = api_token_user(issued.secret)
    finally:
        done.set()
        holder.join()
    assert user == town.sanhe_collector
    assert released_by_timeout == [False]  # answered while the lock was still held
