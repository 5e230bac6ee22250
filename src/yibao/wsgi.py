"""WSGI entry point of every production server (``gunicorn yibao.wsgi``, ``yibao serve``).

It refuses to start with the default ``SECRET_KEY`` or with DEBUG on
(:func:`yibao.serving.checks.refuse_insecure_settings`), then loads every page's and route's
code, so that no user's request waits for it. ``yibao demo`` passes the check with
a random key kept in the data directory.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")

application = get_wsgi_application()

from yibao.serving.checks import refuse_insecure_settings  # noqa: E402  (needs Django set up)

refuse_insecure_settings()

# Each server process loads the code of every page and API route before its first
# connection, not during its first request: Django loads the URL configuration, and each
# included one with the views, the API's schemas and the pinyin table behind it, only when a
# request first needs it (about 0.7 s here, paid by the first user of each process after
# every start).
from django.urls import URLResolver, get_resolver  # noqa: E402


def _load_routes(resolver: URLResolver) -> None:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            _load_routes(pattern)


_load_routes(get_resolver())
