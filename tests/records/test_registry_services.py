import datetime as dt

import pytest

from yibao.collection.models import Enrollment
from yibao.collection.services import enrollment_create
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.idcrypto import id_digest
from yibao.registry.models import Household, IdentityTag, Person
from yibao.registry.selectors import person_list
from yibao.registry.services import (
    PersonData,
    household_register,
    identity_tag_add,
    other_insurance_record,
    person_mark_deceased,
    person_register,
)

from . import factories as f


def test_registering_a_person_derives_birth_date_and_sex_from_the_id_number(town):
    number = f.id_number(birth=dt.date(1975, 3, 9), female=True)
    person = person_register(
        actor=town.sanhe_collector, hukou_village=town.sanhe, id_number=number, name="王芳"
    )
    assert person.birth_date == dt.date(1975, 3, 9)
    assert person.sex == Person.Sex.FEMALE
    assert AuditLog.objects.filter(action="person.register", object_id=str(person.pk)).exists()


def test_a_person_already_registered_in_another_village_is_refused_without_naming_it(town):
    number = f.id_number()
    person_register(actor=town.office, hukou_village=town.dashan, id_number=number, name="赵六")
    with pytest.raises(ApplicationError) as error:
        person_register(
            actor=town.sanhe_collector, hukou_village=town.sanhe, id_number=number, name="赵七"
        )
    assert error.value.code == "person_exists"
    assert "赵六" not in error.value.message and "大山村" not in error.value.message
    assert "其他村（社区）" in error.value.message
    assert Person.objects.filter(id_digest=id_digest(number)).count() == 1


def test_the_township_office_is_told_where_a_registered_person_lives(town):
    number = f.id_number()
    person_register(actor=town.office, hukou_village=town.dashan, id_number=number, name="赵六")
    with pytest.raises(ApplicationError) as error:
        person_register(actor=town.office, hukou_village=town.sanhe, id_number=number, name="赵六")
    assert "赵六" in error.value.message and "大山村" in error.value.message


def test_an_invalid_id_number_is_refused_and_nothing_is_written(town):
    number = f.id_number()
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(ApplicationError) as error:
        person_register(actor=town.office, hukou_village=town.sanhe, id_number=bad, name="钱七")
    assert error.value.code == "invalid_id_number"
    assert not Person.objects.exists()
    assert not AuditLog.objects.exists()


def test_a_collector_cannot_register_a_person_in_another_village(town):
    with pytest.raises(ApplicationError) as error:
        person_register(
            actor=town.sanhe_collector,
            hukou_village=town.dashan,
            id_number=f.id_number(),
            name="孙八",
        )
    assert error.value.code == "not_found"


def test_a_household_is_registered_with_its_head_and_members(town):
    household = household_register(
        actor=town.sanhe_collector,
        village=town.sanhe,
        number="500110003-0001",
        head=PersonData(id_number=f.id_number(), name="周大"),
        members=[
            PersonData(id_number=f.id_number(female=True), name="吴二", relation_to_head="配偶"),
            PersonData(id_number=f.id_number(), name="周三", relation_to_head="子"),
        ],
    )
    assert household.head.name == "周大"
    assert household.head.relation_to_head == "户主"
    assert sorted(household.members.values_list("name", flat=True)) == ["吴二", "周三", "周大"]
    assert AuditLog.objects.filter(action="household.register").count() == 1


def test_a_household_with_one_bad_member_is_not_half_registered(town):
    good = f.id_number()
    with pytest.raises(ApplicationError) as error:
        household_register(
            actor=town.sanhe_collector,
            village=town.sanhe,
            head=PersonData(id_number=good, name="郑大"),
            members=[PersonData(id_number="500222199001011230", name="郑二")],
        )
    assert error.value.code == "invalid_id_number"
    assert "郑二" in error.value.message
    assert not Household.objects.exists()
    assert not Person.objects.filter(id_digest=id_digest(good)).exists()


def test_the_same_identity_from_the_same_batch_is_tagged_once(town):
    person = f.person(town.sanhe)
    first = identity_tag_add(
        actor=town.office,
        person=person,
        category_key="低保对象",
        department="民政局",
        source_list="2022年11月低保名单",
        source_batch="2022-11",
        valid_from=dt.date(2022, 1, 1),
    )
    again = identity_tag_add(
        actor=town.office,
        person=person,
        category_key="低保对象",
        department="民政局",
        source_batch="2022-11",
    )
    assert again.pk == first.pk
    assert IdentityTag.objects.filter(person=person).count() == 1


