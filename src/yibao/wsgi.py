"""WSGI entry point of every production server (``gunicorn yibao.wsgi``, ``yibao serve``).

It refuses to start with the default ``SECRET_KEY`` or with DEBUG on
(:func:`yibao.serving.checks.refuse_insecure_settings`). ``yibao demo`` passes the check with
a random key kept in the data directory.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")

application = get_wsgi_application()

from yibao.serving.checks import refuse_insecure_settings  # noqa: E402  (needs Django set up)

refuse_insecure_settings()
