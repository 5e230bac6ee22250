"""Load policy files (TOML), layer a district or township file over the city's, validate."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import PolicyFileError
from .model import Policy

DATA_DIR = Path(__file__).with_name("data")
CITY_KEYS_NOT_INHERITED = {"id", "name", "level", "benefit_year", "city_rules"}
MERGED_LISTS = {"sources", "decisions", "city_percentages"}

_PYDANTIC_ZH = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知字段（拼写错误？）",
    "date_from_datetime_parsing": "日期格式错误，应为 YYYY-MM-DD",
    "date_parsing": "日期格式错误，应为 YYYY-MM-DD",
    "date_type": "应为日期 YYYY-MM-DD",
    "literal_error": "取值不在允许范围内",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "union_tag_invalid": "未知的规则种类 kind",
}


def _describe(error: ValidationError, name: str) -> str:
    lines = [f"政策文件 {name} 校验失败："]
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "（文件）"
        message = _PYDANTIC_ZH.get(item["type"], item["msg"].removeprefix("Value error, "))
        lines.append(f"  - {where}：{message}")
    return "\n".join(lines)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(
            f"政策文件 {path.name} 不是合法的 TOML：{exc}", code="policy_file_syntax"
        ) from None
    except FileNotFoundError:
        raise PolicyFileError(
            f"找不到政策文件 {path}", code="policy_not_found", path=str(path)
        ) from None


def layer(city: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
    """The local file over the city's: sections merge key by key, lists of sources add up,
    and the city rules of the benefit year apply unless the local file states its own."""
    if city.get("level") != "city":
        raise PolicyFileError(f"{local.get('id')} 的上级文件 {city.get('id')} 不是市级参数文件")
    if city.get("benefit_year") != local.get("benefit_year"):
        raise PolicyFileError(
            f"{local.get('id')} 的待遇年度 {local.get('benefit_year')} 与市级参数 "
            f"{city.get('id')} 的 {city.get('benefit_year')} 不一致"
        )
    local = dict(local)
    overrides = local.pop("overrides", [])
    merged: dict[str, Any] = {k: v for k, v in city.items() if k not in CITY_KEYS_NOT_INHERITED}
    for key, value in local.items():
        inherited = merged.get(key)
        if key in MERGED_LISTS and isinstance(inherited, list):
            merged[key] = [*inherited, *value]
        elif isinstance(value, dict) and isinstance(inherited, dict):
            merged[key] = {**inherited, **value}
        else:
            merged[key] = value
    merged["city_rules"] = _inherit(city, local, overrides, merged)
    return merged


def _identity_keys(identities: list[dict[str, Any]]) -> dict[str, str]:
    """Every code, printed name and name of the local identity table, to the identity's key."""
    keys: dict[str, str] = {}
    for identity in identities:
        names = identity.get("names") or [identity.get("printed", "")]
        code = identity.get("code")
        key = code if code is not None else names[0]
        for name in [*names, identity.get("printed", ""), *([code] if code else [])]:
            keys.setdefault(name, key)
    return keys


def _resolve_names(value: Any, keys: dict[str, str]) -> tuple[Any, list[str]]:
    """A city rule's identity names as this policy's identity keys; names it lacks are listed."""
    if not isinstance(value, dict) or "identities" not in value:
        return value, []
    resolved: list[str] = []
    missing: list[str] = []
    for name in value["identities"]:
        key = keys.get(name)
        if key is None:
            missing.append(name)
        elif key not in resolved:
            resolved.append(key)
    return {**value, "identities": resolved}, missing


def _inherit(
    city: dict[str, Any],
    local: dict[str, Any],
    overrides: list[dict[str, Any]],
    merged: dict[str, Any],
) -> list[dict[str, Any]]:
    """Apply the city file's ``city_rules`` to ``merged``; what each rule became, for display.

    A rule applies unless the local file sets the same field itself (its own text governs) or
    names the rule in ``[[overrides]]`` with a reason. Nothing is carried into another year:
    the city file of the policy's own benefit year is the only source.
    """
    rules = city.get("city_rules", [])
    known = {rule["key"] for rule in rules}
    reasons: dict[str, str] = {}
    for override in overrides:
        if override.get("rule") not in known:
            raise PolicyFileError(
                f"{local.get('id')} 的 overrides 引用了市级参数 {city.get('id')} 中没有的规则"
                f"“{override.get('rule')}”（现有：{'、'.join(sorted(known))}）"
            )
        if not str(override.get("reason", "")).strip():
            raise PolicyFileError(
                f"{local.get('id')} 不适用市级规则“{override['rule']}”须写明理由 reason"
            )
        reasons[override["rule"]] = override["reason"]
    keys = _identity_keys(merged.get("identities", []))
    applied: list[dict[str, Any]] = []
    for rule in rules:
        section, field = rule["section"], rule["field"]
        own = local.get(section, {})
        record = {
            "key": rule["key"],
            "title": rule["title"],
            "cite": rule["cite"],
            "source": city["id"],
            "decision": rule.get("decision", ""),
        }
        if rule["key"] in reasons:
            applied.append({**record, "status": "overridden", "note": reasons[rule["key"]]})
            continue
        if isinstance(own, dict) and field in own:
            applied.append({**record, "status": "own_text"})
            continue
        value, missing = _resolve_names(rule["value"], keys)
        target = dict(merged.get(section) or {})
        if section == "coverage" and field == "windows":
            target.pop("missing", None)
        target[field] = value
        target.update(rule.get("also", {}))
        merged[section] = target
        note = f"本政策身份表中没有：{'、'.join(missing)}" if missing else ""
        applied.append({**record, "status": "applied", "note": note})
    return applied


def load_policy_file(path: Path, data_dir: Path | None = None) -> Policy:
    """Validate one district or township file, layered over the city file it names."""
    local = _read(path)
    folder = data_dir or path.parent
    city_id = local.get("city")
    if not city_id:
        raise PolicyFileError(
            f"政策文件 {path.name} 未写明市级参数 city", code="policy_file_invalid"
        )
    merged = layer(_read(folder / f"{city_id}.toml"), local)
    try:
        return Policy.model_validate(merged)
    except ValidationError as exc:
        raise PolicyFileError(_describe(exc, path.name)) from None


@cache
def policy_ids(data_dir: Path = DATA_DIR) -> tuple[str, ...]:
    ids = []
    for path in sorted(data_dir.glob("*.toml")):
        if _read(path).get("level") != "city":
            ids.append(path.stem)
    return tuple(ids)


@cache
def load_policy(policy_id: str, data_dir: Path = DATA_DIR) -> Policy:
    if policy_id not in policy_ids(data_dir):
        known = "、".join(policy_ids(data_dir))
        raise PolicyFileError(
            f"没有编号为“{policy_id}”的政策（现有：{known}）",
            code="policy_not_found",
            policy=policy_id,
        )
    policy = load_policy_file(data_dir / f"{policy_id}.toml", data_dir)
    if policy.id != policy_id:
        raise PolicyFileError(f"政策文件 {policy_id}.toml 内的编号写成了 {policy.id}")
    return policy
