"""Synthetic residents: names, ID numbers, phones and households, all from one seeded RNG.

Pure Python (no Django): the same ``random.Random`` state gives the same people. Nothing
here iterates a set or a dict whose order depends on hashing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from stdnum.cn import ric

# --- names ----------------------------------------------------------------------------------

# Common surnames in Chongqing, weighted roughly by frequency (冉、向、谭、母、牟 are local).
SURNAMES: tuple[tuple[str, int], ...] = (
    ("刘", 60),
    ("陈", 55),
    ("李", 55),
    ("王", 50),
    ("张", 45),
    ("杨", 35),
    ("周", 30),
    ("罗", 28),
    ("黄", 25),
    ("谭", 22),
    ("吴", 20),
    ("何", 20),
    ("赵", 18),
    ("徐", 16),
    ("胡", 16),
    ("唐", 16),
    ("邓", 15),
    ("蒋", 14),
    ("曾", 14),
    ("冉", 12),
    ("向", 12),
    ("彭", 12),
    ("余", 12),
    ("钟", 11),
    ("付", 11),
    ("朱", 11),
    ("袁", 10),
    ("郑", 10),
    ("谢", 10),
    ("冯", 10),
    ("田", 10),
    ("熊", 9),
    ("蔡", 9),
    ("杜", 9),
    ("廖", 9),
    ("秦", 8),
    ("龚", 8),
    ("夏", 8),
    ("贺", 8),
    ("雷", 8),
    ("龙", 8),
    ("邹", 7),
    ("程", 7),
    ("孙", 7),
    ("江", 7),
    ("文", 7),
    ("汪", 6),
    ("石", 6),
    ("任", 6),
    ("苏", 6),
    ("梁", 6),
    ("韩", 6),
    ("况", 5),
    ("母", 5),
    ("牟", 5),
    ("陶", 5),
    ("蒲", 5),
    ("卢", 5),
    ("姚", 5),
    ("丁", 4),
    ("肖", 4),
    ("游", 4),
    ("易", 4),
    ("潘", 4),
    ("范", 4),
    ("万", 4),
    ("严", 3),
    ("侯", 3),
    ("封", 3),
    ("穆", 3),
    ("殷", 3),
    ("令狐", 1),
    ("欧阳", 1),
    ("司马", 1),
)

# Given names by generation; a birth year picks the list.
GIVEN = {
    ("male", "old"): (
        "德明",
        "德华",
        "国华",
        "国强",
        "建国",
        "建华",
        "光明",
        "光荣",
        "志明",
        "学文",
        "正华",
        "永富",
        "永贵",
        "长生",
        "明贵",
        "世荣",
        "绍云",
        "开明",
        "泽民",
        "树林",
        "家富",
        "文华",
        "国富",
        "成林",
        "天福",
        "兴才",
        "昌明",
        "德才",
        "少云",
        "海清",
        "大均",
        "启明",
        "仁贵",
        "炳华",
        "远林",
        "应祥",
    ),
    ("female", "old"): (
        "秀英",
        "秀兰",
        "桂英",
        "桂兰",
        "玉兰",
        "玉珍",
        "淑芬",
        "素芳",
        "春梅",
        "翠华",
        "德芬",
        "明秀",
        "光琼",
        "世碧",
        "昌秀",
        "国琼",
        "泽芳",
        "学英",
        "开菊",
        "永碧",
        "家珍",
        "素华",
        "凤英",
        "秀珍",
        "碧秀",
        "菊芳",
        "仕琼",
        "绍珍",
        "兴碧",
        "桂芳",
        "大秀",
        "明芬",
        "天英",
        "远琼",
    ),
    ("male", "mid"): (
        "伟",
        "勇",
        "军",
        "强",
        "斌",
        "刚",
        "涛",
        "波",
        "杰",
        "磊",
        "鹏",
        "超",
        "明",
        "平",
        "林",
        "洪",
        "华",
        "飞",
        "兵",
        "海",
        "东",
        "亮",
        "小兵",
        "小军",
        "建平",
        "永强",
        "红兵",
        "志刚",
        "海波",
        "俊",
        "小平",
        "建伟",
        "德勇",
        "川",
        "江",
        "渝",
        "中华",
        "成刚",
        "小龙",
        "国庆",
    ),
    ("female", "mid"): (
        "丽",
        "红",
        "敏",
        "艳",
        "燕",
        "娟",
        "霞",
        "琴",
        "静",
        "芳",
        "莉",
        "梅",
        "英",
        "萍",
        "玲",
        "小红",
        "小琴",
        "小燕",
        "春燕",
        "海燕",
        "丽娟",
        "晓燕",
        "红梅",
        "雪梅",
        "小梅",
        "晓琴",
        "小芳",
        "丽萍",
        "世琴",
        "建英",
        "渝",
        "秀琴",
        "小莉",
        "利",
    ),
    ("male", "young"): (
        "浩",
        "宇",
        "鑫",
        "杰",
        "翔",
        "俊杰",
        "浩然",
        "宇航",
        "文博",
        "家豪",
        "子豪",
        "思远",
        "志鹏",
        "鹏飞",
        "天宇",
        "晨",
        "凯",
        "林峰",
        "俊",
        "旭",
        "世杰",
        "川",
        "博文",
        "明杰",
        "星宇",
        "嘉豪",
        "玉龙",
        "坤",
    ),
    ("female", "young"): (
        "婷",
        "雪",
        "倩",
        "佳",
        "欣",
        "琳",
        "丹",
        "静怡",
        "雨欣",
        "思雨",
        "梦瑶",
        "佳怡",
        "雨婷",
        "欣怡",
        "诗雨",
        "玉婷",
        "佳佳",
        "雪梅",
        "露",
        "瑶",
        "婉婷",
        "文静",
        "梦",
        "小雨",
        "馨月",
    ),
    ("male", "child"): (
        "子轩",
        "浩宇",
        "宇轩",
        "梓睿",
        "俊熙",
        "一鸣",
        "沐阳",
        "子墨",
        "浩轩",
        "皓轩",
        "锦程",
        "明轩",
        "宇泽",
        "奕辰",
        "嘉懿",
        "睿",
        "梓豪",
        "承泽",
        "俊宇",
        "思源",
        "宸",
        "铭",
        "煜",
        "博",
    ),
    ("female", "child"): (
        "梓涵",
        "一诺",
        "欣妍",
        "诗涵",
        "可馨",
        "梓萱",
        "语桐",
        "子涵",
        "依诺",
        "雨涵",
        "若汐",
        "芷若",
        "思琪",
        "沐晴",
        "梓琪",
        "雨桐",
        "紫萱",
        "安琪",
        "语嫣",
        "悦",
        "可欣",
        "诗琪",
    ),
}

PHONE_PREFIXES = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "173",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "187",
    "188",
    "189",
    "191",
    "199",
)

# --- ID numbers -----------------------------------------------------------------------------

QIJIANG = "500222"  # 綦江县 (1997–2011), the code most residents' numbers carry
QIJIANG_SICHUAN = "510222"  # 綦江县 under Sichuan, before Chongqing became a municipality
QIJIANG_DISTRICT = "500110"  # 綦江区 since 2011
# Spouses who married in from neighbouring counties: 江津、南川、遵义（桐梓、播州）.
MARRIED_IN = ("500381", "500384", "520322", "520321")


def generation(year: int) -> str:
    if year <= 1962:
        return "old"
    if year <= 1990:
        return "mid"
    if year <= 2008:
        return "young"
    return "child"


def weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def surname(rng: random.Random) -> str:
    return weighted(rng, SURNAMES)


def given_name(rng: random.Random, sex: str, year: int) -> str:
    return rng.choice(GIVEN[(sex, generation(year))])


def phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def area_code(rng: random.Random, birth: dt.date, *, married_in: bool = False) -> str:
    """The area code a Qijiang resident born on ``birth`` would plausibly carry."""
    if married_in:
        return rng.choice(MARRIED_IN)
    if birth.year >= 2012:
        return QIJIANG_DISTRICT if rng.random() < 0.9 else QIJIANG
    if birth.year <= 1985 and rng.random() < 0.25:
        return QIJIANG_SICHUAN
    return QIJIANG


class IdNumbers:
    """Unique, valid 18-character resident ID numbers (GB 11643 check digit from stdnum)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def make(self, area: str, birth: dt.date, sex: str) -> str:
        while True:
            order = self.rng.randrange(500) * 2 + (1 if sex == "male" else 0)
            body = f"{area}{birth:%Y%m%d}{order:03d}"
            number = body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character
            if number not in self.used:
                self.used.add(number)
                return number


