"""The record tests' township (三江街道: 三河街社区, 大山村, 五里村 and their users), plus 隘口镇."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.records import factories as f
from tests.records.conftest import campaign_day, town  # noqa: F401  (fixtures)
from yibao.collection.models import StaffMember
from yibao.registry.models import District, Township, Village

AIKOU_VILLAGES = (
    "隘口居委", "平所村", "新院村", "屯堡村", "凉桥村", "坝芒村",
    "百岁村", "岑龙村", "东坪村", "富裕村", "太阳山村",
)  # fmt: skip


@pytest.fixture
def aikou(db):
    district = District.objects.create(name="秀山土家族苗族自治县", code="500241")
    township = Township.objects.create(district=district, name="隘口镇")
    villages = {
        name: Village.objects.create(township=township, name=name, seq=i)
        for i, name in enumerate(AIKOU_VILLAGES, start=1)
    }
    return SimpleNamespace(
        township=township,
        villages=villages,
        office=f.user("aikou", role=StaffMember.Role.TOWNSHIP, township=township),
        collector=f.user("bamang", villages=(villages["坝芒村"],)),
    )
