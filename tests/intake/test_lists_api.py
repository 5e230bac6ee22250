"""The identity-list routes: upload, review, confirm; only offices of the township."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.records import factories as f
from tests.transfer.conftest import write_csv
from yibao.registry.models import IdentityTag

from .test_areas_api import API, client


def test_an_office_uploads_reviews_and_confirms_a_list_and_a_collector_cannot(town, tmp_path):
    person = f.person(town.sanhe, name="甲")
    path = write_csv(
        tmp_path / "民政.csv",
        [["姓名", "身份证号", "身份类别"], ["甲", person.id_number, "低保对象"]],
        encoding="gbk",
    )
    form = {
        "department": "区民政局",
        "batch": "2023-01",
        "list_date": "2023-01-05",
        "policy": "bishan-bicheng-2023",
    }
    upload = SimpleUploadedFile("民政.csv", path.read_bytes())

    refused = client(town.sanhe_collector).post(f"{API}/identity-lists", {**form, "file": upload})
    assert refused.status_code == 403

    office = client(town.office)
    upload = SimpleUploadedFile("民政.csv", path.read_bytes())
    staged = office.post(f"{API}/identity-lists", {**form, "file": upload})
    assert staged.status_code == 201, staged.content
    body = staged.json()
    assert body["counts"] == {"new": 1} and body["status"] == "staged"
    (entry,) = body["entries"]
    assert entry["change"] == "new" and entry["id_number"].startswith("500222********")
    assert not IdentityTag.objects.exists()

    assert client(town.sanhe_collector).get(f"{API}/identity-lists/{body['id']}").status_code == 404
    confirmed = office.post(f"{API}/identity-lists/{body['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert IdentityTag.objects.get().department == "区民政局"


def test_death_lists_and_anomalies_through_the_api_for_offices_only(town, tmp_path):
    person = f.person(town.sanhe, name="乙")
    path = write_csv(
        tmp_path / "死亡.csv",
        [["姓名", "身份证号", "死亡日期"], ["乙", person.id_number, "2022-11-01"]],
        encoding="utf-8",
    )
    body = {"kind": "death", "benefit_year": "2023"}
    upload = SimpleUploadedFile("死亡.csv", path.read_bytes())
    assert (
        client(town.sanhe_collector)
        .post(f"{API}/person-lists", {**body, "file": upload})
        .status_code
        == 403
    )
    upload = SimpleUploadedFile("死亡.csv", path.read_bytes())
    imported = client(town.office).post(f"{API}/person-lists", {**body, "file": upload})
    assert imported.status_code == 201 and imported.json()["counts"] == {"applied": 1}
    assert client(town.office).get(f"{API}/anomalies?benefit_year=2023").json() == []
    assert (
        client(town.sanhe_collector).get(f"{API}/payer-patterns?benefit_year=2023").status_code
        == 403
    )