# --- households -----------------------------------------------------------------------------


@dataclass
class PersonPlan:
    id_number: str
    name: str
    surname: str
    sex: str  # "male" / "female"
    birth_date: dt.date
    phone: str
    relation: str
    identities: list[str] = field(default_factory=list)
    # Fates decided by the campaign plan: ``None`` (living, to enroll), "deceased", "employee".
    fate: str | None = None
    died_on: dt.date | None = None
    employer: str = ""

    def age(self, on: dt.date) -> int:
        years = on.year - self.birth_date.year
        return years - ((on.month, on.day) < (self.birth_date.month, self.birth_date.day))


@dataclass
class HouseholdPlan:
    number: str
    address: str
    members: list[PersonPlan]  # the head first

    @property
    def head(self) -> PersonPlan:
        return self.members[0]


class HouseholdMaker:
    """Households of 2–6 people with a head, plausible ages and relations."""

    # (kind, weight)
    KINDS = (
        ("elderly_couple", 20),
        ("couple", 9),
        ("couple_1", 19),
        ("couple_2", 19),
        ("single_parent", 7),
        ("three_gen", 18),
        ("three_gen_elder_head", 8),
    )

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self.rng = rng
        self.today = today
        self.ids = IdNumbers(rng)

    # -- helpers

    def _birth(self, age_lo: int, age_hi: int) -> dt.date:
        """A real calendar date for someone aged ``age_lo``..``age_hi`` on ``today``."""
        latest = self.today - dt.timedelta(days=120)  # nobody younger than four months
        start = self.today.replace(year=self.today.year - age_hi - 1) + dt.timedelta(days=1)
        end = self.today.replace(year=self.today.year - age_lo)
        end = min(end, latest)
        return start + dt.timedelta(days=self.rng.randrange((end - start).days + 1))

    def _person(
        self,
        sex: str,
        birth: dt.date,
        relation: str,
        family_name: str | None = None,
        *,
        married_in: bool = False,
        phone_number: str | None = None,
    ) -> PersonPlan:
        family = family_name or surname(self.rng)
        name = family + given_name(self.rng, sex, birth.year)
        number = self.ids.make(area_code(self.rng, birth, married_in=married_in), birth, sex)
        return PersonPlan(
            id_number=number,
            name=name,
            surname=family,
            sex=sex,
            birth_date=birth,
            phone=phone_number if phone_number is not None else phone(self.rng),
            relation=relation,
        )

    def _spouse(self, head: PersonPlan) -> PersonPlan:
        sex = "female" if head.sex == "male" else "male"
        gap = self.rng.randint(-2, 6) if sex == "female" else -self.rng.randint(-2, 6)
        age = max(18, min(95, head.age(self.today) - gap))
        married_in = self.rng.random() < 0.12
        return self._person(sex, self._birth(age, age), "配偶", married_in=married_in)

    def _children(
        self, father_name: str, parent: PersonPlan, count: int, *, relation_base: str = ""
    ) -> list[PersonPlan]:
        parent_age = parent.age(self.today)
        kids = []
        for _ in range(count):
            hi = max(0, parent_age - 21)
            lo = max(0, parent_age - 38)
            sex = self.rng.choice(("male", "female"))
            rel = (relation_base or "") + ("子" if sex == "male" else "女")
            if relation_base == "孙":
                rel = "孙子" if sex == "male" else "孙女"
            kid_phone = "" if hi < 14 else None
            kid = self._person(sex, self._birth(lo, hi), rel, father_name, phone_number=kid_phone)
            if kid_phone == "":
                kid.phone = parent.phone
            kids.append(kid)
        return kids

    # -- public

    def make(self, number: str, address: str) -> HouseholdPlan:
        rng = self.rng
        kind = weighted(rng, self.KINDS)
        family = surname(rng)
        head_sex = "male" if rng.random() < 0.82 else "female"
        members: list[PersonPlan]
        if kind == "elderly_couple":
            head = self._person(head_sex, self._birth(60, 88), "户主", family)
            members = [head, self._spouse(head)]
        elif kind == "couple":
            head = self._person(head_sex, self._birth(22, 59), "户主", family)
            members = [head, self._spouse(head)]
        elif kind in ("couple_1", "couple_2"):
            head = self._person(head_sex, self._birth(26, 58), "户主", family)
            spouse = self._spouse(head)
            father = head if head.sex == "male" else spouse
            kids = self._children(father.surname, head, 1 if kind == "couple_1" else 2)
            members = [head, spouse, *kids]
        elif kind == "single_parent":
            head = self._person(head_sex, self._birth(30, 60), "户主", family)
            members = [head, *self._children(family, head, rng.choice((1, 1, 2)))]
        elif kind == "three_gen":
            # Head in the middle generation, with one or two parents and children.
            head = self._person("male", self._birth(32, 56), "户主", family)
            spouse = self._spouse(head)
            parent_age = min(95, head.age(self.today) + rng.randint(22, 32))
            elders = [self._person("male", self._birth(parent_age, parent_age), "父亲", family)]
            if rng.random() < 0.6 or parent_age > 85:
                elders = [self._person("female", self._birth(parent_age - 2, parent_age), "母亲")]
            elif rng.random() < 0.7:
                elders.append(
                    self._person("female", self._birth(parent_age - 3, parent_age), "母亲")
                )
            kids = self._children(family, head, rng.choice((1, 2, 2)))
            members = [head, spouse, *elders, *kids][:6]
        else:  # three_gen_elder_head: grandparents head the household, son's family lives in
            head = self._person("male", self._birth(62, 84), "户主", family)
            spouse = self._spouse(head)
            son_age = max(30, head.age(self.today) - rng.randint(23, 32))
            son = self._person("male", self._birth(son_age, son_age), "子", family)
            daughter_in_law = self._person(
                "female", self._birth(max(22, son_age - 4), son_age), "儿媳", married_in=True
            )
            grandkids = self._children(family, son, rng.choice((1, 1, 2)), relation_base="孙")
            members = [head, spouse, son, daughter_in_law, *grandkids][:6]
        # The elderly often give a child's number, or none.
        for member in members[1:]:
            if member.age(self.today) >= 75 and rng.random() < 0.5:
                member.phone = head.phone if rng.random() < 0.7 else ""
        return HouseholdPlan(number=number, address=address, members=members)
