"""A missing document becomes data: Tongnan's subsidy amounts (潼南府办发〔2021〕77号, cited by
潼医保发〔2022〕36号 四（三）) loaded by the district office as a versioned, audited supplement.

The amounts in the supplement below are a test's stand-in for the district's text; the point
is that the ledger quotes from the loaded data, refuses before it, and validates it.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from yibao.cli import main
from yibao.collection.models import PolicySupplement, StaffMember
from yibao.collection.services import payment_record, policy_engine, policy_supplement_load
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.models import District, Township, Village
from yibao.registry.services import identity_tag_add

from . import factories as f

TONGNAN = "tongnan-2023"
SUPPLEMENT = """
policy = "tongnan-2023"
document = "潼南府办发〔2021〕77号"
cite = "潼南府办发〔2021〕77号（区医保局提供的文本）"

[[identities]]
key = "特困人员"
cite = "潼南府办发〔2021〕77号"
tier1 = { kind = "published", subsidy = "350", personal = "0" }
tier2 = { kind = "published", subsidy = "350", personal = "375" }
"""


@pytest.fixture
def tongnan(db):
    district = District.objects.create(name="潼南区", code="500152")
    township = Township.objects.create(district=district, name="桂林街道")
    village = Village.objects.create(township=township, name="金佛社区", seq=1)
    return (
        village,
        f.user("tongnan_bureau", role=StaffMember.Role.DISTRICT, district=district),
        f.user("guilin_office", role=StaffMember.Role.TOWNSHIP, township=township),
    )


def _hardship_person(village, office):
    person = f.person(village, name="特困甲")
    identity_tag_add(actor=office, person=person, category_key="特困人员", department="区民政局")
    return person


def _pay(actor, person, amount):
    return payment_record(
        actor=actor,
        person=person,
        policy_id=TONGNAN,
        tier=1,
        amount=Decimal(amount),
        channel="cash",
    )


def test_before_the_supplement_a_tongnan_hardship_person_is_refused_naming_the_document(tongnan):
    village, _bureau, office = tongnan
    person = _hardship_person(village, office)
    with pytest.raises(ApplicationError) as error:
        _pay(office, person, "0")
    assert error.value.code == "subsidy_rule_missing"
    assert "潼南府办发〔2021〕77号" in error.value.message


def test_the_district_office_loads_the_supplement_and_the_ledger_quotes_from_it(tongnan):
    village, bureau, office = tongnan
    record = policy_supplement_load(actor=bureau, text=SUPPLEMENT, note="区医保局提供")
    assert (record.policy_id, record.version, record.document) == (
        TONGNAN,
        1,
        "潼南府办发〔2021〕77号",
    )
    entry = AuditLog.objects.get(action="policy_supplement.load")
    assert entry.after["version"] == 1 and entry.after["sha256"] == record.sha256
    payment = _pay(office, _hardship_person(village, office), "0")
    assert payment.is_zero_declaration
    assert payment.enrollment.subsidy == Decimal("350")
    shown = policy_engine(TONGNAN).describe()
    assert any("补充文件第1版" in d["value"] for d in shown["decisions"])


def test_each_load_is_a_new_version_and_the_latest_applies(tongnan):
    village, bureau, office = tongnan
    policy_supplement_load(actor=bureau, text=SUPPLEMENT)
    second = policy_supplement_load(
        actor=bureau,
        text=SUPPLEMENT.replace(
            'subsidy = "350", personal = "0"', 'subsidy = "315", personal = "35"'
        ),
    )
    assert second.version == 2 and PolicySupplement.objects.count() == 2
    assert _pay(office, _hardship_person(village, office), "35").amount == Decimal("35")


def test_only_the_policys_district_office_loads_a_supplement(tongnan, town):
    _village, _bureau, office = tongnan
    for actor in (office, town.sanhe_collector):
        with pytest.raises(ApplicationError) as error:
            policy_supplement_load(actor=actor, text=SUPPLEMENT)
        assert error.value.code == "office_required"
    with pytest.raises(ApplicationError) as error:
        policy_supplement_load(actor=town.bureau, text=SUPPLEMENT)  # 綦江区医保局
    assert error.value.code == "district_mismatch"
    assert not PolicySupplement.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                'tier1 = { kind = "published", subsidy = "350", personal = "0" }',
                'tier1 = { kind = "fixed", amount = "400" }',
            ),
            "超过缴费标准",
        ),
        (('subsidy = "350", personal = "375"', 'subsidy = 350.0, personal = "375"'), "浮点数"),
        (('key = "特困人员"', 'key = "特困户"'), "特困户"),
        (('document = "潼南府办发〔2021〕77号"', 'document = "潼南府办发〔2020〕1号"'), "依据文件"),
        (("cite = ", "source = "), "cite"),
    ],
)
def test_a_supplement_is_validated_like_a_shipped_file(tongnan, change, message):
    _village, bureau, _office = tongnan
    with pytest.raises(ApplicationError) as error:
        policy_supplement_load(actor=bureau, text=SUPPLEMENT.replace(*change, 1))
    assert error.value.code.startswith("policy_file")
    assert message in error.value.message
    assert not PolicySupplement.objects.exists()


def test_a_supplement_cannot_rewrite_what_a_shipped_file_states(town):
    text = SUPPLEMENT.replace("tongnan-2023", "qijiang-sanjiang-2023").replace(
        "潼南府办发〔2021〕77号", "三江街发〔2022〕139号"
    )
    with pytest.raises(ApplicationError) as error:
        policy_supplement_load(actor=town.bureau, text=text)
    assert error.value.code == "policy_file_invalid" and "不能改写" in error.value.message


def test_yibao_policy_load_loads_a_file_as_the_named_user(tongnan, tmp_path, capsys):
    path = tmp_path / "77.toml"
    path.write_text(SUPPLEMENT, encoding="utf-8")
    assert main(["policy", "load", str(path), "--user", "tongnan_bureau", "--json"]) == 0
    assert '"version": 1' in capsys.readouterr().out
    assert main(["policy", "load", str(path), "--user", "guilin_office"]) == 2
    assert PolicySupplement.objects.count() == 1


def test_yibao_policy_show_shows_the_policy_the_ledger_applies_with_its_supplement_marked(
    tongnan, capsys
):
    _village, bureau, _office = tongnan
    policy_supplement_load(actor=bureau, text=SUPPLEMENT, note="区医保局提供")
    assert main(["policy", "show", TONGNAN]) == 0
    shown = capsys.readouterr().out
    assert "【台账执行版】随系统发布的政策文件＋补充文件第1版（潼南府办发〔2021〕77号）" in shown
    assert "【现行】第1版　潼南府办发〔2021〕77号" in shown
    row = next(line for line in shown.splitlines() if line.startswith("特困人员"))
    assert "350.00" in row and "见潼南府办发〔2021〕77号" not in row
    assert main(["policy", "show", TONGNAN, "--shipped"]) == 0
    shipped = capsys.readouterr().out
    assert "台账执行版" not in shipped
    row = next(line for line in shipped.splitlines() if line.startswith("特困人员"))
    assert "见潼南府办发〔2021〕77号" in row


def test_yibao_policy_show_json_lists_the_supplements_newest_first(tongnan, capsys):
    _village, bureau, _office = tongnan
    policy_supplement_load(actor=bureau, text=SUPPLEMENT)
    policy_supplement_load(
        actor=bureau, text=SUPPLEMENT.replace('personal = "375"', 'personal = "375" ')
    )
    assert main(["policy", "show", TONGNAN, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [s["version"] for s in shown["supplements"]] == [2, 1]
    assert shown["supplements"][0]["loaded_by"] == "tongnan_bureau"
