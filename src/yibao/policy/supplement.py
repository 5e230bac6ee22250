"""A supplement: the amounts of a document a policy cites but the project did not have.

Tongnan's subsidy amounts are in 潼南府办发〔2021〕77号 (潼医保发〔2022〕36号 四（三）). A
district office loads them as a small TOML file naming the policy, the document and, per
identity, the tiers as the document gives them. Only tiers the shipped file marks as missing
from that very document are filled; the result is validated exactly as a shipped policy file.
"""

from __future__ import annotations

import tomllib
from typing import Any

from pydantic import ValidationError

from .errors import PolicyFileError
from .loader import _describe
from .model import Policy
from .rules import MissingRule


def parse_supplement(text: str, *, name: str = "补充文件") -> dict[str, Any]:
    """The supplement's data; refuses a file that is not TOML or lacks its policy and document."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{name} 不是合法的 TOML：{exc}", code="policy_file_syntax") from None
    for key in ("policy", "document", "cite"):
        if not str(data.get(key, "")).strip():
            raise PolicyFileError(f"{name} 缺少必填项 {key}", code="policy_file_invalid")
    if not data.get("identities"):
        raise PolicyFileError(
            f"{name} 没有任何身份的资助标准 identities", code="policy_file_invalid"
        )
    return data


def apply_supplement(base: Policy, data: dict[str, Any], *, version: int) -> Policy:
    """``base`` with the supplement's tiers filled in, validated as a shipped file is."""
    document = str(data["document"]).strip()
    if data["policy"] != base.id:
        raise PolicyFileError(
            f"补充文件写的政策是“{data['policy']}”，不是“{base.id}”", code="policy_file_invalid"
        )
    if document not in base.source_numbers():
        raise PolicyFileError(
            f"{base.name}的依据文件中没有“{document}”，不能以补充文件载入",
            code="policy_file_invalid",
        )
    fields = {"key", "cite", "tier1", "tier2"}
    given: dict[str, dict[str, Any]] = {}
    for entry in data["identities"]:
        unknown = sorted(set(entry) - fields)
        if unknown:
            raise PolicyFileError(
                f"补充文件身份“{entry.get('key')}”有未知字段：{'、'.join(unknown)}",
                code="policy_file_invalid",
            )
        identity = base.identity(str(entry.get("key", "")))
        if identity is None:
            raise PolicyFileError(
                f"{base.name}没有身份“{entry.get('key')}”", code="policy_file_invalid"
            )
        if not str(entry.get("cite", "")).strip():
            raise PolicyFileError(
                f"补充文件身份“{entry['key']}”未写出处 cite", code="policy_file_invalid"
            )
        for tier in ("tier1", "tier2"):
            rule = getattr(identity, tier)
            if tier in entry and not (isinstance(rule, MissingRule) and rule.document == document):
                raise PolicyFileError(
                    f"身份“{identity.label()}”的{tier}不是缺失于{document}的规定，补充文件不能改写政策文件",
                    code="policy_file_invalid",
                )
        given[identity.key] = entry
    raw = base.model_dump(mode="json", by_alias=True)
    for identity in raw["identities"]:
        key = identity["code"] if identity.get("code") is not None else identity["names"][0]
        entry = given.get(key)
        if entry is None:
            continue
        identity["cite"] = str(entry["cite"])
        for tier in ("tier1", "tier2"):
            if tier in entry:
                identity[tier] = entry[tier]
    for source in raw["sources"]:
        if source["number"] == document:
            source["note"] = f"由区医保局以补充文件载入（第{version}版）：{data['cite']}"
    raw["decisions"].append(
        {
            "key": f"supplement_{version}",
            "value": f"{document}的资助标准由区医保局载入（补充文件第{version}版）",
            "reason": f"政策文件所引{document}未随系统收录；出处：{data['cite']}",
        }
    )
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyFileError(_describe(exc, f"{base.id} 补充文件第{version}版")) from None
