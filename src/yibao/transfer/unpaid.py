"""未缴名单 as a workbook: the same columns as the page, for the page's export and the CLI."""

from __future__ import annotations

from typing import Any

from yibao.collection.campaign import UNPAID_GROUPS, UnpaidRow, age_group, unpaid_list

from .workbook import table_workbook

HEADERS = [
    "序号",
    "姓名",
    "证件号码",
    "年龄段",
    "类别",
    "身份",
    "联系电话",
    "已登记",
    "最近联系结果",
]


def unpaid_lines(rows: list[UnpaidRow]) -> list[list[Any]]:
    return [
        [
            i,
            r.person.name,
            r.person.masked_id_number_short,  # beside the age group: two digits only
            age_group(r.person.birth_date),
            r.group_label,
            "、".join(r.identities),
            r.person.phone,
            "是" if r.enrolled else "否",
            r.last_outcome,
        ]
        for i, r in enumerate(rows, start=1)
    ]


def unpaid_workbook(
    *, actor: Any, village: Any, benefit_year: int, group: str | None = None
) -> tuple[bytes, int]:
    """The workbook's bytes and its number of people (``village`` reached through
    ``access_village``; :func:`~yibao.collection.campaign.unpaid_list` checks the scope)."""
    rows = unpaid_list(actor=actor, village=village, benefit_year=benefit_year, group=group)
    heading = (
        f"{village.name} {benefit_year}年度城乡居民医保未缴费人员名单"
        f"（{UNPAID_GROUPS.get(group or '', '全部')}）"
    )
    data = table_workbook(
        title="未缴名单", headers=HEADERS, rows=unpaid_lines(rows), heading=heading
    )
    return data, len(rows)
