"""The issue's "Done when": on the demo township, a village's hardship worklist is empty
exactly when the progress figures give its hardship rate as 100%.

Both are compared with the hardship people counted here from the ledger rows (tags, other
insurance, deaths, payments and reversals), not through the selectors under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.test.utils import override_settings

from yibao.collection.campaign import tier_quotes
from yibao.collection.models import Payment
from yibao.collection.selectors import village_progress
from yibao.collection.services import payment_record
from yibao.demo.build import CAMPAIGN_DAY, build_demo
from yibao.demo.plan import POLICY_ID
from yibao.demo.summary import summary_actor
from yibao.intake.worklists import worklist
from yibao.policy import get_policy
from yibao.registry.models import IdentityTag, OtherInsurance, Person, Village

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=fast),
        transaction.atomic(),
    ):
        yield build_demo(seed=5, residents=500)
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def campaign_day(settings):
    settings.YIBAO_TODAY = CAMPAIGN_DAY.isoformat()


def hardship_unpaid_from_rows(village: Village, year: int, day: dt.date) -> set[int]:
    """Alive, not insured elsewhere in ``year``, a tag valid on ``day``, no live payment."""
    people = set(
        Person.objects.filter(hukou_village=village, status="alive").values_list("pk", flat=True)
    )
    people -= set(
        OtherInsurance.objects.filter(benefit_year=year).values_list("person_id", flat=True)
    )
    tagged = {
        person_id
        for person_id, start, end in IdentityTag.objects.values_list(
            "person_id", "valid_from", "valid_to"
        )
        if (start is None or start <= day) and (end is None or end >= day)
    }
    payments = list(
        Payment.objects.filter(enrollment__benefit_year=year).values(
            "pk", "enrollment__person_id", "reverses_id"
        )
    )
    reversed_ids = {p["reverses_id"] for p in payments if p["reverses_id"]}
    paid = {
        p["enrollment__person_id"]
        for p in payments
        if p["reverses_id"] is None and p["pk"] not in reversed_ids
    }
    return (people & tagged) - paid


def test_the_hardship_worklist_is_empty_exactly_when_the_hardship_rate_is_100(demo):
    actor = summary_actor()
    year = get_policy(POLICY_ID).benefit_year
    progress = {r.village_id: r for r in village_progress(actor=actor, policy_id=POLICY_ID)}
    seen_open = seen_done = 0
    for village in Village.objects.all():
        expected = hardship_unpaid_from_rows(village, year, CAMPAIGN_DAY)
        rows = worklist(actor=actor, village=village, policy_id=POLICY_ID, kind="hardship")
        assert {r.person.pk for r in rows} == expected, village.name
        assert (not rows) == (progress[village.pk].hardship_rate == Decimal("100")), village.name
        seen_open += bool(rows)
        seen_done += not rows
    assert seen_open, "the demo should leave some hardship people undeclared"


def test_declaring_a_villages_last_hardship_people_empties_its_list_and_makes_100(demo):
    actor = summary_actor()
    village = next(
        v
        for v in Village.objects.order_by("seq")
        if worklist(actor=actor, village=v, policy_id=POLICY_ID, kind="hardship")
    )
    engine = get_policy(POLICY_ID)
    with transaction.atomic():
        for row in worklist(actor=actor, village=village, policy_id=POLICY_ID, kind="hardship"):
            quote = next(
                q.quote for q in tier_quotes(actor=actor, person=row.person, engine=engine)
            )
            payment_record(
                actor=actor,
                person=row.person,
                policy_id=POLICY_ID,
                tier=1,
                amount=quote.personal,
                channel="cash",
            )
        after = worklist(actor=actor, village=village, policy_id=POLICY_ID, kind="hardship")
        figures = {r.village_id: r for r in village_progress(actor=actor, policy_id=POLICY_ID)}
        assert after == []
        assert hardship_unpaid_from_rows(village, engine.benefit_year, CAMPAIGN_DAY) == set()
        assert figures[village.pk].hardship_rate == Decimal("100")
        transaction.set_rollback(True)
