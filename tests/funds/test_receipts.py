"""现金收缴凭证: the township issues numbered ranges; a cash payment at the desk takes the next
number of the collector's book; voided receipts with a reason; gaps, duplicates and numbers
outside a collector's range are reported."""

from __future__ import annotations

import re

import pytest

from tests.funds.conftest import client_for
from tests.records import factories as f
from yibao.collection.models import Payment
from yibao.collection.services import payment_record
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.funds.receipts import receipt_book_issue, receipt_next, receipt_report, receipt_void

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def book(town):
    return receipt_book_issue(
        actor=town.office, collector=town.sanhe_collector.staff, prefix="SJ", first=1, last=10
    )


def _desk_pay(client, person, key):
    data = {"m": [person.pk], f"tier_{person.pk}": 1, "key": key, "channel": "cash"}
    data[f"amount_{person.pk}"] = "350.00"
    return client.post("/desk/pay/", data)


def _cash(town, name, receipt):
    return payment_record(
        actor=town.sanhe_collector, person=f.person(town.sanhe, name=name), policy_id=f.POLICY,
        tier=1, amount="350", channel="cash", receipt_number=receipt,
    )  # fmt: skip


def test_the_desk_takes_the_next_number_of_the_collectors_book(town, book):
    sanhe = client_for(town.sanhe_collector)
    first, second = f.person(town.sanhe, name="一号"), f.person(town.sanhe, name="二号")
    page = _text(sanhe.get("/desk/pay/", {"m": first.pk, f"tier_{first.pk}": 1}))
    assert "现金收据（收据本）：<strong>SJ00000001</strong>" in page
    response = _desk_pay(sanhe, first, "a" * 32)
    assert response.status_code == 302
    assert _desk_pay(sanhe, first, "a" * 32).status_code == 302  # a double tap: the same one
    _desk_pay(sanhe, second, "b" * 32)
    numbers = list(Payment.objects.order_by("id").values_list("receipt_number", flat=True))
    assert numbers == ["SJ00000001", "SJ00000002"]
    assert "票据号 SJ00000001" in _text(sanhe.get(response["Location"]))


def test_a_collector_without_a_book_keeps_typing_the_receipt_number(town, book):
    dashan = client_for(town.dashan_collector)
    person = f.person(town.dashan, name="无本")
    assert 'data-test="book-receipt"' not in _text(
        dashan.get("/desk/pay/", {"m": person.pk, f"tier_{person.pk}": 1})
    )
    data = {"m": [person.pk], f"tier_{person.pk}": 1, "key": "c" * 32, "channel": "cash"}
    data.update({f"amount_{person.pk}": "350.00", "receipt_number": "手写0001"})
    dashan.post("/desk/pay/", data)
    assert Payment.objects.get().receipt_number == "手写0001"


def test_overlapping_ranges_and_issuing_by_a_collector_are_refused(town, book):
    with pytest.raises(ApplicationError) as refused:
        receipt_book_issue(
            actor=town.office, collector=town.dashan_collector.staff, prefix="SJ",
            first=10, last=20,
        )  # fmt: skip
    assert refused.value.code == "receipt_range_overlap"
    with pytest.raises(ApplicationError) as refused:
        receipt_book_issue(
            actor=town.sanhe_collector, collector=town.sanhe_collector.staff, prefix="XX",
            first=1, last=5,
        )  # fmt: skip
    assert refused.value.code == "office_required"
    assert AuditLog.objects.filter(action="receipt_book.issue").count() == 1


