"""The demo township built through the ledger's services: checked from the database."""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal

import pytest
from django.db.models import Count, Q, Sum
from stdnum.cn import ric

from yibao.collection.models import Enrollment, Payment, Remittance, StaffMember
from yibao.collection.selectors import cash_on_hand, channel_totals, village_progress
from yibao.demo.build import DemoError, build_demo
from yibao.demo.plan import POLICY_ID
from yibao.demo.summary import summary_actor, summary_text
from yibao.registry.models import Household, IdentityTag, OtherInsurance, Person, Village

from .conftest import RESIDENTS

pytestmark = pytest.mark.django_db

AREA_CODES = {"500222", "510222", "500110", "500381", "500384", "520322", "520321"}


def test_size_follows_residents(demo):
    assert demo.villages == Village.objects.count() == 24
    assert demo.persons == Person.objects.count()
    should_enroll = Person.objects.filter(status="alive").exclude(other_insurance__kind="employee")
    assert RESIDENTS <= should_enroll.count() <= RESIDENTS * 1.15


def test_id_numbers_are_valid_and_agree_with_sex_and_birth_date(demo):
    for person in Person.objects.all():
        number = person.id_number
        assert len(number) == 18 and number[:17].isdigit()
        assert ric.calc_check_digit(number) == number[-1], number
        assert number[:6] in AREA_CODES
        assert (
            dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])) == person.birth_date
        )
        assert person.sex == ("male" if int(number[16]) % 2 else "female")
        assert person.birth_date < dt.date(2022, 12, 5)
    codes = {p.id_number for p in Person.objects.all()}
    assert any(c.startswith("510222") for c in codes)  # numbers from before 1997


def test_households_have_a_head_and_two_to_six_members(demo):
    households = Household.objects.annotate(n=Count("members"))
    assert households.count() == demo.households
    for household in households.select_related("head"):
        assert household.head is not None
        assert household.head.household_id == household.pk
        assert household.head.relation_to_head == "户主"
        assert 2 <= household.n <= 6
    assert not Person.objects.filter(household__isnull=True).exists()


def test_names_phones_and_ages_look_real(demo):
    people = list(Person.objects.all())
    assert all(2 <= len(p.name) <= 4 for p in people)
    phones = [p.phone for p in people if p.phone]
    assert len(phones) > 0.8 * len(people)
    assert all(len(p) == 11 and p.startswith("1") for p in phones)
    ages = [(dt.date(2022, 12, 5) - p.birth_date).days / 365.25 for p in people]
    assert min(ages) < 10 and max(ages) > 75


def test_nobody_deceased_or_employee_insured_is_enrolled(demo):
    assert Person.objects.filter(status="deceased").exists()
    assert OtherInsurance.objects.filter(kind="employee", benefit_year=2023).exists()
    assert not Enrollment.objects.filter(person__status="deceased").exists()
    assert not Enrollment.objects.filter(
        person__other_insurance__kind="employee", person__other_insurance__benefit_year=2023
    ).exists()


def test_every_payment_has_an_enrollment_and_every_paid_enrollment_one_payment(demo):
    assert Payment.objects.count() >= demo.payments
    assert not Payment.objects.filter(enrollment__isnull=True).exists()
    for enrollment in Enrollment.objects.annotate(
        effective=Count(
            "payments", filter=Q(payments__reverses__isnull=True, payments__reversal__isnull=True)
        ),
        net=Sum("payments__amount"),
    ):
        if enrollment.status == Enrollment.Status.PAID:
            assert enrollment.effective == 1
            assert enrollment.net == enrollment.personal
        else:
            assert enrollment.effective == 0
            assert (enrollment.net or Decimal(0)) == 0
    # Some people are enrolled and have not paid yet.
    assert Enrollment.objects.filter(status=Enrollment.Status.UNPAID).exists()


