"""Importing a target table as printed, the policy engine's check before acceptance, and
target reductions (核减) with their evidence, audited and reversible."""

from __future__ import annotations

import csv
import datetime as dt

import openpyxl
import pytest

from tests.records import factories as f
from yibao.campaign.models import TargetTable
from yibao.campaign.services import (
    target_reduction_record,
    target_reduction_revoke,
    target_table_accept,
    target_table_discard,
    target_table_import,
)
from yibao.collection.selectors import village_progress
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog

AIKOU = "xiushan-aikou-2023"
# 隘口府发〔2022〕50号 附件1, typed as printed (坝芒村 3327 - 61 printed as 3226; the
# should-enroll total printed as 23171).
AIKOU_HEADER = [
    "序号",
    "村（社区）",
    "各村人口数（按村报人数和户籍人数的平均）",
    "参加职工医保人数",
    "2023年应参加居民医保人数",
    "2023年居民医保任务数（按应参保人数95%计算）",
]
AIKOU_ROWS = [
    [1, "隘口居委", 2848, 105, 2743, 2606],
    [2, "平所村", 2676, 50, 2626, 2495],
    [3, "新院村", 2745, 53, 2692, 2557],
    [4, "屯堡村", 1838, 30, 1808, 1718],
    [5, "凉桥村", 1628, 28, 1600, 1520],
    [6, "坝芒村", 3327, 61, 3226, 3102],
    [7, "百岁村", 2289, 42, 2247, 2135],
    [8, "岑龙村", 2086, 34, 2052, 1950],
    [9, "东坪村", 1613, 28, 1585, 1506],
    [10, "富裕村", 1274, 17, 1257, 1195],
    [11, "太阳山村", 1314, 19, 1295, 1230],
    ["", "合计", 23638, 467, 23171, 22014],
]


