import re

from tests.records import factories as f
from yibao.collection.models import Enrollment, Payment

from .conftest import API, error_of, payment_body


def test_a_payment_is_recorded_with_money_as_two_decimal_strings_and_local_time(sanhe, town):
    person = f.person(town.sanhe, name="王芳")
    response = sanhe.post_json(f"{API}/payments", payment_body(person, receipt_number="R-1"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "350.00"
    assert body["channel"] == "cash" and body["channel_name"] == "现金"
    assert body["person_name"] == "王芳"
    assert "*" in body["masked_id_number"] and person.id_number not in response.text
    assert re.fullmatch(r"2022-12-05T\d\d:\d\d:\d\d\+08:00", body["paid_at"])
    assert Enrollment.objects.get(person=person).status == Enrollment.Status.PAID


def test_a_retry_with_the_same_idempotency_key_returns_the_first_payment_with_200(sanhe, town):
    person = f.person(town.sanhe)
    headers = {"Idempotency-Key": "tablet-7-0001"}
    first = sanhe.post_json(f"{API}/payments", payment_body(person), headers=headers)
    again = sanhe.post_json(f"{API}/payments", payment_body(person), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Payment.objects.count() == 1


def test_a_retry_with_the_same_receipt_number_returns_the_first_payment_with_200(sanhe, town):
    person = f.person(town.sanhe)
    body = payment_body(person, receipt_number="SJ-2022-0042")
    first = sanhe.post_json(f"{API}/payments", body)
    again = sanhe.post_json(f"{API}/payments", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Payment.objects.count() == 1


def test_a_second_payment_without_a_key_is_refused_as_already_paid(sanhe, town):
    person = f.person(town.sanhe, name="李四")
    assert sanhe.post_json(f"{API}/payments", payment_body(person)).status_code == 201
    response = sanhe.post_json(f"{API}/payments", payment_body(person))
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "already_paid"
    assert "李四" in error["message"] and "不能重复缴费" in error["message"]
    assert Payment.objects.count() == 1


def test_an_idempotency_key_reused_for_another_person_is_a_conflict(sanhe, town):
    headers = {"Idempotency-Key": "k-1"}
    sanhe.post_json(f"{API}/payments", payment_body(f.person(town.sanhe)), headers=headers)
    response = sanhe.post_json(
        f"{API}/payments", payment_body(f.person(town.sanhe)), headers=headers
    )
    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_key_reused"
    assert Payment.objects.count() == 1


def test_an_idempotency_key_replayed_with_another_channel_is_refused_not_replayed(sanhe, town):
    person = f.person(town.sanhe)
    headers = {"Idempotency-Key": "k-2"}
    first = sanhe.post_json(f"{API}/payments", payment_body(person), headers=headers)
    assert first.status_code == 201
    changed = {**payment_body(person), "channel": "alipay"}
    response = sanhe.post_json(f"{API}/payments", changed, headers=headers)
    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_key_reused"
    replay = sanhe.post_json(f"{API}/payments", payment_body(person), headers=headers)
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    assert Payment.objects.count() == 1


def test_an_amount_that_differs_from_what_is_due_is_refused_with_the_due_amount(sanhe, town):
    person = f.person(town.sanhe, name="刘一")
    f.tag(person, "低保对象")
    response = sanhe.post_json(f"{API}/payments", payment_body(person, "350.00"))
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "amount_mismatch"
    assert "刘一" in error["message"] and "金额不符" in error["message"]
    assert error["details"]["due"] == "35"
    assert not Enrollment.objects.exists()


def test_a_zero_declaration_is_recorded_for_a_fully_subsidised_person(sanhe, town):
    person = f.person(town.sanhe)
    f.tag(person, "特困人员")
    response = sanhe.post_json(f"{API}/payments", payment_body(person, "0"))
    assert response.status_code == 201
    assert response.json()["amount"] == "0.00"
    assert response.json()["zero_declaration"] is True


def test_a_reversal_is_a_new_negative_entry_and_the_person_is_unpaid_again(sanhe, town):
    person = f.person(town.sanhe)
    paid = sanhe.post_json(f"{API}/payments", payment_body(person)).json()
    response = sanhe.post_json(
        f"{API}/payments/{paid['id']}/reversal", {"reason": "收错人，退回现金"}
    )
    assert response.status_code == 201, response.json()
    reversal = response.json()
    assert reversal["amount"] == "-350.00"
    assert reversal["reverses_id"] == paid["id"]
    assert reversal["reason"] == "收错人，退回现金"
    assert Payment.objects.count() == 2
    assert Enrollment.objects.get(person=person).status == Enrollment.Status.UNPAID
    # the original payment is still there, unchanged
    assert sanhe.get(f"{API}/payments/{paid['id']}").json() == paid


def test_a_payment_cannot_be_reversed_twice(sanhe, town):
    paid = sanhe.post_json(f"{API}/payments", payment_body(f.person(town.sanhe))).json()
    sanhe.post_json(f"{API}/payments/{paid['id']}/reversal", {"reason": "重复收费"})
    response = sanhe.post_json(f"{API}/payments/{paid['id']}/reversal", {"reason": "重复收费"})
    assert response.status_code == 409
    assert error_of(response)["code"] == "already_reversed"


def test_a_reversal_without_a_reason_is_refused_in_chinese(sanhe, town):
    paid = sanhe.post_json(f"{API}/payments", payment_body(f.person(town.sanhe))).json()
    response = sanhe.post_json(f"{API}/payments/{paid['id']}/reversal", {"reason": ""})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_input"
    assert "reason" in error["message"] and "不能为空" in error["message"]
    assert Payment.objects.count() == 1


def test_the_person_may_pay_again_after_a_reversal(sanhe, town):
    person = f.person(town.sanhe)
    paid = sanhe.post_json(f"{API}/payments", payment_body(person)).json()
    sanhe.post_json(f"{API}/payments/{paid['id']}/reversal", {"reason": "渠道录错"})
    again = sanhe.post_json(f"{API}/payments", payment_body(person, channel="wechat"))
    assert again.status_code == 201
    assert again.json()["channel_name"] == "微信"


def test_an_unknown_payment_is_404(sanhe, town):
    response = sanhe.get(f"{API}/payments/999999")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_client_paid_at_does_not_choose_the_price(sanhe, clerk, town, settings):
    # On 2023-08-01 the city's standard is 350 + 610 (潼医保发〔2022〕36号 四（一）); a
    # collector's tablet sending 2023-06-30 is a back-dated entry, not a cheaper price.
    settings.YIBAO_TODAY = "2023-08-01"
    person = f.person(town.sanhe, name="八月")
    body = payment_body(person, channel="wechat", paid_at="2023-06-30T10:00:00+08:00")
    response = sanhe.post_json(f"{API}/payments", body)
    assert response.status_code == 403
    assert error_of(response)["code"] == "backdate_office_only"
    assert not Payment.objects.exists()
    paid = clerk.post_json(f"{API}/payments", payment_body(person, "960.00", channel="wechat"))
    assert paid.status_code == 201, paid.json()
    assert paid.json()["amount"] == "960.00" and paid.json()["paid_at"].startswith("2023-08-01")


def test_a_payment_dated_tomorrow_is_refused(clerk, town):
    body = payment_body(f.person(town.sanhe), paid_at="2022-12-06T09:00:00+08:00")
    response = clerk.post_json(f"{API}/payments", body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "paid_in_future"


def test_an_office_back_dates_with_a_reason(clerk, town, settings):
    settings.YIBAO_TODAY = "2022-12-20"
    body = payment_body(
        f.person(town.sanhe),
        paid_at="2022-12-10T15:00:00+08:00",
        backdate_reason="停电期间的纸质票据",
    )
    response = clerk.post_json(f"{API}/payments", body)
    assert response.status_code == 201, response.json()
    assert response.json()["paid_at"].startswith("2022-12-10")


def test_an_office_back_dated_entry_names_the_collector_who_took_the_cash(
    clerk, sanhe, town, settings
):
    settings.YIBAO_TODAY = "2022-12-20"
    taker = town.sanhe_collector.staff
    body = payment_body(
        f.person(town.sanhe),
        paid_at="2022-12-10T15:00:00+08:00",
        backdate_reason="停电期间的纸质票据",
        taken_by_collector_id=taker.pk,
    )
    response = clerk.post_json(f"{API}/payments", body)
    assert response.status_code == 201, response.json()
    assert Payment.objects.get().collector == taker
    other = town.binjiang_collector.staff
    refused = clerk.post_json(
        f"{API}/payments",
        payment_body(
            f.person(town.sanhe, name="乙"),
            paid_at="2022-12-10T15:00:00+08:00",
            backdate_reason="纸质票据",
            taken_by_collector_id=other.pk,
        ),
    )
    assert refused.status_code == 400
    assert error_of(refused)["code"] == "collector_not_of_village"
    own = sanhe.post_json(
        f"{API}/payments",
        payment_body(f.person(town.sanhe, name="丙"), taken_by_collector_id=taker.pk),
    )
    assert own.status_code == 403 and error_of(own)["code"] == "taken_by_office_only"