def test_amounts_are_the_policy_engines(demo):
    standards = {1: Decimal("350"), 2: Decimal("725")}
    for e in Enrollment.objects.all():
        assert e.standard == standards[e.tier]
        assert e.subsidy + e.personal == e.standard
        if e.identity_name:
            assert IdentityTag.objects.filter(person=e.person_id).exists()
        else:
            assert e.subsidy == 0


def test_zero_declarations_only_for_fully_subsidised_people(demo):
    zero = Payment.objects.filter(amount=0, reverses__isnull=True).select_related("enrollment")
    assert zero.exists()
    for payment in zero:
        enrollment = payment.enrollment
        assert enrollment.identity_name
        assert enrollment.subsidy == enrollment.standard
        assert payment.channel == Payment.Channel.TAX_BUREAU
    # and every fully subsidised paid person is a zero declaration
    full = Enrollment.objects.filter(status="paid", personal=0)
    assert full.count() == zero.count()


def test_hardship_identities_have_departments_and_a_source_batch(demo):
    tags = IdentityTag.objects.all()
    assert tags.filter(category_key="低保对象").exists()
    for tag in tags:
        assert tag.department.startswith("綦江区")
        assert tag.source_batch.startswith("2022-")
        assert tag.source_list
        assert tag.valid_from and tag.valid_from <= dt.date(2022, 10, 25)


def test_channel_totals_add_up(demo):
    rows = channel_totals(actor=summary_actor(), benefit_year=2023)
    assert sum(r.amount for r in rows) == Payment.objects.aggregate(s=Sum("amount"))["s"]
    assert (
        sum(r.amount for r in rows)
        == Enrollment.objects.filter(status="paid").aggregate(s=Sum("personal"))["s"]
    )
    assert sum(r.payments for r in rows) == Payment.objects.filter(reverses__isnull=True).count()
    channels = {r.label for r in rows if r.payments}
    assert {"微信", "支付宝", "现金", "村POS机"} <= channels
    # Payment dates within the collection period, up to the campaign date.
    for paid_at in Payment.objects.filter(reverses__isnull=True).values_list("paid_at", flat=True):
        assert dt.date(2022, 10, 25) <= paid_at.astimezone().date() <= dt.date(2022, 12, 5)


def test_cash_is_with_collectors_or_remitted(demo):
    assert Remittance.objects.exists()
    cash = Payment.objects.filter(channel="cash")
    assert not cash.exclude(collector__role=StaffMember.Role.COLLECTOR).exists()
    held = Decimal(0)
    for collector in StaffMember.objects.filter(role=StaffMember.Role.COLLECTOR):
        on_hand = cash_on_hand(collector)
        assert on_hand >= 0
        held += on_hand
    remitted = Remittance.objects.aggregate(s=Sum("amount"))["s"]
    assert held + remitted == cash.aggregate(s=Sum("amount"))["s"]


def test_collectors_and_offices_have_accounts(demo):
    collectors = StaffMember.objects.filter(role=StaffMember.Role.COLLECTOR)
    for village in Village.objects.all():
        assert 1 <= collectors.filter(villages=village).count() <= 2
    assert StaffMember.objects.get(user__username="sanjiang").role == StaffMember.Role.TOWNSHIP
    assert StaffMember.objects.get(user__username="qijiang").role == StaffMember.Role.DISTRICT


def test_village_completion_rates_vary(demo):
    rows = village_progress(actor=summary_actor(), policy_id=POLICY_ID)
    rates = [float(r.completion) for r in rows]
    assert max(rates) - min(rates) > 10
    assert statistics.pstdev(rates) > 3
    assert all(40 <= r <= 110 for r in rates)


def test_summary_names_the_bottom_three_the_date_and_the_logins(demo):
    text = summary_text(today="2022-12-05", today_source="演示")
    assert text.count("◀ 后三名") == 3
    assert "2022-12-05" in text and "合计" in text
    assert "sanjiang" in text and "征收员：" in text
    for village in Village.objects.all():
        assert village.name in text


def test_a_second_build_into_the_same_database_is_refused(demo):
    with pytest.raises(DemoError):
        build_demo(seed=1, residents=100)
