"""The navigation, one line per page: (url name, label, short label for the phone bar, roles).

A helper adding a page adds its line here; the bar shows the pages the user's role may open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from .roles import ADMIN, AUDIT, DESK, DISTRICT, OFFICE, READERS


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    short: str
    roles: tuple[str, ...]
    phone: bool = False  # shown in the phone's bottom bar (at most four)


NAV: list[NavItem] = [
    NavItem("web:dashboard", "征缴进度", "进度", OFFICE, phone=True),
    NavItem("web:desk", "查找参保人", "查找", DESK, phone=True),
    NavItem("web:unpaid", "未缴名单", "未缴", DESK, phone=True),
    NavItem("web:cash", "我的现金", "现金", DESK, phone=True),
    NavItem("web:household_new", "按户登记", "登记", OFFICE),
    NavItem("web:ledger", "台账", "台账", READERS),
    NavItem("web:audit", "审计日志", "审计", AUDIT),
    NavItem("web:worklists", "工作清单", "清单", DESK),
    NavItem("web:roster", "花名册导入", "导入", OFFICE),
    NavItem("web:identity_lists", "部门身份名单", "身份", OFFICE),
    NavItem("web:person_lists", "死亡与参保名单", "异常", OFFICE),
    NavItem("web:areas", "区划代码", "区划", OFFICE),
    NavItem("web:cash_limits", "现金双限", "双限", OFFICE),
    NavItem("web:close", "日结", "日结", READERS),
    NavItem("web:tax_import", "税务缴费明细", "税务", OFFICE),
    NavItem("web:notice", "缴费公示", "公示", READERS),
    NavItem("web:bulletins", "进度通报", "通报", AUDIT),
    NavItem("web:targets", "目标任务", "任务", OFFICE),
    NavItem("web:assessment", "考核", "考核", AUDIT),
    NavItem("web:subsidy", "资助资金", "资助", AUDIT),
    NavItem("web:policy", "政策", "政策", OFFICE),
    NavItem("web:policy_supplement", "政策补充文件", "补充", (DISTRICT, ADMIN)),
    NavItem("web:receipts", "收据本", "收据", READERS),
]


# The menu's sections, in order; a page not listed here goes under 其他.
SECTIONS = ("收费", "进度", "名单", "资金", "查询", "政策", "其他")
SECTION_OF = {
    "web:desk": "收费", "web:unpaid": "收费", "web:cash": "收费", "web:close": "资金",
    "web:dashboard": "进度", "web:worklists": "名单", "web:household_new": "名单",
    "web:roster": "名单", "web:identity_lists": "名单", "web:person_lists": "名单",
    "web:cash_limits": "资金", "web:ledger": "查询", "web:audit": "查询",
    "web:policy": "政策", "web:policy_supplement": "政策",
    "web:tax_import": "资金", "web:receipts": "资金", "web:notice": "资金",
}  # fmt: skip


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    short: str
    phone: bool
    current: bool
    section: str = "其他"


def nav_for(role: str | None, match: Any) -> list[NavLink]:
    current = f"{match.namespace}:{match.url_name}" if match is not None else ""
    links = []
    for item in NAV:
        if role in item.roles:
            links.append(
                NavLink(
                    reverse(item.url_name),
                    item.label,
                    item.short,
                    item.phone,
                    current == item.url_name,
                    SECTION_OF.get(item.url_name, "其他"),
                )
            )
    return links


def nav_sections(links: list[NavLink]) -> list[tuple[str, list[NavLink]]]:
    """The links grouped by section, for the 更多 page on a phone."""
    return [
        (name, [link for link in links if link.section == name])
        for name in SECTIONS
        if any(link.section == name for link in links)
    ]
