import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from yibao.collection.models import Enrollment, Payment
from yibao.collection.selectors import collection_totals, village_ledger
from yibao.collection.services import enrollment_create, payment_record, payment_reverse
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.services import other_insurance_record, person_mark_deceased

from . import factories as f


def pay(actor, person, amount, *, tier=1, channel="wechat", **kwargs):
    return payment_record(
        actor=actor,
        person=person,
        policy_id=f.POLICY,
        tier=tier,
        amount=Decimal(amount),
        channel=channel,
        **kwargs,
    )


def test_paying_enrolls_the_person_in_the_same_transaction(town):
    person = f.person(town.sanhe)
    payment = pay(town.sanhe_collector, person, "350", channel="cash", receipt_number="R0001")
    enrollment = Enrollment.objects.get(person=person)
    assert payment.enrollment == enrollment
    assert enrollment.status == Enrollment.Status.PAID
    assert enrollment.paid_at == payment.paid_at
    assert payment.collector.user == town.sanhe_collector
    assert payment.paid_at.date() == f.CAMPAIGN_DAY  # the campaign date, not the real one
    # One audit entry for the business action; it carries the enrollment it created.
    (entry,) = AuditLog.objects.all()
    assert entry.action == "payment.record" and entry.object_id == str(payment.pk)
    assert entry.after["enrollment"]["benefit_year"] == 2023
    assert "status" not in entry.after["enrollment"]  # paid: the entry is the payment


def test_an_amount_that_differs_from_the_quote_is_refused_and_nothing_is_half_written(town):
    person = f.person(town.sanhe, name="刘一")
    f.tag(person, "低保对象")
    with pytest.raises(ApplicationError) as error:
        pay(town.sanhe_collector, person, "350")
    assert error.value.code == "amount_mismatch"
    assert "刘一" in error.value.message and "35" in error.value.message
    assert error.value.params["due"] == "35"
    assert not Enrollment.objects.exists()
    assert not Payment.objects.exists()
    assert not AuditLog.objects.exists()


def test_a_fully_subsidised_person_is_a_zero_declaration(town):
    person = f.person(town.sanhe)
    f.tag(person, "特困人员")
    payment = pay(town.sanhe_collector, person, "0")
    assert payment.is_zero_declaration
    enrollment = payment.enrollment
    assert enrollment.status == Enrollment.Status.PAID
    assert (enrollment.subsidy, enrollment.personal) == (Decimal("350"), Decimal("0"))


def test_the_same_receipt_number_again_returns_the_first_payment(town):
    person = f.person(town.sanhe)
    first = pay(town.sanhe_collector, person, "350", receipt_number="R-77")
    again = pay(town.sanhe_collector, person, "350", receipt_number="R-77")
    assert again.pk == first.pk
    assert Payment.objects.count() == 1


def test_the_same_idempotency_key_again_returns_the_first_payment(town):
    person = f.person(town.sanhe)
    first = pay(town.sanhe_collector, person, "350", idempotency_key="client-1")
    again = pay(town.sanhe_collector, person, "350", idempotency_key="client-1")
    assert again.pk == first.pk
    assert Payment.objects.count() == 1


def test_a_receipt_number_used_for_another_person_is_refused(town):
    pay(town.sanhe_collector, f.person(town.sanhe, name="甲"), "350", receipt_number="R-1")
    with pytest.raises(ApplicationError) as error:
        pay(town.sanhe_collector, f.person(town.sanhe, name="乙"), "350", receipt_number="R-1")
    assert error.value.code == "receipt_conflict"
    assert "甲" in error.value.message and "乙" in error.value.message
    assert Payment.objects.count() == 1


def test_a_second_payment_for_a_paid_person_is_refused(town):
    person = f.person(town.sanhe, name="陈二")
    pay(town.sanhe_collector, person, "350", receipt_number="R-1")
    with pytest.raises(ApplicationError) as error:
        pay(town.office, person, "350", receipt_number="R-2", channel="alipay")
    assert error.value.code == "already_paid"
    assert "陈二" in error.value.message and "微信" in error.value.message
    assert Payment.objects.count() == 1


def test_the_database_refuses_a_second_live_payment_for_one_enrollment(town):
    payment = pay(town.sanhe_collector, f.person(town.sanhe), "350")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            enrollment=payment.enrollment,
            amount=Decimal("350"),
            channel="cash",
            paid_at=payment.paid_at,
            slot=0,
        )


