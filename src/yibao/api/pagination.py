"""The one pagination of the API's lists: at most :data:`MAX_PAGE` rows a page.

A cap on the page keeps a token from taking a whole township in one request (issue 9); a
limit or offset out of range is a 400 ``invalid_input`` with the range, never a 500.
"""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_PAGE = 200
DEFAULT_PAGE = 100
# Far beyond any township, and well inside a 64-bit integer on both databases.
MAX_OFFSET = 10_000_000


class Page(LimitOffsetPagination):
    """``?limit=`` (1 to 200, default 100) and ``?offset=`` (0 to 10,000,000)."""

    class Input(Schema):
        limit: int = Field(DEFAULT_PAGE, ge=1, le=MAX_PAGE, description="每页条数，最多200")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_limit=MAX_PAGE, **kwargs)  # type: ignore[arg-type]
