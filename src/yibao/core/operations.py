"""Request ids, privacy headers and log lines without ID numbers.

:class:`RequestMiddleware` gives each request an id (``X-Request-ID``, also in every log
line written while it runs), logs a server error with that id and the traceback, and marks
every dynamic response ``Cache-Control: no-store`` (pages and API answers carry personal
data; static files are served before it by whitenoise, with their own long cache).
:class:`MaskIdNumbers` is a logging filter that masks any 18-character ID number (and
15-digit old ones) in a log line, whatever wrote it.
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from .masking import mask_id_number

logger = logging.getLogger("yibao.errors")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("yibao_request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# 17 digits and a check character, or 15 digits, not inside a longer run of digits.
ID_NUMBER = re.compile(r"(?<![0-9])(?:[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{14})(?![0-9Xx])")


def current_request_id() -> str:
    return _request_id.get()


class RequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex[:16]
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        patch_cache_control(response, no_store=True, private=True)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        logger.error(
            "服务器错误 request_id=%s %s %s",
            getattr(request, "request_id", "-"),
            request.method,
            request.path,
            exc_info=exception,
        )


def _mask(text: str) -> str:
    return ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)


class MaskIdNumbers(logging.Filter):
    """Mask ID numbers in the message, its arguments and the traceback; add ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: leave it as the logging module reports it
            return True
        record.msg, record.args = _mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _mask(record.exc_text)
        return True
