"""Errors of the policy engine: a stable ``code``, a Chinese ``message`` and ``params``."""

from __future__ import annotations

from typing import Any


class PolicyError(Exception):
    """Base error of the policy engine, rendered in Chinese at the edge."""

    code = "policy_error"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.params = params

    def __str__(self) -> str:
        return self.message


class PolicyFileError(PolicyError):
    """A policy file that is malformed, inconsistent or refers to something unknown."""

    code = "policy_file_invalid"


class QuoteRefused(PolicyError):
    """The policy refuses to quote: the message names the rule that refuses."""

    code = "quote_refused"


class RuleMissing(QuoteRefused):
    """The policy's document does not define a rule the quote needs."""

    code = "rule_missing"
