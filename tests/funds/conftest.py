"""Fund safety tests use the web tests' township and signed-in clients."""

from tests.web.conftest import (  # noqa: F401
    auditor,
    campaign_day,
    client_for,
    dashan,
    office,
    sanhe,
    town,
)
