"""What the demo township looks like: the progress table a township clerk would recognise,
channel totals, cash held, the logins, and a digest of the data for the determinism test."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from yibao.collection.models import Collector, Enrollment, Payment, Remittance
from yibao.core.models import AuditLog
from yibao.policy import get_policy
from yibao.policy.display import table
from yibao.registry.models import IdentityTag, OtherInsurance, Person, Village

from .build import DEMO_ACTION
from .plan import POLICY_ID, password_for

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class VillageProgress:
    seq: int
    name: str
    target: int
    period_target: int
    registered: int  # alive, not employee-insured: should enroll
    enrolled: int
    paid: int
    hardship: int
    hardship_paid: int

    @property
    def completion(self) -> Decimal:
        """Paid as a percentage of the published target, to two decimals."""
        if not self.target:
            return Decimal(0)
        return (Decimal(self.paid) * HUNDRED / Decimal(self.target)).quantize(Decimal("0.01"))

    @property
    def hardship_rate(self) -> Decimal:
        if not self.hardship:
            return HUNDRED
        return (Decimal(self.hardship_paid) * HUNDRED / Decimal(self.hardship)).quantize(
            Decimal("0.01")
        )


def target_scale(policy_id: str = POLICY_ID) -> Decimal:
    """1 for a full-size demo; for a smaller one (``--residents``) the targets shrink with it,
    so that completion rates still mean something."""
    engine = get_policy(policy_id)
    record = demo_record()
    residents = (record.after or {}).get("residents") if record else None
    total = sum(row.values["target"] for row in engine.targets.rows) if engine.targets else 0
    if not residents or not total or residents >= total:
        return Decimal(1)
    return Decimal(residents) / Decimal(total)


def village_progress(policy_id: str = POLICY_ID) -> list[VillageProgress]:
    """Per village of the policy's target table, in the table's order (targets scaled for a
    small demo, see :func:`target_scale`)."""
    engine = get_policy(policy_id)
    scale = target_scale(policy_id)
    year = engine.benefit_year
    targets = {row.village: row for row in engine.targets.rows} if engine.targets else {}
    employee = OtherInsurance.objects.filter(
        person=OuterRef("pk"), benefit_year=year, kind=OtherInsurance.Kind.EMPLOYEE
    )
    tagged = IdentityTag.objects.filter(person=OuterRef("pk"))
    paid_enrollment = Enrollment.objects.filter(
        person=OuterRef("pk"), benefit_year=year, status=Enrollment.Status.PAID
    )
    should_enroll = Person.objects.filter(status=Person.Status.ALIVE).exclude(Exists(employee))
    registered = dict(
        should_enroll.values("hukou_village")
        .annotate(n=Count("id"))
        .values_list("hukou_village", "n")
    )
    hardship = dict(
        should_enroll.filter(Exists(tagged))
        .values("hukou_village")
        .annotate(n=Count("id"))
        .values_list("hukou_village", "n")
    )
    hardship_paid = dict(
        should_enroll.filter(Exists(tagged), Exists(paid_enrollment))
        .values("hukou_village")
        .annotate(n=Count("id"))
        .values_list("hukou_village", "n")
    )
    enrollments = {
        row["village"]: row
        for row in Enrollment.objects.filter(benefit_year=year)
        .values("village")
        .annotate(n=Count("id"), paid=Count("id", filter=Q(status=Enrollment.Status.PAID)))
    }
    result = []
    for village in Village.objects.order_by("seq", "id"):
        row = targets.get(village.name)
        counts = enrollments.get(village.pk, {"n": 0, "paid": 0})
        result.append(
            VillageProgress(
                seq=village.seq or 0,
                name=village.name,
                target=round(row.values["target"] * scale) if row else 0,
                period_target=round(row.values.get("period_target", 0) * scale) if row else 0,
                registered=registered.get(village.pk, 0),
                enrolled=counts["n"],
                paid=counts["paid"],
                hardship=hardship.get(village.pk, 0),
                hardship_paid=hardship_paid.get(village.pk, 0),
            )
        )
    return result


def _pct(value: Decimal) -> str:
    return f"{value:.2f}%"


def progress_table(rows: list[VillageProgress]) -> str:
    ranked = sorted(rows, key=lambda r: (-r.completion, r.seq))
    bottom = {r.name for r in ranked[-3:]} if len(ranked) > 3 else set()
    lines = []
    for rank, r in enumerate(ranked, start=1):
        lines.append(
            [
                str(rank),
                r.name,
                str(r.target),
                str(r.registered),
                str(r.enrolled),
                str(r.paid),
                _pct(r.completion),
                f"{r.hardship_paid}/{r.hardship}",
                "◀ 后三名" if r.name in bottom else "",
            ]
        )
    target = sum(r.target for r in rows)
    paid = sum(r.paid for r in rows)
    total_pct = (
        (Decimal(paid) * HUNDRED / Decimal(target)).quantize(Decimal("0.01"))
        if target
        else Decimal(0)
    )
    lines.append(
        [
            "",
            "合计",
            str(target),
            str(sum(r.registered for r in rows)),
            str(sum(r.enrolled for r in rows)),
            str(paid),
            _pct(total_pct),
            f"{sum(r.hardship_paid for r in rows)}/{sum(r.hardship for r in rows)}",
            "",
        ]
    )
    headers = [
        "名次",
        "村（社区）",
        "目标任务数",
        "应参保人数",
        "已登记",
        "已缴费",
        "完成率",
        "困难群体已缴",
        "",
    ]
    return table(headers, lines)


def channel_totals() -> list[tuple[str, int, int, int, Decimal]]:
    """(channel label, payments, zero declarations, reversals, net amount) per channel."""
    rows = (
        Payment.objects.values("channel")
        .annotate(
            payments=Count("id", filter=Q(reverses__isnull=True)),
            zero=Count("id", filter=Q(reverses__isnull=True, amount=0)),
            reversals=Count("id", filter=Q(reverses__isnull=False)),
            amount=Sum("amount"),
        )
        .order_by("-payments", "channel")
    )
    labels = dict(Payment.Channel.choices)
    return [
        (labels[r["channel"]], r["payments"], r["zero"], r["reversals"], r["amount"] or Decimal(0))
        for r in rows
    ]


def demo_record() -> AuditLog | None:
    return AuditLog.objects.filter(action=DEMO_ACTION).order_by("-id").first()


def logins() -> list[tuple[str, str, str, str]]:
    """(username, name, role and villages, password) of the demo accounts."""
    record = demo_record()
    seed = (record.after or {}).get("seed") if record else None
    result = []
    for collector in Collector.objects.select_related("user").order_by("role", "id"):
        user = collector.user
        if collector.role == Collector.Role.COLLECTOR:
            scope = "征收员：" + "、".join(v.name for v in collector.villages.order_by("seq"))
        else:
            scope = collector.get_role_display()
        password = password_for(seed, user.username) if seed is not None else "（非演示账号）"
        result.append((user.username, user.get_full_name(), scope, password))
    return result


def summary_text(*, today: str, today_source: str) -> str:
    """The whole summary printed by ``yibao demo``."""
    engine = get_policy(POLICY_ID)
    collection = engine.data.collection
    out = [
        f"{engine.name}",
        f"征缴进度（截至 {today}；{today_source}）",
        f"集中缴费期：{collection.opens_on or '未规定'} 至 {collection.period_end}"
        f"（{collection.period_cite}）",
        "完成率 = 已缴费人数 ÷ 2023年目标任务数（附件2）；困难群体 = 有身份标识、应参保的人",
        "",
        progress_table(village_progress()),
        "",
        "缴费渠道（笔数不含冲正；金额为冲正后的净额）：",
    ]
    channel_rows = [
        [label, str(n), str(zero), str(rev), f"{amount:.2f}"]
        for label, n, zero, rev, amount in channel_totals()
    ]
    total_amount = sum((r[4] for r in channel_totals()), Decimal(0))
    channel_rows.append(
        [
            "合计",
            str(sum(int(r[1]) for r in channel_rows)),
            str(sum(int(r[2]) for r in channel_rows)),
            str(sum(int(r[3]) for r in channel_rows)),
            f"{total_amount:.2f}",
        ]
    )
    out.append(table(["渠道", "笔数", "零申报", "冲正", "金额（元）"], channel_rows))
    taken = Payment.objects.filter(channel=Payment.Channel.CASH).aggregate(s=Sum("amount"))["s"]
    remitted = Remittance.objects.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    taken = taken or Decimal(0)
    out.append(
        f"\n现金：征收员共收 {taken:.2f} 元，已解缴入库 {remitted:.2f} 元，"
        f"仍在征收员手中 {taken - remitted:.2f} 元"
    )
    out.append("\n演示账号：")
    out.append(table(["用户名", "姓名", "角色", "密码"], [list(row) for row in logins()]))
    return "\n".join(out)


def demo_digest() -> str:
    """SHA-256 over the demo's data by natural keys (no primary keys, no real-time stamps).

    A reversal's time is the campaign date at the real time of day (the service stamps it
    with ``clock.now()``), so only its date enters the digest.
    """
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        h.update(("\x1f".join(str(p) for p in parts) + "\n").encode())

    for p in Person.objects.select_related("hukou_village", "household").order_by("id_number"):
        add(
            "P", p.id_number, p.name, p.sex, p.birth_date, p.phone, p.hukou_village.code,
            p.household.number if p.household else "", p.relation_to_head, p.status,
            p.deceased_on,
        )  # fmt: skip
    for t in IdentityTag.objects.select_related("person").order_by("person__id_number", "id"):
        add("T", t.person.id_number, t.category_key, t.department, t.source_batch, t.valid_from)
    for o in OtherInsurance.objects.select_related("person").order_by("person__id_number"):
        add("O", o.person.id_number, o.kind, o.benefit_year, o.place)
    for e in Enrollment.objects.select_related("person").order_by("person__id_number"):
        add(
            "E", e.person.id_number, e.benefit_year, e.tier, e.identity_name, e.standard,
            e.subsidy, e.personal, e.status,
        )  # fmt: skip
    for pay in Payment.objects.select_related(
        "enrollment__person", "reverses", "collector__user"
    ).order_by("enrollment__person__id_number", "id"):
        when = timezone.localtime(pay.paid_at)
        add(
            "$", pay.enrollment.person.id_number, pay.amount, pay.channel, pay.receipt_number,
            when.date() if pay.reverses_id else when.isoformat(),
            pay.reverses.receipt_number if pay.reverses else "", pay.reason,
            pay.collector.user.username if pay.collector else "",
        )  # fmt: skip
    for r in Remittance.objects.select_related("collector__user").order_by("slip_number"):
        add("R", r.collector.user.username, r.amount, r.remitted_at.isoformat(), r.slip_number)
    return h.hexdigest()
