"""Write the demo township to the configured database through the ledger's services.

Areas and user accounts have no service of their own and are created with the ORM (and one
audit entry, ``demo.build``); everything else — households and persons, identity tags,
employee insurance, deaths, enrollments, payments, reversals, remittances — goes through
``yibao.registry.services`` and ``yibao.collection.services``, so the amounts come from the
policy engine and every rule and audit entry applies. One transaction per village.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from yibao.campaign.services import TargetLine, target_table_accept, target_table_draft
from yibao.collection import services as collection
from yibao.collection.models import Enrollment, Payment, StaffMember
from yibao.core import clock
from yibao.core.audit import audit_record
from yibao.core.bulk import analyze
from yibao.policy import get_policy
from yibao.registry import services as registry
from yibao.registry.models import (
    District,
    Household,
    IdentityTag,
    OtherInsurance,
    Person,
    Township,
    Village,
)

from .plan import (
    BANK,
    DISTRICT,
    REVERSAL_REASONS,
    TOWNSHIP,
    PaymentPlan,
    TownshipPlan,
    VillagePlan,
    plan_remittances,
    plan_township,
)

Progress = Callable[[int, int, str], None]

DEMO_ACTION = "demo.build"
CAMPAIGN_DAY = dt.date(2022, 12, 5)


@dataclass(frozen=True)
class DemoResult:
    seed: int
    today: dt.date
    villages: int
    households: int
    persons: int
    payments: int
    remittances: int
    seconds: float


class DemoError(Exception):
    """The database is not in a state the demo can be built into."""


def build_demo(
    *,
    seed: int = 2023,
    residents: int = 26000,
    today: dt.date = CAMPAIGN_DAY,
    progress: Progress | None = None,
) -> DemoResult:
    """Build the Sanjiang demo township into the configured (migrated, empty) database.

    ``progress(done, total, message)`` is called after each village. The campaign date
    ``today`` is in force (``YIBAO_TODAY``) while the services run.
    """
    started = time.monotonic()
    if Village.objects.exists() or Person.objects.exists():
        raise DemoError("数据库中已有数据，演示数据只能建在空库中（yibao demo --reset 清空后重建）")
    plan = plan_township(seed=seed, residents=residents, today=today)
    total = len(plan.villages) + 2
    report = progress or (lambda done, total, message: None)
    with override_settings(YIBAO_TODAY=today.isoformat()):
        with transaction.atomic():
            township, villages = _areas(plan)
            users = _users(plan, villages)
        report(1, total, f"行政区划与{len(users)}个账号")
        payments = 0
        for index, village_plan in enumerate(plan.villages, start=2):
            with transaction.atomic():
                payments += _village(plan, village_plan, villages[village_plan.name], users)
            report(
                index,
                total,
                f"{village_plan.name}：{len(village_plan.persons)}人，"
                f"{len(village_plan.payments)}笔缴费",
            )
        with transaction.atomic():
            remittances = _remittances(plan, users)
            _small_demo_targets(plan.policy_id, residents, users["sanjiang"])
            audit_record(
                actor=None,
                action=DEMO_ACTION,
                instance=township,
                after={
                    "seed": seed,
                    "residents": residents,
                    "today": today.isoformat(),
                    "policy": plan.policy_id,
                    "users": [u.username for u in plan.users],
                },
            )
        # PostgreSQL plans the first reads of the fresh rows from statistics it has not yet
        # gathered (inside a test's transaction, autovacuum never sees them): gather them.
        analyze(Village, Household, Person, IdentityTag, OtherInsurance, Enrollment, Payment)
        report(total, total, f"现金解缴{remittances}笔")
    return DemoResult(
        seed=seed,
        today=today,
        villages=len(plan.villages),
        households=sum(len(v.households) for v in plan.villages),
        persons=sum(len(v.persons) for v in plan.villages),
        payments=payments,
        remittances=remittances,
        seconds=time.monotonic() - started,
    )


def target_scale(policy_id: str, residents: int) -> Decimal:
    """1 for a full-size demo; for a smaller one (``--residents``) the targets shrink with it,
    so that completion rates still mean something."""
    published = get_policy(policy_id).targets
    total = sum(row.values["target"] for row in published.rows) if published else 0
    if not total or residents >= total:
        return Decimal(1)
    return Decimal(residents) / Decimal(total)


def _small_demo_targets(policy_id: str, residents: int, clerk: Any) -> None:
    """A small demo's own target table (annex 2 scaled down), imported and accepted through
    the campaign services as a clerk would; a full-size demo uses annex 2 as published."""
    scale = target_scale(policy_id, residents)
    published = get_policy(policy_id).targets
    if scale == 1 or published is None:
        return
    lines = [
        TargetLine(
            village=row.village,
            seq=row.seq,
            values={
                k: int((Decimal(v) * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                for k, v in row.values.items()
            },
        )
        for row in published.rows
    ]
    totals = {c.key: sum(ln.values[c.key] for ln in lines) for c in published.columns}
    table = target_table_draft(
        actor=clerk,
        policy_id=policy_id,
        source_name=f"演示任务表（{published.cite}按{scale:.4f}缩小）",
        columns=[(c.key, c.label) for c in published.columns],
        lines=lines,
        totals=totals,
    )
    target_table_accept(actor=clerk, table=table)


def _areas(plan: TownshipPlan) -> tuple[Township, dict[str, Village]]:
    district, _ = District.objects.get_or_create(name=DISTRICT[0], defaults={"code": DISTRICT[1]})
    township, _ = Township.objects.get_or_create(
        district=district, name=TOWNSHIP[0], defaults={"code": TOWNSHIP[1]}
    )
    villages = {
        v.name: Village.objects.create(township=township, name=v.name, code=v.code, seq=v.seq)
        for v in plan.villages
    }
    return township, villages


def _users(plan: TownshipPlan, villages: dict[str, Village]) -> dict[str, Any]:
    """Django accounts with a collector profile; passwords hashed in parallel (PBKDF2 is slow
    on purpose and releases the GIL)."""
    user_model = get_user_model()
    if user_model.objects.filter(username__in=[u.username for u in plan.users]).exists():
        raise DemoError("演示账号已存在，请用 yibao demo --reset 清空后重建")
    with ThreadPoolExecutor(max_workers=4) as pool:
        hashes = list(pool.map(make_password, [u.password for u in plan.users]))
    township = Township.objects.get(name=TOWNSHIP[0])
    users: dict[str, Any] = {}
    for user_plan, hashed in zip(plan.users, hashes, strict=True):
        user = user_model.objects.create(
            username=user_plan.username, first_name=user_plan.full_name, password=hashed
        )
        collector = StaffMember.objects.create(
            user=user,
            role=user_plan.role,
            township=township
            if user_plan.role in (StaffMember.Role.TOWNSHIP, StaffMember.Role.AUDITOR)
            else None,
            district=township.district if user_plan.role == StaffMember.Role.DISTRICT else None,
            phone=user_plan.phone,
        )
        collector.villages.set([villages[name] for name in user_plan.villages])
        users[user_plan.username] = user
    return users


def _person_data(member: Any) -> registry.PersonData:
    return registry.PersonData(
        id_number=member.id_number,
        name=member.name,
        phone=member.phone,
        relation_to_head=member.relation,
    )


def _household_data(household: Any) -> registry.HouseholdData:
    return registry.HouseholdData(
        head=_person_data(household.head),
        members=[_person_data(m) for m in household.members[1:]],
        number=household.number,
        address=household.address,
    )


def _village(
    plan: TownshipPlan, village_plan: VillagePlan, village: Village, users: dict[str, Any]
) -> int:
    clerk = users["sanjiang"]
    registry.household_register_many(
        actor=clerk,
        village=village,
        households=[_household_data(household) for household in village_plan.households],
    )
    persons = {p.id_number: p for p in Person.objects.filter(hukou_village=village)}
    registry.identity_tags_add_many(
        actor=clerk,
        tags=[
            registry.IdentityTagData(
                person_id=persons[member.id_number].pk,
                category_key=tag.key,
                category_name=tag.key,
                department=tag.department,
                source_list=tag.source_list,
                source_batch=tag.source_batch,
                valid_from=tag.certified_on,
                certified_on=tag.certified_on,
            )
            for member in village_plan.persons
            for tag in village_plan.tags.get(member.id_number, ())
        ],
    )
    for member in village_plan.persons:
        person = persons[member.id_number]
        if member.fate == "employee":
            registry.other_insurance_record(
                actor=clerk,
                person=person,
                kind="employee",
                benefit_year=plan.today.year + 1,
                place=member.employer,
                evidence="区医保局职工医保参保数据比对",
            )
        elif member.fate == "deceased":
            assert member.died_on is not None
            registry.person_mark_deceased(
                actor=clerk, person=person, died_on=member.died_on, evidence="公安户籍注销信息"
            )
    recorded = _pay(plan, village_plan.payments, persons, users)
    for member, tier in village_plan.enrollments:
        collection.enrollment_create(
            actor=clerk, person=persons[member.id_number], policy_id=plan.policy_id, tier=tier
        )
    repays: list[PaymentPlan] = []
    for payment_plan, payment in recorded:
        if payment_plan.reversal is None:
            continue
        collection.payment_reverse(
            actor=users[payment_plan.actor],
            payment=payment,
            reason=REVERSAL_REASONS[payment_plan.reversal],
        )
        if payment_plan.repay is not None:
            repays.append(payment_plan.repay)
    _pay(plan, repays, persons, users)
    return len(recorded) + len(repays)


def _pay(
    plan: TownshipPlan,
    payment_plans: list[PaymentPlan],
    persons: dict[str, Person],
    users: dict[str, Any],
) -> list[tuple[PaymentPlan, Payment]]:
    """Record ``payment_plans`` in one batch per collector (the actor) and day.

    The server prices a payment on its own date, so each day's batch is recorded with the
    clock standing at that day's last payment, as the server did on the day.
    """
    by_actor_day: dict[tuple[str, dt.date], list[PaymentPlan]] = {}
    for payment_plan in payment_plans:
        key = (payment_plan.actor, timezone.localtime(payment_plan.paid_at).date())
        by_actor_day.setdefault(key, []).append(payment_plan)
    recorded: dict[int, Payment] = {}
    for (actor, _day), plans in by_actor_day.items():
        with clock.frozen(max(p.paid_at for p in plans)):
            payments = collection.payment_record_many(
                actor=users[actor],
                items=[
                    collection.PaymentItem(
                        person=persons[p.person.id_number],
                        policy_id=plan.policy_id,
                        tier=p.tier,
                        amount=p.amount,
                        channel=p.channel,
                        paid_at=p.paid_at,
                        receipt_number=p.receipt,
                    )
                    for p in plans
                ],
            )
        recorded.update((id(p), payment) for p, payment in zip(plans, payments, strict=True))
    return [(p, recorded[id(p)]) for p in payment_plans]


def _remittances(plan: TownshipPlan, users: dict[str, Any]) -> int:
    count = 0
    for remittance in plan_remittances(plan):
        user = users[remittance.collector]
        collection.remittance_record(
            actor=user,
            collector=StaffMember.objects.get(user=user),
            amount=remittance.amount,
            remitted_at=remittance.remitted_at,
            bank=BANK,
            slip_number=remittance.slip_number,
            note="现金缴费入库解缴",
        )
        count += 1
    return count
