"""Enrollment-rate floors (参保率达95%以上) as the documents state them.

璧城街道办发〔2022〕36号 一: "2023年辖街道内居民基本医疗保险参保率达 95%以上" (the township);
隘口府发〔2022〕50号 一: "应参保人数为 23163人，参保率达95%以上" (the township);
万州高峰办发〔2023〕35号 一: "各村（社区）应完成居民医保的参保目标任务数的95%以上" (each village,
against its target). Sanjiang's document sets no such rate.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.policy import get_policy
from yibao.policy.reporting import below_floor


@pytest.mark.parametrize(
    ("policy_id", "cite", "of", "per"),
    [
        ("bishan-bicheng-2023", "璧城街道办发〔2022〕36号 一", "should_enroll", "township"),
        ("xiushan-aikou-2023", "隘口府发〔2022〕50号 一", "should_enroll", "township"),
        ("wanzhou-gaofeng-2024", "万州高峰办发〔2023〕35号 一", "target", "village"),
    ],
)
def test_the_documents_set_a_95_percent_enrollment_floor(policy_id, cite, of, per) -> None:
    floor = get_policy(policy_id).data.enrollment_floor
    assert floor is not None
    assert (floor.percent, floor.cite, floor.of, floor.per) == (Decimal("95"), cite, of, per)
    assert "95%以上" in floor.text


def test_sanjiang_sets_no_enrollment_floor() -> None:
    assert get_policy("qijiang-sanjiang-2023").data.enrollment_floor is None


def test_exactly_95_percent_meets_95_percent_or_more() -> None:
    floor = get_policy("wanzhou-gaofeng-2024").data.enrollment_floor
    assert floor is not None
    assert not below_floor(floor, paid=95, base=100)
    assert not below_floor(floor, paid=1425, base=1500)


def test_a_rate_just_under_95_percent_is_below_without_rounding_up() -> None:
    floor = get_policy("xiushan-aikou-2023").data.enrollment_floor
    assert floor is not None
    assert below_floor(floor, paid=949, base=1000)  # 94.9%
    assert below_floor(floor, paid=18999, base=20000)  # 94.995%, shown rounded as 95.00%


def test_nothing_to_measure_against_is_not_below() -> None:
    floor = get_policy("bishan-bicheng-2023").data.enrollment_floor
    assert floor is not None
    assert not below_floor(floor, paid=0, base=0)
