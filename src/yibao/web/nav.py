"""The navigation, one line per page: (url name, label, short label for the phone bar, roles).

A helper adding a page adds its line here; the bar shows the pages the user's role may open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from .roles import AUDIT, DESK, OFFICE, READERS


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
]


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    short: str
    phone: bool
    current: bool


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
                )
            )
    return links
