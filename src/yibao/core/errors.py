"""The one error type of the application: a stable ``code``, a Chinese ``message``, ``params``.

Each edge (HTML, JSON API, CLI) renders it once; services raise it and nothing else for a
refusal the user can act on.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A refusal with a stable code for machines and a Chinese sentence for people."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ApplicationError({self.code!r}, {self.message!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "params": self.params}
