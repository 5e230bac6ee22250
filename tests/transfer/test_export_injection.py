"""Free text in an export is text, never a formula (OWASP CSV injection): a name, a receipt
number or a household number beginning with ``= + - @`` or a tab is written as a string
cell, and LibreOffice (headless, converted to CSV) shows it as typed, not computed."""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.cell.cell import TYPE_STRING

from tests.records import factories as f
from yibao.collection.services import payment_record
from yibao.registry.models import Household
from yibao.transfer.exports import ledger_export

DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(1,1)", "=2*3"]


@pytest.fixture
def ledger(town, tmp_path):
    actor = town.sanhe_collector
    for i, text in enumerate(DANGEROUS):
        person = f.person(town.sanhe, name=f"注入{i}")
        person.household = Household.objects.create(village=town.sanhe, number=f"{text}#{i}")
        person.save(update_fields=["household"])
        payment_record(
            actor=actor,
            person=person,
            policy_id=f.POLICY,
            tier=1,
            amount=Decimal("350"),
            channel="cash",
            receipt_number=text,
        )
    path = tmp_path / "台账.xlsx"
    ledger_export(actor=actor, village="三河街社区", benefit_year=f.YEAR, path=path)
    return path


def test_text_beginning_with_a_formula_character_is_a_string_cell(ledger):
    sheet = openpyxl.load_workbook(ledger).active
    receipts = {}
    for row in sheet.iter_rows(min_row=4):
        by_header = {sheet.cell(3, c.column).value: c for c in row}
        cell = by_header.get("票据号")
        if cell is not None and cell.value:
            receipts[cell.value] = cell.data_type
    assert receipts == dict.fromkeys(DANGEROUS, TYPE_STRING)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_shows_the_text_as_typed_not_computed(ledger, tmp_path):
    out = tmp_path / "csv"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(out),
            str(ledger),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    (converted,) = out.glob("*.csv")
    with converted.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    headers = rows[2]
    receipts = [row[headers.index("票据号")] for row in rows[3:-1]]
    households = [row[headers.index("户号")] for row in rows[3:-1]]
    assert sorted(receipts) == sorted(DANGEROUS)  # as typed: not 2, 0, 6 or an error
    assert sorted(households) == sorted(f"{text}#{i}" for i, text in enumerate(DANGEROUS))
