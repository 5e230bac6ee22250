"""The API object: version 1 at ``/api/v1/``, its auth, its error handler and its routers."""

from __future__ import annotations

from ninja import NinjaAPI

from yibao.funds import api as funds_api
from yibao.intake import api as intake_api

from . import campaign, collection, errors, outreach, policies, progress, quotes, registry
from . import facts as facts_api
from .auth import BearerToken, SessionCsrf
from .docs import OfflineSwagger

api = NinjaAPI(
    title="城乡居民基本医疗保险参保征缴 接口",
    version="1",
    description=(
        "征收员和街道社保所使用的接口。认证：请求头 `Authorization: Bearer <令牌>`"
        "（令牌由 `yibao token issue` 签发），或网页登录会话"
        "（提交时须带 `X-CSRFToken`）。金额为两位小数的字符串，日期为 ISO 格式，"
        "时间带时区（+08:00）。错误统一为 "
        '`{"error": {"code": ..., "message": ..., "details": {...}}}`。'
    ),
    urls_namespace="api-v1",
    auth=[BearerToken(), SessionCsrf()],
    docs=OfflineSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("", registry.router)
api.add_router("", collection.router)
api.add_router("", quotes.router)
api.add_router("", policies.router)
api.add_router("", outreach.router)
api.add_router("", progress.router)
api.add_router("", intake_api.router)
api.add_router("", funds_api.router)
api.add_router("", campaign.router)
api.add_router("", facts_api.router)