def test_paying_after_the_benefit_year_is_refused_with_the_date(town, settings):
    person = f.person(town.sanhe)
    settings.YIBAO_TODAY = "2024-01-02"
    with pytest.raises(ApplicationError) as error:
        pay(town.sanhe_collector, person, "960")
    assert error.value.code == "after_benefit_year"
    assert "2024-01-02" in error.value.message and person.name in error.value.message
    assert not Enrollment.objects.exists()


def test_paying_from_the_first_of_july_adds_the_fiscal_subsidy(town, settings):
    settings.YIBAO_TODAY = "2023-07-01"
    payment = pay(town.sanhe_collector, f.person(town.sanhe), "960")
    assert payment.enrollment.personal == Decimal("960")  # 350 + 610 (DOMAIN.md)


def test_payment_requotes_an_enrollment_made_before_the_surcharge(town, settings):
    person = f.person(town.sanhe)
    enrollment = enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    assert enrollment.personal == Decimal("350")
    settings.YIBAO_TODAY = "2023-07-03"
    with pytest.raises(ApplicationError) as error:
        pay(town.office, person, "350")
    assert error.value.code == "amount_mismatch"
    payment = pay(town.office, person, "960")
    payment.enrollment.refresh_from_db()
    assert payment.enrollment.personal == Decimal("960")
    assert payment.enrollment.quoted_on == dt.date(2023, 7, 3)


def test_paying_at_another_tier_than_enrolled_moves_the_unpaid_enrollment(town):
    person = f.person(town.sanhe)
    enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    payment = pay(town.office, person, "725", tier=2)
    assert payment.enrollment.tier == 2
    assert Enrollment.objects.get(person=person).tier == 2


def test_a_deceased_person_cannot_pay(town):
    person = f.person(town.sanhe, name="故人")
    enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    person_mark_deceased(actor=town.office, person=person, died_on=dt.date(2022, 12, 1))
    with pytest.raises(ApplicationError) as error:
        pay(town.sanhe_collector, person, "350")
    assert error.value.code == "person_deceased"
    assert "故人" in error.value.message and "2022-12-01" in error.value.message
    assert not Payment.objects.exists()


def test_a_person_with_employee_insurance_cannot_pay_even_if_enrolled_before(town):
    person = f.person(town.sanhe)
    enrollment_create(actor=town.office, person=person, policy_id=f.POLICY, tier=1)
    other_insurance_record(actor=town.office, person=person, kind="employee", benefit_year=2023)
    with pytest.raises(ApplicationError) as error:
        pay(town.office, person, "350")
    assert error.value.code == "employee_insured"


def test_a_collector_cannot_take_money_for_another_village(town):
    with pytest.raises(ApplicationError) as error:
        pay(town.sanhe_collector, f.person(town.dashan), "350")
    assert error.value.code == "not_found"
    assert not Payment.objects.exists()


def test_money_is_never_a_float(town):
    with pytest.raises(TypeError):
        payment_record(
            actor=town.office,
            person=f.person(town.sanhe),
            policy_id=f.POLICY,
            tier=1,
            amount=350.0,
            channel="cash",
        )


def test_an_unknown_channel_is_refused(town):
    with pytest.raises(ApplicationError) as error:
        pay(town.office, f.person(town.sanhe), "350", channel="bitcoin")
    assert error.value.code == "invalid_channel"


def test_reversing_a_payment_adds_a_negative_entry_and_the_person_owes_again(town):
    person = f.person(town.sanhe)
    payment = pay(town.sanhe_collector, person, "350", channel="cash")
    reversal = payment_reverse(actor=town.office, payment=payment, reason="收错人")
    assert reversal.amount == Decimal("-350")
    assert reversal.reverses == payment
    assert reversal.collector == payment.collector
    enrollment = Enrollment.objects.get(person=person)
    assert enrollment.status == Enrollment.Status.UNPAID
    assert Payment.objects.count() == 2  # the original is kept
    assert collection_totals(actor=town.office, benefit_year=2023).amount == Decimal("0")


def test_a_reversed_person_can_pay_again(town):
    person = f.person(town.sanhe)
    payment = pay(town.sanhe_collector, person, "350")
    payment_reverse(actor=town.office, payment=payment, reason="档次选错")
    again = pay(town.sanhe_collector, person, "725", tier=2)
    assert again.slot == 1
    assert Enrollment.objects.get(person=person).status == Enrollment.Status.PAID
    assert collection_totals(actor=town.office, benefit_year=2023).amount == Decimal("725")


