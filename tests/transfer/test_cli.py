import json

import openpyxl

from tests.records import factories as f
from yibao.cli import main
from yibao.registry.models import Person

from .conftest import HEADERS, member, write_csv
from .sheets import broken, resident_id


def test_the_import_command_lists_bad_rows_and_exits_1_with_nothing_imported(
    town, tmp_path, capsys
):
    rows = [
        list(HEADERS),
        member(household="", name="张三", number=resident_id(1)),
        member(household="", name="李四", number=broken(resident_id(2))),
    ]
    path = write_csv(tmp_path / "p.csv", rows, encoding="gbk")

    status = main(["import", "persons", str(path), "--user", "office"])

    out = capsys.readouterr()
    assert status == 1
    assert "3\t500222********" in out.out and "校验码不符" in out.out
    assert "其余1行本次未导入" in out.out
    assert "校验：2/2 行" in out.err  # the progress line
    assert not Person.objects.exists()


def test_the_import_command_with_import_good_rows_and_json(town, tmp_path, capsys):
    rows = [
        list(HEADERS),
        member(household="", name="张三", number=resident_id(1)),
        member(household="", name="李四", number=broken(resident_id(2))),
    ]
    path = write_csv(tmp_path / "p.csv", rows, encoding="utf-8-sig")

    status = main(
        ["import", "persons", str(path), "--user", "office", "--import-good-rows", "--json"]
    )

    data = json.loads(capsys.readouterr().out)
    assert status == 1
    assert data["persons_created"] == 1 and data["committed"] is True
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(3, "invalid_id_number")]
    assert Person.objects.get().name == "张三"


def test_the_import_command_without_a_user_is_refused(town, tmp_path, capsys):
    path = write_csv(tmp_path / "p.csv", [list(HEADERS)], encoding="utf-8")
    assert main(["import", "persons", str(path), "--user", ""]) == 2
    assert "--user" in capsys.readouterr().err


def test_the_export_command_writes_the_ledger(town, tmp_path, capsys):
    f.person(town.dashan, name="大山人")
    out = tmp_path / "大山村.xlsx"

    status = main(
        ["export", "ledger", "--village", "大山村", "--year", "2023", "--out", str(out)]
        + ["--user", "dashan"]
    )

    assert status == 0, capsys.readouterr()
    sheet = openpyxl.load_workbook(out).active
    assert sheet.cell(4, 3).value == "大山人"


def test_the_export_command_refuses_a_collector_of_another_village(town, tmp_path, capsys):
    out = tmp_path / "x.xlsx"
    status = main(
        ["export", "ledger", "--village", "三河街社区", "--year", "2023", "--out", str(out)]
        + ["--user", "dashan"]
    )
    assert status == 2 and not out.exists()
    assert "未知的村（社区）“三河街社区”" in capsys.readouterr().err
