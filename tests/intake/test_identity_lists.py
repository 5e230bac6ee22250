"""Departments' identity lists (issue 12, point 3): staged, diffed, confirmed by an office.

Policy: Bishan 2023 (璧城街道办发〔2022〕36号), whose multi-identity rule is an explicit order
(五（一）5) and whose monthly lists have windows (五（二）1（2））.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.records import factories as f
from tests.transfer.conftest import write_csv, write_xlsx
from tests.transfer.sheets import broken
from yibao.collection.models import StaffMember
from yibao.core.errors import ApplicationError
from yibao.intake.models import IdentityList, IdentityListEntry
from yibao.intake.services import (
    ListHeader,
    identity_list_confirm,
    identity_list_discard,
    identity_list_stage,
)
from yibao.registry.models import District, IdentityTag, Township, Village

BISHAN = "bishan-bicheng-2023"
HEADER = ["姓名", "身份证号", "身份类别", "有效期起", "有效期止"]


@pytest.fixture
def people(town):
    return {
        name: f.person(town.sanhe if i % 2 else town.dashan, name=name)
        for i, name in enumerate(["甲", "乙", "丙", "丁", "戊"])
    }


def header(batch: str, day: str, department: str = "区民政局") -> ListHeader:
    return ListHeader(
        department=department, batch=batch, list_date=dt.date.fromisoformat(day), policy_id=BISHAN
    )


def changes(identity_list: IdentityList) -> dict[str, str]:
    return {e.name: e.change for e in identity_list.entries.all()}


def test_two_monthly_lists_give_new_changed_and_ended_and_nothing_counts_before_confirmation(
    town, people, tmp_path
):
    p = people
    unregistered = f.id_number()
    january = [
        HEADER,
        ["甲", p["甲"].id_number, "低保对象", "", ""],
        ["乙", p["乙"].id_number, "特困人员", "", ""],
        ["丙", p["丙"].id_number, "低保对象", "", ""],
        ["丁", p["丁"].id_number, "低保边缘户", "", ""],
        ["外人", unregistered, "低保对象", "", ""],
        ["错号", broken(p["戊"].id_number), "低保对象", "", ""],
    ]
    first = identity_list_stage(
        actor=town.office,
        path=write_csv(tmp_path / "民政2023-01.csv", january, encoding="gbk"),
        header=header("2023-01", "2023-01-05"),
    )
    assert first.counts == {"new": 4, "unknown_person": 1, "invalid": 1}
    assert not IdentityTag.objects.exists()  # staged: nothing takes effect
    identity_list_confirm(actor=town.office, identity_list=first)
    assert IdentityTag.objects.count() == 4

    february = [
        HEADER,
        ["甲", p["甲"].id_number, "低保对象", "", ""],
        ["乙", p["乙"].id_number, "低保对象", "", ""],
        ["丙", p["丙"].id_number, "低保对象", "", "2023-06-30"],
        ["戊", p["戊"].id_number, "低保对象", "2023-02-01", "2023-12-31"],
    ]
    second = identity_list_stage(
        actor=town.office,
        path=write_xlsx(tmp_path / "民政2023-02.xlsx", february),
        header=header("2023-02", "2023-02-05"),
    )

    assert second.previous == first
    # 丁 and the unregistered 外人 were on January's list and are not on February's.
    assert second.counts == {"new": 1, "changed": 2, "unchanged": 1, "ended": 2}
    assert changes(second) == {
        "甲": "unchanged",
        "乙": "changed",
        "丙": "changed",
        "丁": "ended",
        "戊": "new",
        "外人": "ended",
    }
    details = {e.name: e.detail for e in second.entries.all()}
    assert details["乙"] == "身份类别：特困人员 → 低保对象"
    assert details["丙"] == "有效期：—至— → —至2023-06-30"
    assert not IdentityTag.objects.filter(person=p["戊"]).exists()
    assert IdentityTag.objects.get(person=p["丁"]).valid_to is None

    identity_list_confirm(actor=town.office, identity_list=second)

    tag = IdentityTag.objects.get(person=p["戊"])
    assert (tag.category_key, tag.department, tag.source_batch) == (
        "低保对象",
        "区民政局",
        "区民政局:2023-02",
    )
    assert (tag.valid_from, tag.valid_to) == (dt.date(2023, 2, 1), dt.date(2023, 12, 31))
    assert IdentityTag.objects.get(person=p["丁"]).valid_to == dt.date(2023, 2, 4)
    assert IdentityTag.objects.get(person=p["乙"], category_key="特困人员").valid_to == dt.date(
        2023, 2, 4
    )
    assert IdentityTag.objects.get(person=p["乙"], category_key="低保对象").valid_to is None
    assert [t.valid_to for t in IdentityTag.objects.filter(person=p["丙"]).order_by("id")] == [
        dt.date(2023, 2, 4),
        dt.date(2023, 6, 30),
    ]
    assert not IdentityTag.objects.filter(person__name="外人").exists()


def test_an_entry_past_its_categorys_window_is_flagged(town, people, tmp_path):
    rows = [
        HEADER,
        ["甲", people["甲"].id_number, "城乡重度（一二级）残疾人员", "", ""],
        ["乙", people["乙"].id_number, "低保对象", "", ""],
        ["丙", people["丙"].id_number, "三、四级残疾人员", "", ""],
    ]
    staged = identity_list_stage(
        actor=town.office,
        path=write_xlsx(tmp_path / "残联2023-07.xlsx", rows),
        header=header("2023-07", "2023-07-08", department="区残联"),
    )
    flags = {e.name: e.flags for e in staged.entries.all()}
    assert flags["乙"] == []
    assert len(flags["甲"]) == 1
    assert "名单日期2023-07-08已过“城乡重度（一二级）残疾人员”的资助期限" in flags["甲"][0]
    assert "即日起至2023年6月底" in flags["甲"][0]
    assert flags["丙"] == [
        "名单日期2023-07-08晚于“三、四级残疾人员”的认定截止日2022-12-20"
        "（璧城街道办发〔2022〕36号 五（一）4）：此后认定的不予资助"
    ]


def test_the_review_shows_the_policys_order_for_a_person_with_several_identities(db, tmp_path):
    # A 璧城 resident: 城乡重度（一二级）残疾人员 is a category of the person's own township's
    # policy (the tag service's check runs at staging).
    township = Township.objects.create(
        district=District.objects.create(name="璧山区", code="500120"), name="璧城街道"
    )
    person = f.person(Village.objects.create(township=township, name="东林社区"), name="甲")
    office = f.user("bicheng", role=StaffMember.Role.TOWNSHIP, township=township)
    f.tag(person, "低保对象", department="区民政局")
    rows = [HEADER, ["甲", person.id_number, "城乡重度（一二级）残疾人员", "", ""]]
    staged = identity_list_stage(
        actor=office,
        path=write_xlsx(tmp_path / "残联.xlsx", rows),
        header=header("2023-01", "2023-01-10", department="区残联"),
    )
    entry = staged.entries.get()
    assert entry.applied.startswith("城乡重度（一二级）残疾人员（第2顺位）、低保对象（第3顺位）")
    assert "适用“城乡重度（一二级）残疾人员”" in entry.applied


def test_only_an_office_of_the_township_stages_and_confirms(town, people, tmp_path):
    path = write_xlsx(tmp_path / "l.xlsx", [HEADER, ["甲", people["甲"].id_number, "低保对象"]])
    with pytest.raises(ApplicationError) as error:
        identity_list_stage(actor=town.sanhe_collector, path=path, header=header("1", "2023-01-05"))
    assert error.value.code == "office_required"
    staged = identity_list_stage(actor=town.office, path=path, header=header("1", "2023-01-05"))
    bishan = District.objects.create(name="璧山区", code="500120")
    other = Township.objects.create(district=bishan, name="璧城街道")
    stranger = f.user("bicheng", role=StaffMember.Role.TOWNSHIP, township=other)
    with pytest.raises(ApplicationError) as error:
        identity_list_confirm(actor=stranger, identity_list=staged)
    assert error.value.code == "not_found"
    assert not IdentityTag.objects.exists()


def test_a_batch_is_staged_once_until_discarded_and_a_stale_list_is_not_confirmed(
    town, people, tmp_path
):
    path = write_xlsx(tmp_path / "l.xlsx", [HEADER, ["甲", people["甲"].id_number, "低保对象"]])
    one = identity_list_stage(actor=town.office, path=path, header=header("2023-01", "2023-01-05"))
    with pytest.raises(ApplicationError) as error:
        identity_list_stage(actor=town.office, path=path, header=header("2023-01", "2023-01-05"))
    assert error.value.code == "list_exists"
    identity_list_discard(actor=town.office, identity_list=one, reason="重发")
    again = identity_list_stage(
        actor=town.office, path=path, header=header("2023-01", "2023-01-05")
    )
    later = identity_list_stage(
        actor=town.office, path=path, header=header("2023-02", "2023-02-05")
    )
    identity_list_confirm(actor=town.office, identity_list=later)

    with pytest.raises(ApplicationError) as error:
        identity_list_confirm(actor=town.office, identity_list=again)

    assert error.value.code == "list_stale"
    assert IdentityListEntry.objects.filter(identity_list=again, tag__isnull=False).count() == 0


def test_the_lists_command_stages_with_a_progress_bar_and_confirms(town, people, tmp_path, capsys):
    from yibao.cli import main

    path = write_xlsx(tmp_path / "l.xlsx", [HEADER, ["甲", people["甲"].id_number, "低保对象"]])
    status = main(
        [
            "lists", "identity", "stage", str(path), "--department", "区民政局",
            "--batch", "2023-01", "--date", "2023-01-05", "--policy", BISHAN, "--user", "office",
        ]
    )  # fmt: skip
    out = capsys.readouterr()
    assert status == 0
    assert "读取 [##############################] 1/1" in out.err
    assert "区民政局2023-01（2023-01-05，待确认）：新增1" in out.out
    list_id = IdentityList.objects.get().pk
    assert main(["lists", "identity", "confirm", str(list_id), "--user", "office"]) == 0
    assert "已确认" in capsys.readouterr().out
    assert IdentityTag.objects.get().person == people["甲"]


def test_a_list_entry_keeps_its_number_encrypted_and_reads_it_back(town, people, tmp_path):
    from django.db import connection

    unregistered = f.id_number()
    staged = identity_list_stage(
        actor=town.office,
        path=write_csv(
            tmp_path / "民政2023-01.csv",
            [HEADER, ["外人", unregistered, "低保对象", "", ""]],
            encoding="utf-8",
        ),
        header=header("2023-01", "2023-01-05"),
    )
    (entry,) = staged.entries.all()
    assert entry.id_number == unregistered and entry.person is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM intake_identitylistentry WHERE id = %s", [entry.pk])
        row = " ".join(
            bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v)
            for v in cursor.fetchone()
        )
    assert "外人" in row and unregistered not in row and unregistered[-6:] not in row


def test_a_row_whose_category_the_persons_township_does_not_know_is_invalid_before_confirmation(
    town, people, tmp_path
):
    # 三江街道's policy (三江街发〔2022〕139号 附件1) has no 城乡重度（一二级）残疾人员: the tag
    # service would refuse it, so staging reports it per row and confirmation writes nothing.
    rows = [
        HEADER,
        ["甲", people["甲"].id_number, "城乡重度（一二级）残疾人员", "", ""],
        ["乙", people["乙"].id_number, "低保对象", "", ""],
    ]
    staged = identity_list_stage(
        actor=town.office,
        path=write_xlsx(tmp_path / "残联.xlsx", rows),
        header=header("2023-01", "2023-01-10", department="区残联"),
    )
    entries = {e.name: e for e in staged.entries.all()}
    assert entries["甲"].change == "invalid"
    assert "三江街道的政策" in entries["甲"].detail
    assert "没有身份类别“城乡重度（一二级）残疾人员”" in entries["甲"].detail
    assert entries["乙"].change == "new"
    identity_list_confirm(actor=town.office, identity_list=staged)
    assert [t.category_key for t in IdentityTag.objects.order_by("id")] == ["低保对象"]