def test_a_voided_receipt_needs_a_reason_and_is_skipped(town, book):
    with pytest.raises(ApplicationError) as refused:
        receipt_void(actor=town.sanhe_collector, book=book, number=1, reason=" ")
    assert refused.value.code == "reason_required"
    receipt_void(actor=town.sanhe_collector, book=book, number=1, reason="写错作废")
    assert receipt_next(actor=town.sanhe_collector, count=2) == ["SJ00000002", "SJ00000003"]
    _cash(town, "已用", "SJ00000002")
    with pytest.raises(ApplicationError) as refused:
        receipt_void(actor=town.sanhe_collector, book=book, number=2, reason="撕坏")
    assert refused.value.code == "receipt_used"
    with pytest.raises(ApplicationError) as refused:
        receipt_void(actor=town.dashan_collector, book=book, number=3, reason="撕坏")
    assert refused.value.code == "not_found"


def test_the_report_names_gaps_duplicates_and_numbers_outside_the_range(town, book):
    receipt_void(actor=town.sanhe_collector, book=book, number=3, reason="写错作废")
    _cash(town, "一", "SJ00000001")
    _cash(town, "三", "SJ00000003")  # a voided number used: a duplicate
    _cash(town, "六", "SJ00000006")  # 2, 4 and 5 skipped
    _cash(town, "外号", "X-77")  # not of their book
    _cash(town, "无号", None)
    report = receipt_report(actor=town.office)
    (row,) = report.books
    assert (row.used, row.voided, row.next_number) == (3, 1, "SJ00000007")
    assert row.gaps == ["SJ00000002", "SJ00000004", "SJ00000005"]
    assert row.duplicates == ["SJ00000003"]
    assert [(o.receipt_number, o.reason) for o in report.outside] == [
        ("X-77", "不在该征收员领用的号段内"), ("", "无票据号")
    ]  # fmt: skip
    page = _text(client_for(town.office).get("/funds/receipts/"))
    assert "SJ00000002、SJ00000004、SJ00000005" in page and "X-77" in page


def test_the_office_issues_a_book_on_the_page_and_errors_stay_beside_the_field(town):
    office = client_for(town.office)
    collector = town.sanhe_collector.staff.pk
    data = {"action": "issue", "collector": collector, "prefix": "SJ", "first": "9", "last": "1"}
    response = office.post("/funds/receipts/", data)
    assert response.status_code == 400
    assert 'data-test="issue-error"' in _text(response) and 'value="9"' in _text(response)
    data.update(first="1", last="50")
    assert office.post("/funds/receipts/", data).status_code == 302
    assert receipt_next(actor=town.sanhe_collector) == ["SJ00000001"]


def test_the_api_and_the_commands_issue_void_and_report(town, capsys):
    from tests.api.conftest import ApiClient
    from yibao.api.tokens import api_token_issue
    from yibao.cli import main

    office = ApiClient(api_token_issue(actor=town.office, name="测试").secret)
    body = {
        "collector_id": town.sanhe_collector.staff.pk,
        "prefix": "QJ",
        "first": 1,
        "last": 5,
    }
    response = office.post_json("/api/v1/receipt-books", body)
    assert (response.status_code, response.json()["range"]) == (201, "QJ00000001–QJ00000005")
    sanhe = ApiClient(api_token_issue(actor=town.sanhe_collector, name="测试").secret)
    book = response.json()["id"]
    voided = sanhe.post_json(f"/api/v1/receipt-books/{book}/voids", {"number": 2, "reason": "撕坏"})
    assert voided.status_code == 201
    dashan = ApiClient(api_token_issue(actor=town.dashan_collector, name="测试").secret)
    refused = dashan.post_json(f"/api/v1/receipt-books/{book}/voids", {"number": 3, "reason": "x"})
    assert refused.status_code == 404
    report = office.get("/api/v1/receipt-books").json()
    assert report["books"][0]["gaps"] == ["QJ00000001"] and report["books"][0]["voided"] == 1
    args = ["receipts", "issue", "--user", "office", "--collector", "dashan", "--prefix", "DS"]
    assert main([*args, "--first", "1", "--last", "9"]) == 0
    assert main(["receipts", "report", "--user", "office"]) == 0
    out = capsys.readouterr().out
    assert "DS00000001–DS00000009" in out and "QJ00000003" in out
