"""The API's one error shape and the handlers that produce it.

Every refusal leaves the API as ``{"error": {"code", "message", "details"}}`` with a Chinese
message: the application's :class:`~yibao.core.errors.ApplicationError`, the policy engine's
refusals (:class:`~yibao.policy.PolicyError`), ninja's validation errors, failed
authentication and CSRF. The HTTP status follows the code (:func:`status_for`).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from yibao.core.errors import ApplicationError
from yibao.policy import PolicyError

# A record outside the actor's scope is answered as not found (yibao.core.access); these
# refuse what the caller may see but not do.
FORBIDDEN = frozenset(
    {
        "out_of_scope",
        "read_only",
        "office_required",
        "id_number_forbidden",
        "backdate_office_only",
        "taken_by_office_only",
        "collector_only",
    }
)
NOT_FOUND = frozenset({"not_found"})
# The request is well-formed, but the ledger already holds something that contradicts it.
CONFLICT = frozenset(
    {
        "already_deceased",
        "already_ended",
        "already_enrolled",
        "already_paid",
        "already_recorded",
        "already_reversed",
        "day_closed",
        "enrollment_paid",
        "household_exists",
        "idempotency_key_reused",
        "person_exists",
        "receipt_conflict",
    }
)


def status_for(code: str) -> int:
    """400 for invalid input and policy refusals, 403 out of scope, 404, 409 conflicts."""
    if code in FORBIDDEN:
        return 403
    if code in NOT_FOUND:
        return 404
    if code in CONFLICT:
        return 409
    return 400


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


# --- ninja's validation errors in Chinese --------------------------------------------------

_REASONS = {
    "missing": "必须填写",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不含时间",
    "datetime_type": "应为带时区的时间（如 2022-12-05T10:00:00+08:00）",
    "datetime_parsing": "应为带时区的时间（如 2022-12-05T10:00:00+08:00）",
    "datetime_from_date_parsing": "应为带时区的时间（如 2022-12-05T10:00:00+08:00）",
    "timezone_aware": "须带时区（如 +08:00）",
    "string_pattern_mismatch": "格式不正确",
    "string_too_short": "不能为空",
    "string_too_long": "太长",
    "literal_error": "只能取以下值之一：{expected}",
    "enum": "只能取以下值之一：{expected}",
    "greater_than": "应大于{gt}",
    "greater_than_equal": "应不小于{ge}",
    "less_than": "应小于{lt}",
    "less_than_equal": "应不大于{le}",
    "list_type": "应为列表",
    "too_short": "至少需要{min_length}项",
    "too_long": "最多{max_length}项",
    "dict_type": "应为对象",
    "model_attributes_type": "应为对象",
    "model_type": "应为对象",
    "extra_forbidden": "不是可接受的字段",
    "json_invalid": "不是有效的 JSON",
}

# Where ninja puts a value, in words a user understands.
_SOURCES = {"body": "请求内容", "query": "查询参数", "path": "路径参数", "header": "请求头"}


def _field(loc: list[Any]) -> str:
    parts = [str(p) for p in loc]
    source = _SOURCES.get(parts[0], "") if parts else ""
    # ninja wraps the body in the parameter's name ("payload"); the user never sees it.
    names = parts[2:] if parts[:1] == ["body"] and len(parts) > 2 else parts[1:]
    path = ".".join(names)
    return f"{source}“{path}”" if path else source or "请求"


def _reason(error: dict[str, Any]) -> str:
    template = _REASONS.get(error.get("type", ""), "不正确")
    ctx = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return _REASONS.get(error.get("type", ""), "不正确").split("{")[0].rstrip("：")


def validation_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each error with its place (``loc``), a stable ``type`` and a Chinese ``message``."""
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "type": e.get("type", "value_error"),
            "message": f"{_field(list(e.get('loc', ())))}{_reason(e)}",
        }
        for e in errors
    ]


# --- handlers ------------------------------------------------------------------------------


# Every operation may answer these, in the one error shape; the schema says so, so that a
# client (and schemathesis) knows every status code it can get.
ERROR_STATUSES = {
    "400": "请求数据有误或被业务规则拒绝（invalid_input 及各业务代码）",
    "401": "未登录或接口令牌无效（not_authenticated）",
    "403": "无权办理（read_only、id_number_forbidden 等）或 CSRF 校验失败",
    "404": "找不到记录，或记录不在调用者的范围内（not_found）",
    "409": "与已有记录冲突（already_paid、idempotency_key_reused 等）",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the error responses to every operation of an OpenAPI ``schema`` (in place)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return schema


def install(api: NinjaAPI) -> None:
    """Register the one error shape on ``api`` for every kind of refusal, and document it
    in the OpenAPI schema."""
    openapi_schema = api.get_openapi_schema

    def get_openapi_schema(*args: Any, **kwargs: Any) -> Any:
        return document_errors(openapi_schema(*args, **kwargs))

    api.get_openapi_schema = get_openapi_schema  # type: ignore[method-assign]

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        return respond(request, status_for(exc.code), error_body(exc.code, exc.message, exc.params))

    @api.exception_handler(PolicyError)
    def policy_error(request: HttpRequest, exc: PolicyError) -> HttpResponse:
        return respond(request, status_for(exc.code), error_body(exc.code, exc.message, exc.params))

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details = validation_details(exc.errors)
        message = "请求数据有误：" + "；".join(d["message"] for d in details[:5])
        if len(details) > 5:
            message += f"等{len(details)}处"
        return respond(request, 400, error_body("invalid_input", message, {"errors": details}))

    @api.exception_handler(AuthenticationError)
    def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(
            request,
            401,
            error_body(
                "not_authenticated",
                "未登录或接口令牌无效：请登录，或在请求头 Authorization 中提供 Bearer 令牌",
            ),
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(Http404)
    def no_such_route(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body("not_found", "找不到请求的接口或记录"))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 403 and exc.message == "csrf_failed":
            body = error_body(
                "csrf_failed",
                "CSRF 校验失败：以登录会话提交时，请求头须带 X-CSRFToken（取自 csrftoken Cookie）",
            )
        elif exc.status_code == 400:
            # ninja's own parse error: a body that is not JSON.
            body = error_body("invalid_input", "请求内容无法解析：应为 UTF-8 编码的 JSON")
        else:
            body = error_body(f"http_{exc.status_code}", "请求无法处理")
        return respond(request, exc.status_code, body)


def unknown_route(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """A path under ``/api/v1/`` that is no route: the same JSON error shape, not HTML."""
    from django.http import JsonResponse

    body = error_body("not_found", f"没有这个接口：{request.method} {request.path}")
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
