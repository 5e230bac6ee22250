"""The demo township as a plan: who lives where, who is what, who paid when and how.

Pure Python and seeded (no Django): :func:`plan_township` decides everything; the builder
(:mod:`yibao.demo.build`) then writes it through the ledger's services. The amounts here
are the policy engine's quotes, and the services quote again and refuse any difference.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from yibao.policy import IdentityClaim, QuoteRequest, get_policy

from .people import HouseholdMaker, HouseholdPlan, PersonPlan

POLICY_ID = "qijiang-sanjiang-2023"
TZ = ZoneInfo("Asia/Shanghai")

DISTRICT = ("綦江区", "500110")
TOWNSHIP = ("三江街道", "500110003")  # 统计用区划代码 (500110004 is 万盛街道)
CLERK = "sanjiang"
DISTRICT_USER = "qijiang"
AUDITOR_USER = "shenji"  # read-only: the audit trail and the ledgers of the township

# Pinyin for usernames; a village the table does not know becomes ``cunNN``.
PINYIN = {
    "三河街社区": "sanhejie", "滨江社区": "binjiang", "圆通寺社区": "yuantongsi",
    "四钢社区": "sigang", "重绳社区": "chongsheng", "重冶社区": "chongye", "大山村": "dashan",
    "五里村": "wuli", "第五村": "diwu", "水口村": "shuikou", "黄桷村": "huangjue",
    "大垭村": "daya", "黄荆村": "huangjing", "新联村": "xinlian", "罗坝村": "luoba",
    "寨门村": "zhaimen", "双福村": "shuangfu", "龙桥村": "longqiao", "西山村": "xishan",
    "半山村": "banshan", "龙塘村": "longtang", "马垭村": "maya", "照贵村": "zhaogui",
    "复兴村": "fuxing",
}  # fmt: skip

STREETS = ("沿河路", "三江大道", "重钢路", "滨江路", "新街", "老街", "建设路", "东风路")

# Hardship identities: (policy key as printed, share of residents, level, department, list).
# ``household``: the whole household is on the list; ``person``: one member.
DEPARTMENTS = {
    "民政": "綦江区民政局",
    "乡村振兴": "綦江区乡村振兴局",
    "退役军人": "綦江区退役军人事务局",
    "残联": "綦江区残疾人联合会",
    "卫健": "綦江区卫生健康委员会",
}


@dataclass(frozen=True)
class IdentityKind:
    keys: tuple[tuple[str, int], ...]  # printed names (policy keys) with weights
    share: float
    department: str
    list_name: str


HOUSEHOLD_IDENTITIES = (
    IdentityKind((("低保对象", 1),), 0.030, "民政", "城乡最低生活保障对象名单"),
    IdentityKind((("低保边缘户", 1),), 0.010, "民政", "低保边缘家庭成员名单"),
    IdentityKind((("稳定脱贫人口", 1),), 0.020, "乡村振兴", "脱贫人口名单（稳定脱贫）"),
    IdentityKind(
        (("返贫致贫人口", 2), ("脱贫不稳定户", 3), ("边缘易致贫户", 3), ("突发严重困难户", 1)),
        0.006,
        "乡村振兴",
        "防止返贫监测对象名单",
    ),
)
SEVERE_DISABILITY = IdentityKind(
    (("重度（一、二级）残疾人员", 1),), 0.008, "残联", "重度残疾人名单（一、二级残疾证）"
)
EXTREME_POVERTY = IdentityKind((("特困人员", 1),), 0.005, "民政", "特困人员救助供养名单")
FAMILY_PLANNING = IdentityKind(
    (("计划生育独子户", 2), ("计划生育独女户", 2), ("计划生育双女户", 1)),
    0.012,
    "卫健",
    "农村计划生育家庭奖励扶助名单",
)
ONLY_CHILD_LOST = IdentityKind(
    (("独生子女死亡扶助对象", 2), ("独生子女残疾扶助对象", 1), ("其他困难家庭扶助对象", 1)),
    0.001,
    "卫健",
    "计划生育特别扶助对象名单",
)
ENTITLED = IdentityKind(
    (("在乡重点优抚对象（不含1—6级残疾军人）", 1),), 0.0015, "退役军人", "重点优抚对象名单"
)
OLD_VETERAN = IdentityKind((("民政在乡老复员军人", 1),), 0.0003, "退役军人", "在乡老复员军人名单")
ORPHAN = IdentityKind(
    (("民政城乡孤儿", 1), ("事实无人抚养儿童", 2)), 0.0005, "民政", "孤儿和事实无人抚养儿童名单"
)

DECEASED_SHARE = 0.005
EMPLOYEE_SHARE = 0.04
REVERSAL_SHARE = 0.003
UNPAID_ENROLLED_SHARE = 0.35
TIER2_SHARE = 0.06

EMPLOYERS = (
    "重庆綦江齿轮传动有限公司", "重庆三江机械有限责任公司", "綦江区人民医院", "重庆綦江区三江街道办事处",
    "重庆市綦江区古南中学", "重庆綦江铝业有限公司", "中国邮政集团重庆市綦江区分公司",
    "重庆綦江农村商业银行", "重庆綦江公共交通有限公司", "重庆市綦江区自来水公司",
    "重庆綦江页岩气开发有限公司", "重庆渝綦物流有限公司",
)  # fmt: skip

# Channels: (value, weight) for older and younger payers. Zero declarations go through the
# tax e-bureau (电子税务局), entered by the township office.
CHANNELS_OLDER = (
    ("cash", 34), ("village_pos", 16), ("post_office", 12), ("cqrcb_app", 8), ("wechat", 20),
    ("alipay", 3), ("yukuaiban", 4), ("unionpay", 3),
)  # fmt: skip
CHANNELS_YOUNGER = (
    ("wechat", 36), ("alipay", 15), ("yukuaiban", 11), ("unionpay", 5), ("cqrcb_app", 11),
    ("village_pos", 8), ("cash", 9), ("post_office", 5),
)  # fmt: skip
COLLECTOR_CHANNELS = ("cash", "village_pos")
ZERO_CHANNEL = "tax_bureau"
RECEIPT_PREFIX = {
    "wechat": "WX", "alipay": "ZFB", "yukuaiban": "YKB", "unionpay": "YSF", "cqrcb_app": "NSH",
    "village_pos": "POS", "cash": "XJ", "post_office": "YZ", "tax_bureau": "SW",
}  # fmt: skip

REVERSAL_REASONS = {
    "tier": "档次录错：本人选择二档，误录为一档，冲正后按二档重新缴费",
    "channel": "缴费渠道录错：实为村POS机刷卡，误录为现金，冲正后按实际渠道重录",
    "duplicate": "本人已通过渝快办自行缴费，村上重复收取的现金已退回本人",
}


@dataclass
class TagPlan:
    key: str
    department: str
    source_list: str
    source_batch: str
    certified_on: dt.date


@dataclass
class PaymentPlan:
    person: PersonPlan
    tier: int
    amount: Decimal
    channel: str
    paid_at: dt.datetime
    actor: str  # username
    receipt: str
    reversal: str | None = None  # a key of REVERSAL_REASONS
    # For a reversed payment: how it is paid again (None: not paid again).
    repay: PaymentPlan | None = None


@dataclass
class VillagePlan:
    seq: int
    name: str
    code: str
    target: int
    period_target: int
    scaled_target: float
    rate: float  # planned completion (paid / scaled target)
    collectors: list[str]
    households: list[HouseholdPlan]
    tags: dict[str, list[TagPlan]] = field(default_factory=dict)  # id_number -> tags
    payments: list[PaymentPlan] = field(default_factory=list)
    enrollments: list[tuple[PersonPlan, int]] = field(default_factory=list)

    @property
    def persons(self) -> list[PersonPlan]:
        return [p for h in self.households for p in h.members]

    @property
    def is_community(self) -> bool:
        return self.name.endswith("社区")


@dataclass
class UserPlan:
    username: str
    full_name: str
    role: str  # StaffMember.Role value
    villages: list[str]
    phone: str
    password: str


@dataclass
class TownshipPlan:
    seed: int
    today: dt.date
    policy_id: str
    villages: list[VillagePlan]
    users: list[UserPlan]


# --- helpers --------------------------------------------------------------------------------


def stochastic_round(rng: random.Random, value: float) -> int:
    whole = math.floor(value)
    return whole + (1 if rng.random() < value - whole else 0)


def pick(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def password_for(seed: int, username: str) -> str:
    """A demo password derived from the seed, so the summary can print it again later."""
    import hashlib

    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    digest = hashlib.sha256(f"yibao-demo:{seed}:{username}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:8])


def aware(day: dt.date, minutes: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=TZ) + dt.timedelta(minutes=minutes)


def _day_weights(opens: dt.date, today: dt.date) -> tuple[list[dt.date], list[float]]:
    days, weights = [], []
    day = opens
    while day <= today:
        w = 1.0
        if (day - opens).days < 4:
            w += 2.0  # the launch: mobilisation meetings, village broadcasts
        if dt.date(day.year, 11, 1) <= day <= dt.date(day.year, 11, 10):
            w *= 1.3  # before the first ten-day bulletin
        if day >= dt.date(day.year, 12, 1):
            w *= 1.6  # the final push
        if day.weekday() == 6:
            w *= 0.75
        if day == today:
            w *= 0.2  # the campaign day has only begun
        days.append(day)
        weights.append(w)
        day += dt.timedelta(days=1)
    return days, weights


def _address(rng: random.Random, village: str, community: bool) -> str:
    if community:
        return f"綦江区三江街道{village}{rng.choice(STREETS)}{rng.randint(1, 260)}号"
    return f"綦江区三江街道{village}{rng.randint(1, 12)}组{rng.randint(1, 180)}号"


# --- the plan -------------------------------------------------------------------------------


def plan_township(
    *, seed: int = 2023, residents: int = 26000, today: dt.date = dt.date(2022, 12, 5)
) -> TownshipPlan:
    """Decide the whole demo township. ``residents`` is about the number of people who should
    enroll (the target population); the deceased and the employee-insured come on top."""
    engine = get_policy(POLICY_ID)
    targets = engine.targets
    if targets is None:
        raise ValueError(f"{POLICY_ID} has no target table")
    rng = random.Random(seed)
    opens = engine.data.collection.opens_on or dt.date(today.year, 10, 1)
    total_target = sum(row.values["target"] for row in targets.rows)
    scale = residents / total_target
    days, day_weights = _day_weights(opens, min(today, engine.data.collection.period_end))

    n = len(targets.rows)
    rates = [0.60 + 0.38 * ((i + rng.random()) / n) ** 0.45 for i in range(n)]
    rng.shuffle(rates)

    maker = HouseholdMaker(rng, today)
    villages: list[VillagePlan] = []
    users: list[UserPlan] = []
    for index, row in enumerate(targets.rows):
        seq = row.seq or index + 1
        code = f"{TOWNSHIP[1]}{(seq if row.village.endswith('社区') else 200 + seq):03d}"
        pinyin = PINYIN.get(row.village, f"cun{seq:02d}")
        n_collectors = 2 if row.values["target"] >= 1300 else 1
        collectors = [f"{pinyin}{k + 1}" for k in range(n_collectors)]
        village = VillagePlan(
            seq=seq,
            name=row.village,
            code=code,
            target=row.values["target"],
            period_target=row.values.get("period_target", row.values["target"]),
            scaled_target=row.values["target"] * scale,
            rate=rates[index],
            collectors=collectors,
            households=[],
        )
        for username in collectors:
            name = maker._person(
                "female" if rng.random() < 0.6 else "male", maker._birth(28, 55), "征收员"
            )
            users.append(
                UserPlan(
                    username=username,
                    full_name=name.name,
                    role="collector",
                    villages=[row.village],
                    phone=name.phone,
                    password=password_for(seed, username),
                )
            )
        _people(rng, maker, village)
        _identities(rng, village, today)
        _fates(rng, village, today)
        _campaign(rng, engine, village, days, day_weights, today)
        villages.append(village)

    clerk = maker._person("female", maker._birth(30, 50), "社保所")
    users.append(
        UserPlan(CLERK, clerk.name, "township", [], clerk.phone, password_for(seed, CLERK))
    )
    bureau = maker._person("male", maker._birth(30, 50), "医保局")
    users.append(
        UserPlan(
            DISTRICT_USER,
            bureau.name,
            "district",
            [],
            bureau.phone,
            password_for(seed, DISTRICT_USER),
        )
    )
    auditor = maker._person("male", maker._birth(30, 50), "纪委")
    users.append(
        UserPlan(
            AUDITOR_USER,
            auditor.name,
            "auditor",
            [],
            auditor.phone,
            password_for(seed, AUDITOR_USER),
        )  # fmt: skip
    )
    return TownshipPlan(seed=seed, today=today, policy_id=POLICY_ID, villages=villages, users=users)


def _people(rng: random.Random, maker: HouseholdMaker, village: VillagePlan) -> None:
    eligible_goal = math.ceil(village.scaled_target * rng.uniform(1.01, 1.05))
    people_goal = round(eligible_goal / (1 - DECEASED_SHARE - EMPLOYEE_SHARE))
    count = 0
    while count < people_goal:
        number = f"{village.code}{len(village.households) + 1:04d}"
        household = maker.make(number, _address(rng, village.name, village.is_community))
        village.households.append(household)
        count += len(household.members)


def _identities(rng: random.Random, village: VillagePlan, today: dt.date) -> None:
    people = village.persons
    total = len(people)

    def tag(person: PersonPlan, kind: IdentityKind, key: str) -> None:
        department = DEPARTMENTS[kind.department]
        month = rng.choice((9, 10, 10, 10))
        certified = today.replace(year=today.year - rng.randint(0, 6), month=1, day=1)
        certified += dt.timedelta(days=rng.randrange(240))
        village.tags.setdefault(person.id_number, []).append(
            TagPlan(
                key=key,
                department=department,
                source_list=f"{department}{today.year}年{month}月{kind.list_name}",
                source_batch=f"{today.year}-{month:02d}",
                certified_on=certified,
            )
        )
        person.identities.append(key)

    # Whole households on a department's list.
    order = list(village.households)
    rng.shuffle(order)
    taken: list[HouseholdPlan] = []
    for kind in HOUSEHOLD_IDENTITIES:
        goal = stochastic_round(rng, kind.share * total)
        got = 0
        for household in order:
            if got >= goal:
                break
            if any(household is t for t in taken):
                continue
            key = pick(rng, kind.keys)
            for member in household.members:
                tag(member, kind, key)
            got += len(household.members)
            taken.append(household)

    def choose(kind: IdentityKind, candidates: list[PersonPlan], *, exclusive: bool) -> None:
        goal = stochastic_round(rng, kind.share * total)
        pool = [p for p in candidates if not (exclusive and p.identities)]
        for person in rng.sample(pool, min(goal, len(pool))):
            tag(person, kind, pick(rng, kind.keys))

    choose(EXTREME_POVERTY, [p for p in people if p.age(today) >= 60], exclusive=True)
    # Severe disability overlaps other identities: these are the "two identities" cases.
    choose(SEVERE_DISABILITY, [p for p in people if p.age(today) >= 3], exclusive=False)
    choose(ENTITLED, [p for p in people if p.sex == "male" and p.age(today) >= 45], exclusive=True)
    choose(
        OLD_VETERAN,
        [p for p in people if p.sex == "male" and p.birth_date.year <= 1936],
        exclusive=True,
    )
    choose(ORPHAN, [p for p in people if p.age(today) < 18], exclusive=True)
    choose(ONLY_CHILD_LOST, [p for p in people if p.age(today) >= 49], exclusive=True)

    # Family planning households: the parents of one son, one daughter or two daughters.
    goal = stochastic_round(rng, FAMILY_PLANNING.share * total)
    got = 0
    for household in order:
        if got >= goal:
            break
        parents = [m for m in household.members if m.relation in ("户主", "配偶")]
        kids = [m for m in household.members if m.relation in ("子", "女")]
        if len(parents) != 2 or not kids or any(p.identities for p in parents):
            continue
        if parents[0].age(today) < 40:
            continue
        if len(kids) == 1:
            key = "计划生育独子户" if kids[0].sex == "male" else "计划生育独女户"
        elif len(kids) == 2 and all(k.sex == "female" for k in kids):
            key = "计划生育双女户"
        else:
            continue
        for parent in parents:
            tag(parent, FAMILY_PLANNING, key)
        got += 2


def _fates(rng: random.Random, village: VillagePlan, today: dt.date) -> None:
    people = village.persons
    n_deceased = stochastic_round(rng, DECEASED_SHARE * len(people))
    weights = [max(1, p.age(today) - 50) ** 2 for p in people]
    dead: list[PersonPlan] = []
    while len(dead) < n_deceased:
        person = rng.choices(people, weights=weights)[0]
        if not any(person is d for d in dead):
            dead.append(person)
    start = dt.date(today.year, 1, 10)
    for person in dead:
        person.fate = "deceased"
        person.died_on = start + dt.timedelta(days=rng.randrange((today - start).days - 2))

    workers = [
        p for p in people if p.fate is None and not p.identities and 22 <= p.age(today) <= 58
    ]
    n_employee = stochastic_round(rng, EMPLOYEE_SHARE * len(people))
    for person in rng.sample(workers, min(n_employee, len(workers))):
        person.fate = "employee"
        person.employer = rng.choice(EMPLOYERS)


def _campaign(
    rng: random.Random,
    engine: object,
    village: VillagePlan,
    days: list[dt.date],
    day_weights: list[float],
    today: dt.date,
) -> None:
    """Who has paid by the campaign day, by which channel and when; who is enrolled unpaid."""
    tags = village.tags
    eligible_total = sum(1 for p in village.persons if p.fate is None)
    goal = min(round(village.rate * village.scaled_target), eligible_total)
    laggard = village.rate < 0.85

    hardship = [h for h in village.households if any(m.identities for m in h.members)]
    others = [h for h in village.households if not any(m.identities for m in h.members)]
    rng.shuffle(hardship)
    rng.shuffle(others)
    if laggard:
        # Even a lagging village's office enrolls most of its hardship households first.
        first = [h for h in hardship if rng.random() < 0.85]
        rest = [h for h in hardship if not any(h is f for f in first)] + others
        rng.shuffle(rest)
        order = first + rest
    else:
        order = hardship + others

    counter = 0
    zero_batches = [d for d in days if d.day in (28, 8, 18, 29) and d < today] or [days[0]]
    paid = 0
    unpaid: list[HouseholdPlan] = []
    for household in order:
        members = [m for m in household.members if m.fate is None]
        if not members:
            continue
        if paid >= goal:
            unpaid.append(household)
            continue
        older = household.head.age(today) >= 60
        channel = pick(rng, CHANNELS_OLDER if older else CHANNELS_YOUNGER)
        day = rng.choices(days, weights=day_weights)[0]
        opening = 8 * 60 + 30 if channel in COLLECTOR_CHANNELS else 7 * 60
        closing = 18 * 60 if channel in COLLECTOR_CHANNELS else 22 * 60
        if day == today:
            closing = 10 * 60
        minute = rng.randrange(opening, closing)
        household_tier2 = not household.members[0].identities and rng.random() < TIER2_SHARE
        collector = rng.choice(village.collectors)
        for member in members:
            tier = _tier(member, household_tier2)
            amount = _personal(engine, member, tags, tier, day)
            counter += 1
            if amount == 0:
                zero_day = rng.choice(zero_batches)
                payment = PaymentPlan(
                    person=member,
                    tier=tier,
                    amount=amount,
                    channel=ZERO_CHANNEL,
                    paid_at=aware(zero_day, 9 * 60 + rng.randrange(8 * 60)),
                    actor=CLERK,
                    receipt=_receipt(ZERO_CHANNEL, zero_day, village.seq, counter),
                )
            else:
                payment = PaymentPlan(
                    person=member,
                    tier=tier,
                    amount=amount,
                    channel=channel,
                    paid_at=aware(day, minute),
                    actor=collector if channel in COLLECTOR_CHANNELS else CLERK,
                    receipt=_receipt(channel, day, village.seq, counter),
                )
                minute += rng.randint(1, 3)
            village.payments.append(payment)
            paid += 1
    for household in unpaid:
        if rng.random() >= UNPAID_ENROLLED_SHARE:
            continue
        household_tier2 = not household.members[0].identities and rng.random() < TIER2_SHARE
        for member in household.members:
            if member.fate is None:
                village.enrollments.append((member, _tier(member, household_tier2)))

    _reversals(rng, engine, village, today)
    village.payments.sort(key=lambda p: (p.paid_at, p.receipt))


def _reversals(rng: random.Random, engine: object, village: VillagePlan, today: dt.date) -> None:
    candidates = [p for p in village.payments if p.amount > 0 and p.paid_at.date() < today]
    count = stochastic_round(rng, REVERSAL_SHARE * len(candidates))
    counter = 0
    for payment in rng.sample(candidates, min(count, len(candidates))):
        counter += 1
        member = payment.person
        if payment.channel == "cash" and rng.random() < 0.5:
            kind = "duplicate" if rng.random() < 0.5 else "channel"
        elif payment.tier == 1 and not member.identities:
            kind = "tier"
        else:
            continue
        payment.reversal = kind
        fix_at = aware(today, 8 * 60 + rng.randrange(90))
        if kind == "tier":
            tier, channel, paid_at = 2, payment.channel, fix_at
        elif kind == "channel":
            tier, channel, paid_at = payment.tier, "village_pos", payment.paid_at
        else:
            tier, channel = payment.tier, "yukuaiban"
            paid_at = payment.paid_at + dt.timedelta(days=rng.randint(0, 2), minutes=37)
            paid_at = min(paid_at, fix_at)
        amount = _personal(engine, member, village.tags, tier, paid_at.date())
        payment.repay = PaymentPlan(
            person=member,
            tier=tier,
            amount=amount,
            channel=channel,
            paid_at=paid_at,
            actor=payment.actor if channel in COLLECTOR_CHANNELS else CLERK,
            receipt=_receipt(channel, paid_at.date(), village.seq, 90000 + counter),
        )


def _tier(person: PersonPlan, household_tier2: bool) -> int:
    if "民政在乡老复员军人" in person.identities:
        return 2  # the table gives this identity tier 2 only
    if person.identities:
        return 1
    return 2 if household_tier2 else 1


def _personal(
    engine: object, person: PersonPlan, tags: dict[str, list[TagPlan]], tier: int, day: dt.date
) -> Decimal:
    """The personal amount the policy engine quotes (the services quote again and compare)."""
    claims = tuple(IdentityClaim(t.key, t.certified_on) for t in tags.get(person.id_number, ()))
    quote = engine.quote(QuoteRequest(paid_on=day, tier=tier, identities=claims))  # type: ignore[attr-defined]
    return Decimal(quote.personal)


def _receipt(channel: str, day: dt.date, village_seq: int, counter: int) -> str:
    return f"{RECEIPT_PREFIX[channel]}{day:%Y%m%d}{village_seq:02d}{counter:05d}"


# --- cash remittances -----------------------------------------------------------------------


@dataclass
class RemittancePlan:
    collector: str
    amount: Decimal
    remitted_at: dt.datetime
    slip_number: str


BANK = "重庆农村商业银行綦江支行三江分理处"


def plan_remittances(plan: TownshipPlan) -> list[RemittancePlan]:
    """Each collector hands cash to the bank every week (a few every two weeks: over the
    limits of 双限报解), all they held at the start of that day; the rest stays on hand.
    Cash later reversed is never counted as remittable, so a remittance never exceeds what
    the collector holds after the reversals."""
    rng = random.Random(plan.seed * 7919 + 1)
    engine = get_policy(plan.policy_id)
    opens = engine.data.collection.opens_on or dt.date(plan.today.year, 10, 1)
    cash: dict[str, list[tuple[dt.datetime, Decimal]]] = {}
    for village in plan.villages:
        for payment in village.payments:
            for p in (payment, payment.repay):
                if p is None or p.channel != "cash" or (p is payment and p.reversal):
                    continue
                cash.setdefault(p.actor, []).append((p.paid_at, p.amount))
    result: list[RemittancePlan] = []
    for user in plan.users:
        events = sorted(cash.get(user.username, []))
        if not events:
            continue
        interval = 14 if rng.random() < 0.2 else 7
        day = opens + dt.timedelta(days=rng.randint(3, interval))
        remitted = Decimal("0")
        while day < plan.today:
            start = aware(day, 0)
            held = sum((a for t, a in events if t < start), Decimal("0")) - remitted
            if held > 0:
                result.append(
                    RemittancePlan(
                        collector=user.username,
                        amount=held,
                        remitted_at=aware(day, 9 * 60 + rng.randrange(6 * 60)),
                        slip_number=f"JK{day:%Y%m%d}{user.username}",
                    )
                )
                remitted += held
            day += dt.timedelta(days=interval)
    return result
