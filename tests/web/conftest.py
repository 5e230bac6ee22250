"""Pages through Django's test client, signed in as named users of 三江街道.

- ``sanhe``: the collector of 三河街社区; ``dashan``: the collector of 大山村
- ``office``: the township office of 三江街道; ``bureau``: the district; ``auditor``
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import Client

from tests.records import factories as f
from yibao.collection.models import StaffMember


@pytest.fixture(autouse=True)
def campaign_day(settings):
    settings.YIBAO_TODAY = f.CAMPAIGN_DAY.isoformat()
    return f.CAMPAIGN_DAY


@pytest.fixture
def town(db):
    villages = f.area()
    sanhe, dashan = villages["三河街社区"], villages["大山村"]
    township = sanhe.township
    return SimpleNamespace(
        sanhe=sanhe,
        dashan=dashan,
        township=township,
        sanhe_collector=f.user("sanhe", villages=(sanhe,)),
        dashan_collector=f.user("dashan", villages=(dashan,)),
        office=f.user("office", role=StaffMember.Role.TOWNSHIP, township=township),
        auditor=f.user("auditor", role=StaffMember.Role.AUDITOR, township=township),
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def sanhe(town) -> Client:
    return client_for(town.sanhe_collector)


@pytest.fixture
def dashan(town) -> Client:
    return client_for(town.dashan_collector)


@pytest.fixture
def office(town) -> Client:
    return client_for(town.office)


@pytest.fixture
def auditor(town) -> Client:
    return client_for(town.auditor)