def test_a_payment_is_reversed_at_most_once(town):
    payment = pay(town.sanhe_collector, f.person(town.sanhe), "350")
    payment_reverse(actor=town.office, payment=payment, reason="重复录入")
    with pytest.raises(ApplicationError) as error:
        payment_reverse(actor=town.office, payment=payment, reason="再来一次")
    assert error.value.code == "already_reversed"
    assert Payment.objects.count() == 2


def test_a_reversal_needs_a_reason(town):
    payment = pay(town.sanhe_collector, f.person(town.sanhe), "350")
    with pytest.raises(ApplicationError) as error:
        payment_reverse(actor=town.office, payment=payment, reason="  ")
    assert error.value.code == "reason_required"
    assert Payment.objects.count() == 1


def test_a_reversal_cannot_itself_be_reversed(town):
    payment = pay(town.sanhe_collector, f.person(town.sanhe), "350")
    reversal = payment_reverse(actor=town.office, payment=payment, reason="错")
    with pytest.raises(ApplicationError) as error:
        payment_reverse(actor=town.office, payment=reversal, reason="错上加错")
    assert error.value.code == "cannot_reverse_reversal"


def test_a_collector_cannot_reverse_another_villages_payment(town):
    payment = pay(town.dashan_collector, f.person(town.dashan), "350")
    with pytest.raises(ApplicationError) as error:
        payment_reverse(actor=town.sanhe_collector, payment=payment, reason="x")
    assert error.value.code == "not_found"


def test_payments_cannot_be_edited_or_deleted_through_the_application(town):
    payment = pay(town.sanhe_collector, f.person(town.sanhe), "350")
    payment.amount = Decimal("1")
    with pytest.raises(TypeError):
        payment.save()
    with pytest.raises(TypeError):
        payment.delete()
    with pytest.raises(TypeError):
        Payment.objects.filter(pk=payment.pk).update(amount=Decimal("1"))
    with pytest.raises(TypeError):
        Payment.objects.all().delete()
    assert Payment.objects.get(pk=payment.pk).amount == Decimal("350")


def test_the_village_ledger_shows_who_has_not_paid_with_masked_ids(town):
    paid = f.person(town.sanhe, name="已缴")
    f.person(town.sanhe, name="未缴", phone="13900000001")
    f.person(town.dashan, name="外村")
    pay(town.sanhe_collector, paid, "350", channel="cash")
    rows = {
        row.name: row
        for row in village_ledger(actor=town.sanhe_collector, village=town.sanhe, benefit_year=2023)
    }
    assert set(rows) == {"已缴", "未缴"}
    assert rows["已缴"].status == "已缴费" and rows["已缴"].paid == Decimal("350")
    assert rows["已缴"].channel == "现金"
    assert rows["未缴"].status == "未登记" and rows["未缴"].phone == "13900000001"
    assert rows["已缴"].masked_id_number == paid.id_number[:6] + "********" + paid.id_number[-4:]
    with pytest.raises(ApplicationError):
        village_ledger(actor=town.sanhe_collector, village=town.dashan, benefit_year=2023)


def test_paying_after_the_last_payment_day_is_refused_with_the_date_and_the_rule(town, settings):
    # 三江方案未写最迟缴费日：按同年度市级规则 2023-09-30（潼医保发〔2022〕36号 三）
    person = f.person(town.sanhe, name="迟缴")
    settings.YIBAO_TODAY = "2023-10-01"
    with pytest.raises(ApplicationError) as error:
        pay(town.sanhe_collector, person, "960")
    assert error.value.code == "after_last_payment_day"
    assert "迟缴" in error.value.message and "2023-09-30" in error.value.message
    assert "潼医保发〔2022〕36号" in error.value.message
    assert not Enrollment.objects.exists() and not Payment.objects.exists()


def test_paying_on_the_last_payment_day_is_accepted(town, settings):
    settings.YIBAO_TODAY = "2023-09-30"
    payment = pay(town.sanhe_collector, f.person(town.sanhe), "960")
    # 3月1日后缴费满90日后享受（潼医保发〔2022〕36号 四（一））：9月30日缴费，当日不计入，
    # 第90日为12月29日，12月30日起享受
    assert payment.enrollment.coverage_start == dt.date(2023, 12, 30)
