"""Django settings for yibao.

One setting picks the database: ``DATABASE_URL`` (dj-database-url syntax). Without it the
embedded default is an SQLite file ``yibao.sqlite3`` in the data directory (``var/`` under the
working directory, or ``YIBAO_DATA_DIR``), in WAL mode with IMMEDIATE transactions and a busy
timeout so that concurrent writers wait for each other instead of failing.

``YIBAO_TODAY`` (ISO date) fixes the campaign date, read only through ``yibao.core.clock``.

Serving (``yibao serve``, ``yibao demo``): gunicorn loads ``yibao.wsgi``, which refuses to start
with the default ``SECRET_KEY`` (set ``YIBAO_SECRET_KEY``) or with ``YIBAO_DEBUG=1``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url

DATA_DIR = Path(os.environ.get("YIBAO_DATA_DIR", "var")).resolve()

# The default is for tests and development only: yibao.wsgi (every production server) refuses it.
INSECURE_DEFAULT_SECRET_KEY = "yibao-dev-insecure-secret-key-change-me"
SECRET_KEY = os.environ.get("YIBAO_SECRET_KEY") or INSECURE_DEFAULT_SECRET_KEY
DEBUG = os.environ.get("YIBAO_DEBUG", "") == "1"
ALLOWED_HOSTS = [
    h for h in os.environ.get("YIBAO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "yibao.core",
    "yibao.registry",
    "yibao.collection",
    "yibao.campaign",
    "yibao.api",
    "yibao.intake",
    "yibao.funds",
    "yibao.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "yibao.core.operations.RequestMiddleware",  # request id, no-store, server errors logged
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "yibao.web.middleware.ApplicationErrorMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in with its own page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yibao.urls"
# WSGI_APPLICATION is left unset on purpose: it is read only by Django's development server
# (runserver), which then builds the plain handler. Production servers load yibao.wsgi, whose
# safety check refuses the default SECRET_KEY and DEBUG.

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yibao.web.context.web_context",
            ],
        },
    },
]

# --- sign-in ---------------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked account before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

# Failed sign-ins (django-axes): the 10th wrong password for one account locks that account
# (not the address: a village service centre's PCs share one), for one hour or until a
# township or district office unlocks it (`yibao unlock USER`, or axes_reset).
AXES_ENABLED = True
AXES_FAILURE_LIMIT = int(os.environ.get("YIBAO_LOGIN_FAILURE_LIMIT", "10"))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = 1  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_VERBOSE = False
# axes.W006 asks to lock by address too; a village service centre's PCs share one address,
# so locking it would lock the whole village out for one mistyped account.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- database -------------------------------------------------------------------------------

SQLITE_TIMEOUT_SECONDS = 30
SQLITE_INIT_COMMAND = (
    "PRAGMA journal_mode=WAL;"
    f"PRAGMA busy_timeout={SQLITE_TIMEOUT_SECONDS * 1000};"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
)


# Each gunicorn thread keeps its connection for a minute instead of opening one per request.
# PostgreSQL: a TCP and authentication round trip saved, the connection checked before reuse
# so that a server restart costs one failed check, not a failed request (the socket asked
# first, yibao.core.backends.postgresql). SQLite: opening the
# file, its PRAGMAs and closing it (the last connection to close checkpoints the WAL) took
# 1.6 ms of the 2.9 ms of CPU a `GET /api/v1/me` cost; nothing to check before reuse.
CONN_MAX_AGE_SECONDS = 60


def _database(url: str | None) -> dict[str, Any]:
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'yibao.sqlite3'}"
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=CONN_MAX_AGE_SECONDS))
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, the health check asking the socket before the server (see its
        # module).
        config["ENGINE"] = "yibao.core.backends.postgresql"
        config["CONN_HEALTH_CHECKS"] = True
        # The application's compiled queries are prepared statements (yibao.core.prepared):
        # short lookups by key, which the server otherwise plans anew for each of their first
        # five runs on each connection.
        config.setdefault("OPTIONS", {}).setdefault(
            "options", "-c plan_cache_mode=force_generic_plan"
        )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Django's backend, with writers queued on a lock that wakes them (see its module).
        config["ENGINE"] = "yibao.core.backends.sqlite3"
        options = config.setdefault("OPTIONS", {})
        # IMMEDIATE: a transaction takes the write lock when it begins, so two writers queue
        # on the busy timeout rather than one failing half-way with "database is locked".
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", SQLITE_TIMEOUT_SECONDS)
        options.setdefault("init_command", SQLITE_INIT_COMMAND)
        # Tests run on a file (not :memory:) so that threads share one database; one file per
        # process so that two test runs in the same checkout do not collide.
        config.setdefault("TEST", {}).setdefault(
            "NAME", str(Path(tempfile.gettempdir()) / f"yibao-test-{os.getpid()}.sqlite3")
        )
    return config


DATABASES = {"default": _database(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- locale and time ------------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Campaign date (ISO, e.g. 2022-12-05) for demos and tests on past benefit years; unset in
# production, where the date is the real one. Read through yibao.core.clock.today().
YIBAO_TODAY = os.environ.get("YIBAO_TODAY") or None

# --- static files ---------------------------------------------------------------------------
# whitenoise serves STATIC_ROOT from the gunicorn workers (no separate web server). ``yibao
# serve`` and ``yibao demo`` run ``collectstatic`` before starting gunicorn: the files get
# content-hashed names and gzip copies, so whitenoise sends them compressed with a one-year
# cache (a phone on a weak network fetches ECharts once) and a new release changes the names.
# Tests have no collected files: tests/conftest.py switches to the plain storage, and the live
# server's static handler serves the apps' files through the finders.
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Every line carries the request id; ID numbers are masked whatever wrote them. Server errors
# are logged by yibao.core.operations.RequestMiddleware (logger yibao.errors) with the id the
# response's X-Request-ID header shows.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_id_numbers": {"()": "yibao.core.operations.MaskIdNumbers"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_id_numbers"],
            "formatter": "plain",
        }
    },
    "loggers": {"yibao": {"handlers": ["console"], "level": "INFO"}},
}

# --- security headers and sessions (issue 9) -------------------------------------------------
# Content Security Policy (django-csp): scripts and styles only from this server's static
# files; no inline script, no frames, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Session and CSRF cookies: HttpOnly (session), SameSite=Lax, and Secure only when the site is
# served over HTTPS (YIBAO_HTTPS=1): the demo and the tests serve plain http on 127.0.0.1,
# where a browser would drop a Secure cookie and no one could sign in.
YIBAO_HTTPS = os.environ.get("YIBAO_HTTPS", "") == "1"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = YIBAO_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Idle timeout: a session ends after YIBAO_SESSION_IDLE_MINUTES (default 30) without a
# request, and when the browser closes (a shared PC at the village service centre).
SESSION_COOKIE_AGE = int(os.environ.get("YIBAO_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Flash messages in the session (the database), not in a cookie: a message may carry a full
# ID number just read on a person's card, and a cookie is signed, not encrypted.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
