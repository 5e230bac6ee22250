"""What the demo township looks like: the progress table a township clerk would recognise,
channel totals and cash held (all from ``yibao.collection.selectors``), the logins, and a
digest of the data for the determinism test."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from yibao.campaign.models import TargetTable
from yibao.collection.cli import channel_table, progress_table
from yibao.collection.models import Enrollment, Payment, Remittance, StaffMember
from yibao.collection.selectors import channel_totals, collector_cash, village_progress
from yibao.core.models import AuditLog
from yibao.policy import get_policy
from yibao.policy.display import table
from yibao.registry.models import IdentityTag, OtherInsurance, Person

from .build import DEMO_ACTION
from .plan import CLERK, POLICY_ID, password_for


def summary_actor() -> Any:
    """The township clerk the summary reads as (the demo's office account), or else the first
    superuser, so that it shows what that user may see."""
    users = get_user_model().objects
    return (
        users.filter(username=CLERK).first()
        or users.filter(is_superuser=True).order_by("pk").first()
        or AnonymousUser()
    )


def demo_record() -> AuditLog | None:
    return AuditLog.objects.filter(action=DEMO_ACTION).order_by("-id").first()


def logins() -> list[tuple[str, str, str, str]]:
    """(username, name, role and villages, password) of the demo accounts."""
    record = demo_record()
    seed = (record.after or {}).get("seed") if record else None
    result = []
    for collector in StaffMember.objects.select_related("user").order_by("role", "id"):
        user = collector.user
        if collector.role == StaffMember.Role.COLLECTOR:
            scope = "征收员：" + "、".join(v.name for v in collector.villages.order_by("seq"))
        else:
            scope = collector.get_role_display()
        password = password_for(seed, user.username) if seed is not None else "（非演示账号）"
        result.append((user.username, user.get_full_name(), scope, password))
    return result


def summary_text(*, today: str, today_source: str) -> str:
    """The whole summary printed by ``yibao demo``, from the ledger's progress selectors."""
    engine = get_policy(POLICY_ID)
    collection = engine.data.collection
    actor = summary_actor()
    rows = village_progress(actor=actor, policy_id=POLICY_ID)
    cash = collector_cash(actor=actor)
    taken = sum((c.taken for c in cash), Decimal(0))
    remitted = sum((c.remitted for c in cash), Decimal(0))
    targets = TargetTable.objects.filter(
        policy_id=POLICY_ID, status=TargetTable.Status.ACCEPTED
    ).first()
    out = [
        f"{engine.name}",
        f"征缴进度（截至 {today}；{today_source}）",
        f"集中缴费期：{collection.opens_on or '未规定'} 至 {collection.period_end}"
        f"（{collection.period_cite}）",
        "完成率 = 已缴费人数 ÷ 2023年目标任务数（附件2）；应参保 = 健在、本年度未参加职工医保"
        "或外地居民医保的户籍人口；困难群体 = 其中持有效身份标识的人",
    ]
    if targets is not None:
        out.append(f"目标任务数取自已采用的任务表：{targets.source_name}")
    out += [
        "",
        progress_table(rows),
        "",
        "缴费渠道（笔数不含冲正；金额为冲正后的净额）：",
        channel_table(channel_totals(actor=actor, benefit_year=engine.benefit_year)),
        f"\n现金：征收员共收 {taken:.2f} 元，已解缴入库 {remitted:.2f} 元，"
        f"仍在征收员手中 {taken - remitted:.2f} 元",
        "\n演示账号：",
        table(["用户名", "姓名", "角色", "密码"], [list(row) for row in logins()]),
    ]
    return "\n".join(out)


def demo_digest() -> str:
    """SHA-256 over the demo's data by natural keys (no primary keys, no real-time stamps).

    A reversal's time is the campaign date at the real time of day (the service stamps it
    with ``clock.now()``), so only its date enters the digest.
    """
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        h.update(("\x1f".join(str(p) for p in parts) + "\n").encode())

    # ID numbers are stored encrypted (random nonces, a key of each installation's own):
    # the rows are put in ID-number order here, not by the database.
    people = Person.objects.select_related("hukou_village", "household")
    number = {p.pk: p.id_number for p in people}
    for p in sorted(people, key=lambda p: number[p.pk]):
        add(
            "P", p.id_number, p.name, p.sex, p.birth_date, p.phone, p.hukou_village.code,
            p.household.number if p.household else "", p.relation_to_head, p.status,
            p.deceased_on,
        )  # fmt: skip
    for t in sorted(IdentityTag.objects.all(), key=lambda t: (number[t.person_id], t.pk)):
        add("T", number[t.person_id], t.category_key, t.department, t.source_batch, t.valid_from)
    for o in sorted(OtherInsurance.objects.all(), key=lambda o: (number[o.person_id], o.pk)):
        add("O", number[o.person_id], o.kind, o.benefit_year, o.place)
    for e in sorted(Enrollment.objects.all(), key=lambda e: (number[e.person_id], e.pk)):
        add(
            "E", number[e.person_id], e.benefit_year, e.tier, e.identity_name, e.standard,
            e.subsidy, e.personal, e.status,
        )  # fmt: skip
    payments = Payment.objects.select_related("enrollment", "reverses", "collector__user")
    for pay in sorted(payments, key=lambda pay: (number[pay.enrollment.person_id], pay.pk)):
        when = timezone.localtime(pay.paid_at)
        add(
            "$", number[pay.enrollment.person_id], pay.amount, pay.channel, pay.receipt_number,
            when.date() if pay.reverses_id else when.isoformat(),
            pay.reverses.receipt_number if pay.reverses else "", pay.reason,
            pay.collector.user.username if pay.collector else "",
        )  # fmt: skip
    for r in Remittance.objects.select_related("collector__user").order_by("slip_number"):
        add("R", r.collector.user.username, r.amount, r.remitted_at.isoformat(), r.slip_number)
    return h.hexdigest()
