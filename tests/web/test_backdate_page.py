"""补录往日缴费: the office's page for a paper receipt written during an outage. Priced on the
receipt's day (三江街发〔2022〕139号: tier 1 350), with a reason, in the custody of the
village collector who took the cash."""

from __future__ import annotations

from decimal import Decimal

from tests.records import factories as f
from yibao.collection.models import Payment
from yibao.core.models import AuditLog


def test_a_collector_cannot_open_the_back_dated_entry(sanhe, town):
    person = f.person(town.sanhe)
    assert sanhe.get(f"/desk/person/{person.pk}/backdate/").status_code == 403
    assert (
        'data-test="backdate-link"' not in sanhe.get(f"/desk/person/{person.pk}/").content.decode()
    )


def test_the_office_previews_the_days_amount_then_records_it_for_the_collector(
    office, town, settings
):
    settings.YIBAO_TODAY = "2022-12-20"
    person = f.person(town.sanhe, name="停电户")
    url = f"/desk/person/{person.pk}/backdate/"
    page = office.get(url).content.decode()
    assert "sanhe" in page and "dashan" not in page  # only the village's collectors
    taker = town.sanhe_collector.staff
    form = {
        "paid_on": "2022-12-10",
        "tier": "1",
        "channel": "cash",
        "reason": "12月10日停电，纸质票据",
        "taken_by": str(taker.pk),
        "receipt_number": "ZP-001",
        "key": "backdate-test-key-1",
    }
    preview = office.post(url, {**form, "preview": "1"})
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "¥350.00" in text and "叁佰伍拾元整" in text
    assert not Payment.objects.exists()
    changed = office.post(url, {**form, "paid_on": "2022-12-19", "shown": "0.00", "confirm": "1"})
    assert changed.status_code == 400 and "请核对后再确认" in changed.content.decode()
    assert not Payment.objects.exists()
    form["shown"] = "350.00"
    done = office.post(url, {**form, "confirm": "1"})
    assert done.status_code == 302
    payment = Payment.objects.get()
    assert (payment.amount, payment.collector, payment.receipt_number) == (
        Decimal("350"),
        taker,
        "ZP-001",
    )
    assert AuditLog.objects.get(action="payment.backdate").after["taken_by"] == "sanhe"
    again = office.post(url, {**form, "confirm": "1"})  # a double tap
    assert again.status_code == 302 and Payment.objects.count() == 1


def test_a_bad_submit_says_why_beside_the_field_and_keeps_what_was_typed(office, town, settings):
    settings.YIBAO_TODAY = "2022-12-20"
    person = f.person(town.sanhe)
    response = office.post(
        f"/desk/person/{person.pk}/backdate/",
        {"paid_on": "2022-12-10", "tier": "1", "channel": "cash", "reason": "", "confirm": "1",
         "receipt_number": "ZP-9"},
    )  # fmt: skip
    assert response.status_code == 400
    text = response.content.decode()
    assert "请写明补录原因" in text and 'value="ZP-9"' in text and 'value="2022-12-10"' in text
    assert not Payment.objects.exists()