def write_xlsx(path, rows, title="隘口镇2023年城乡居民医保参保目标任务分解表"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([title])
    sheet.append([])
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_importing_aikous_table_shows_its_two_arithmetic_errors_before_acceptance(aikou, tmp_path):
    path = write_xlsx(tmp_path / "附件1.xlsx", [AIKOU_HEADER, *AIKOU_ROWS])
    table = target_table_import(actor=aikou.office, policy_id=AIKOU, path=path)
    assert table.status == TargetTable.Status.DRAFT
    errors = [x["message"] for x in table.findings if x["level"] == "error"]
    assert len(errors) == 2
    assert "坝芒村" in errors[0] and "3226" in errors[0] and "3266" in errors[0]
    assert "23171" in errors[1] and "23131" in errors[1]
    warnings = [x["message"] for x in table.findings if x["level"] == "warning"]
    assert any("23163" in w for w in warnings)  # the body text's figure
    # The published figures stand: kept exactly as printed.
    bamang = table.rows.get(village__name="坝芒村")
    assert (bamang.target, bamang.should_enroll) == (3102, 3226)
    assert bamang.values["population"] == 3327


def test_progress_uses_the_accepted_table_and_not_a_draft(aikou, tmp_path):
    rows = [AIKOU_HEADER, *AIKOU_ROWS]
    rows[6] = [6, "坝芒村", 3327, 61, 3226, 3000]  # a draft that says 3000
    table = target_table_import(
        actor=aikou.office, policy_id=AIKOU, path=write_xlsx(tmp_path / "t.xlsx", rows)
    )
    progress = {r.name: r for r in village_progress(actor=aikou.office, policy_id=AIKOU)}
    assert progress["坝芒村"].target == 3102  # the policy file's table until one is accepted
    target_table_accept(actor=aikou.office, table=table)
    progress = {r.name: r for r in village_progress(actor=aikou.office, policy_id=AIKOU)}
    assert progress["坝芒村"].target == 3000
    assert progress["坝芒村"].should_enroll_published == 3226
    assert AuditLog.objects.filter(action="target_table.accept").count() == 1


def test_accepting_a_new_table_supersedes_the_old_one(aikou, tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [AIKOU_HEADER, *AIKOU_ROWS])
    first = target_table_accept(
        actor=aikou.office,
        table=target_table_import(actor=aikou.office, policy_id=AIKOU, path=path),
    )
    second = target_table_accept(
        actor=aikou.office,
        table=target_table_import(actor=aikou.office, policy_id=AIKOU, path=path),
    )
    first.refresh_from_db()
    assert (first.status, second.status) == ("superseded", "accepted")
    with pytest.raises(ApplicationError) as error:
        target_table_accept(actor=aikou.office, table=first)
    assert error.value.code == "not_a_draft"


def test_a_csv_in_gbk_is_read_too(aikou, tmp_path):
    path = tmp_path / "附件1.csv"
    with path.open("w", encoding="gbk", newline="") as handle:
        csv.writer(handle).writerows([AIKOU_HEADER, *AIKOU_ROWS])
    table = target_table_import(actor=aikou.office, policy_id=AIKOU, path=path)
    assert table.rows.count() == 11
    assert len([x for x in table.findings if x["level"] == "error"]) == 2


def test_a_village_the_township_does_not_have_is_refused(aikou, tmp_path):
    rows = [AIKOU_HEADER, *AIKOU_ROWS]
    rows[1] = [1, "隘口社区", 2848, 105, 2743, 2606]
    with pytest.raises(ApplicationError) as error:
        target_table_import(
            actor=aikou.office, policy_id=AIKOU, path=write_xlsx(tmp_path / "t.xlsx", rows)
        )
    assert error.value.code == "unknown_village" and "隘口社区" in error.value.message
    assert not TargetTable.objects.exists()


def test_a_village_collector_cannot_import_or_accept_targets(aikou, tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [AIKOU_HEADER, *AIKOU_ROWS])
    with pytest.raises(ApplicationError) as error:
        target_table_import(actor=aikou.collector, policy_id=AIKOU, path=path)
    assert error.value.code == "office_required"
    table = target_table_import(actor=aikou.office, policy_id=AIKOU, path=path)
    with pytest.raises(ApplicationError):
        target_table_accept(actor=aikou.collector, table=table)
    target_table_discard(actor=aikou.office, table=table)
    assert TargetTable.objects.get().status == "discarded"


# --- reductions ----------------------------------------------------------------------------

SANJIANG = f.POLICY


def test_a_reduction_needs_evidence_and_out_of_city_its_coverage_period(town):
    person = f.person(town.sanhe, name="外出务工")
    with pytest.raises(ApplicationError) as error:
        target_reduction_record(
            actor=town.office,
            person=person,
            policy_id=SANJIANG,
            scope="out_of_city",
            insured_where="广东省东莞市",
            evidence="",
        )
    assert error.value.code == "evidence_required"
    assert "佐证材料" in error.value.message and "参保期" in error.value.message


def test_a_reduction_lowers_the_target_and_revoking_it_restores_it(town, settings):
    person = f.person(town.sanhe, name="外地参保")
    settings.YIBAO_TODAY = "2022-11-20"
    reduction = target_reduction_record(
        actor=town.office,
        person=person,
        policy_id=SANJIANG,
        scope="out_of_city",
        insured_where="广东省东莞市",
        evidence="东莞市医保局参保证明（2023年度）",
        coverage_from=dt.date(2023, 1, 1),
        coverage_to=dt.date(2023, 12, 31),
    )
    rows = {r.name: r for r in village_progress(actor=town.office, policy_id=SANJIANG)}
    assert (rows["三河街社区"].target_published, rows["三河街社区"].reductions) == (1450, 1)
    assert rows["三河街社区"].target == 1449
    with pytest.raises(ApplicationError) as error:
        target_reduction_record(
            actor=town.office,
            person=person,
            policy_id=SANJIANG,
            scope="in_city",
            insured_where="綦江区某公司",
            evidence="职工医保参保证明",
        )
    assert error.value.code == "already_reduced"
    settings.YIBAO_TODAY = "2022-12-01"
    target_reduction_revoke(actor=town.office, reduction=reduction, reason="证明不属实")
    rows = {r.name: r for r in village_progress(actor=town.office, policy_id=SANJIANG)}
    assert rows["三河街社区"].target == 1450
    # A bulletin for a day in between still sees the reduction in force.
    on_day = {
        r.name: r
        for r in village_progress(actor=town.office, policy_id=SANJIANG, on=dt.date(2022, 11, 25))
    }
    assert on_day["三河街社区"].target == 1449
    actions = list(
        AuditLog.objects.filter(action__startswith="target_reduction")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["target_reduction.record", "target_reduction.revoke"]
    reduction.refresh_from_db()
    assert reduction.revoke_reason == "证明不属实" and reduction.evidence


def test_a_collector_cannot_reduce_targets(town):
    with pytest.raises(ApplicationError) as error:
        target_reduction_record(
            actor=town.sanhe_collector,
            person=f.person(town.sanhe),
            policy_id=SANJIANG,
            scope="in_city",
            insured_where="綦江区某公司",
            evidence="职工医保参保证明",
        )
    assert error.value.code == "office_required"
