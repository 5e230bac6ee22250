"""政策 and 政策补充文件 pages: what a quote rests on, and the district's supplement form."""

from __future__ import annotations

import re

import pytest

from tests.records import factories as f
from tests.records.test_policy_supplements import SUPPLEMENT
from yibao.collection.models import PolicySupplement, StaffMember
from yibao.registry.models import District

from .conftest import client_for


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def tongnan_bureau(db):
    district = District.objects.create(name="潼南区", code="500152")
    return client_for(f.user("tongnan_bureau", role=StaffMember.Role.DISTRICT, district=district))


def test_the_township_sees_its_own_policy_with_city_rules_findings_and_decisions(office):
    response = office.get("/policy/")
    assert response.status_code == 200
    text = _text(response)
    # 三江街道's campaign policy, its annex and the city rules it inherits
    assert "三江街发〔2022〕139号" in text and "一档的90%" in text
    assert "同一年度的市级规则" in text and "[适用]" in text
    assert "产品决定：只有璧城街道办发〔2022〕36号写明此期限" in text
    assert "线下缴费" in text and "三江街发〔2022〕139号 三（二）2" in text


def test_tongnans_page_shows_its_override_and_its_finding(office):
    text = _text(office.get("/policy/?id=tongnan-2023"))
    assert "[本政策文件写明不适用]" in text
    assert "潼南的最迟缴费日2023年9月30日对低收入人口和脱贫人口不设例外" in text
    assert "未载入补充文件" in text


def test_a_collector_may_not_open_the_policy_pages(sanhe):
    assert sanhe.get("/policy/").status_code == 403
    assert sanhe.get("/policy/supplements/").status_code == 403


def test_the_township_may_not_load_a_supplement(office):
    assert office.get("/policy/supplements/").status_code == 403


def test_the_district_loads_a_supplement_and_the_policy_page_lists_it(tongnan_bureau):
    form = tongnan_bureau.get("/policy/supplements/")
    assert form.status_code == 200 and "校验并载入" in _text(form)
    response = tongnan_bureau.post(
        "/policy/supplements/", {"text": SUPPLEMENT, "note": "区医保局提供"}, follow=True
    )
    assert response.status_code == 200
    text = _text(response)
    assert "已载入tongnan-2023的补充文件第1版" in text
    assert "第1版：潼南府办发〔2021〕77号" in text
    assert PolicySupplement.objects.count() == 1


def test_a_bad_supplement_is_refused_beside_the_field_and_the_text_is_kept(tongnan_bureau):
    bad = SUPPLEMENT.replace('key = "特困人员"', 'key = "特困户"')
    response = tongnan_bureau.post("/policy/supplements/", {"text": bad})
    assert response.status_code == 400
    text = _text(response)
    assert 'data-test="error"' in text and "特困户" in text
    assert "潼南府办发〔2021〕77号（区医保局提供的文本）" in text  # nothing lost
    assert not PolicySupplement.objects.exists()


def test_the_policy_page_states_the_office_decision_pre_enrollment_and_graduates(office):
    tongnan = _text(office.get("/policy/?id=tongnan-2023"))
    assert "街道社保所或区医保局可逐人决定先按普通居民全额缴费参保（不享受资助" in tongnan
    bishan = _text(office.get("/policy/?id=bishan-bicheng-2023"))
    assert "职工医保等待期内为预参保，享受居民医保待遇" in bishan
    assert "（璧城街道办发〔2022〕36号 八）" in bishan
    assert "当年毕业的在渝高校大学生待遇享受期延至2023年12月31日" in bishan