def test_an_identity_valid_to_before_it_is_valid_from_is_refused(town):
    person = f.person(town.sanhe)
    with pytest.raises(ApplicationError) as error:
        identity_tag_add(
            actor=town.office,
            person=person,
            category_key="特困人员",
            department="民政局",
            valid_from=dt.date(2023, 1, 1),
            valid_to=dt.date(2022, 1, 1),
        )
    assert error.value.code == "invalid_window"


def test_marking_a_person_deceased_flags_their_unpaid_enrollment(town):
    person = f.person(town.sanhe)
    enrollment = enrollment_create(
        actor=town.sanhe_collector, person=person, policy_id=f.POLICY, tier=1
    )
    person_mark_deceased(actor=town.sanhe_collector, person=person, died_on=dt.date(2022, 12, 1))
    person.refresh_from_db()
    enrollment.refresh_from_db()
    assert person.status == Person.Status.DECEASED
    assert person.deceased_on == dt.date(2022, 12, 1)
    assert enrollment.status == Enrollment.Status.DECEASED


def test_a_death_date_after_the_campaign_date_is_refused(town):
    person = f.person(town.sanhe)
    with pytest.raises(ApplicationError) as error:
        person_mark_deceased(actor=town.office, person=person, died_on=dt.date(2022, 12, 6))
    assert error.value.code == "invalid_date"


def test_other_insurance_is_recorded_once_per_year(town):
    person = f.person(town.sanhe)
    first = other_insurance_record(
        actor=town.office, person=person, kind="employee", benefit_year=2023, place="綦江某公司"
    )
    again = other_insurance_record(
        actor=town.office, person=person, kind="employee", benefit_year=2023
    )
    assert first.pk == again.pk


def test_a_collector_lists_only_the_people_of_their_villages(town):
    mine = f.person(town.sanhe, name="本村人")
    lives_here = f.person(town.dashan, name="住本村", residence_village=town.sanhe)
    f.person(town.dashan, name="外村人")
    names = set(person_list(actor=town.sanhe_collector).values_list("name", flat=True))
    assert names == {mine.name, lives_here.name}
    assert person_list(actor=town.office).count() == 3
    assert person_list(actor=town.bureau).count() == 3


def test_a_collector_may_not_mark_a_hardship_identity(town):
    # 璧城街道办发〔2022〕36号 五（二）1: the township marks identities, not the village
    person = f.person(town.sanhe)
    with pytest.raises(ApplicationError) as error:
        identity_tag_add(
            actor=town.sanhe_collector, person=person, category_key="特困人员", department="民政局"
        )
    assert error.value.code == "office_required"
    assert not IdentityTag.objects.exists()


def test_a_category_unknown_to_the_townships_policy_is_refused_when_tagged(town):
    person = f.person(town.sanhe, name="代码户")
    with pytest.raises(ApplicationError) as error:
        # 101 is Wanzhou's code (万州高峰办发〔2023〕35号 附件2), not a Sanjiang category
        identity_tag_add(actor=town.office, person=person, category_key="101", department="民政局")
    assert error.value.code == "unknown_identity"
    assert "代码户" in error.value.message and "三江街道" in error.value.message
    assert not IdentityTag.objects.exists()


def test_an_office_ends_an_identity_tag_with_a_reason_and_a_collector_may_not(town):
    from yibao.core.models import AuditLog
    from yibao.registry.services import identity_tag_end

    person = f.person(town.sanhe)
    tag = identity_tag_add(
        actor=town.office, person=person, category_key="低保对象", department="民政局"
    )
    with pytest.raises(ApplicationError) as error:
        identity_tag_end(
            actor=town.sanhe_collector, tag=tag, ended_on=dt.date(2022, 12, 31), reason="退出低保"
        )
    assert error.value.code == "office_required"
    ended = identity_tag_end(
        actor=town.office, tag=tag, ended_on=dt.date(2022, 12, 31), reason="退出低保"
    )
    assert ended.valid_to == dt.date(2022, 12, 31)
    assert AuditLog.objects.get(action="identity_tag.end").after["reason"] == "退出低保"
