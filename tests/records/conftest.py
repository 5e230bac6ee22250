"""Fixtures for the record tests: the campaign date and a township with users."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

from yibao.collection.models import StaffMember
from yibao.registry.models import District, Township, Village

from . import factories as f

TRIGGERS = importlib.import_module("yibao.core.migrations.0002_auditlog_append_only_triggers")


@pytest.fixture(autouse=True)
def campaign_day(settings):
    """Sanjiang's collection period: the shipped policy is for benefit year 2023."""
    settings.YIBAO_TODAY = f.CAMPAIGN_DAY.isoformat()
    return f.CAMPAIGN_DAY


@pytest.fixture
def town(db):
    villages = f.area()
    sanhe, dashan, wuli = villages["三河街社区"], villages["大山村"], villages["五里村"]
    return SimpleNamespace(
        sanhe=sanhe,
        dashan=dashan,
        wuli=wuli,
        township=sanhe.township,
        district=sanhe.township.district,
        sanhe_collector=f.user("sanhe", villages=(sanhe,)),
        dashan_collector=f.user("dashan", villages=(dashan,)),
        office=f.user("office", role=StaffMember.Role.TOWNSHIP, township=sanhe.township),
        bureau=f.user("bureau", role=StaffMember.Role.DISTRICT, district=sanhe.township.district),
    )


def purge_audit_log() -> None:
    """Test-only: empty the append-only audit table (the trigger lifted on SQLite).

    No longer needed for flushing (tests/conftest.py makes Django's SQLite flush lift the
    trigger itself); kept for the fixtures that call it.
    """
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS core_auditlog_no_delete")
        cursor.execute("DELETE FROM core_auditlog")
        for sql in TRIGGERS.SQLITE_FORWARD:
            cursor.execute(sql)


@pytest.fixture
def ledger_transactional_db(transactional_db):
    yield
    purge_audit_log()


@pytest.fixture
def bicheng(db):
    """璧城街道 (璧山区): a village and the township office."""
    district = District.objects.create(name="璧山区", code="500120")
    township = Township.objects.create(district=district, name="璧城街道")
    village = Village.objects.create(township=township, name="东林社区", seq=1)
    return village, f.user("bicheng_office", role=StaffMember.Role.TOWNSHIP, township=township)
