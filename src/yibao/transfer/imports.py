"""Importing households and persons from a clerk's sheet (.xlsx/.xls/.csv).

:func:`persons_import` reads the file (:mod:`yibao.transfer.reading`), checks every row
with the registry's rules (ID number by :func:`yibao.registry.idnumbers.parse_id_number`,
duplicates in the file and in the database, unknown or out-of-scope villages, households
without a head, ...) and reports each rejected row with its row number, masked ID number,
name and a reason in Chinese.

All or nothing by default: one bad row and nothing is written. With
``import_good_rows=True`` the good rows are written in one transaction and the bad ones
reported. A person whose ID number is already registered under the same name is reported
as already present and skipped, so importing the same file twice creates no duplicates.

Writes go through the registry's batch services (``household_register_many_ids`` for new
households, ``identity_tags_add_many``; ``person_register`` for a newcomer to a household
already registered), which check scope again, audit every record and refuse anything the
pre-check missed (a concurrent import, for instance). Each row's fields are checked once,
by :func:`yibao.registry.checks.person_fields_check`, and the service is handed that answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from yibao.core import clock
from yibao.core.access import villages_in_scope
from yibao.core.bulk import ANALYZE_ROWS, analyze, gc_paused
from yibao.core.errors import ApplicationError
from yibao.core.masking import mask_id_number
from yibao.core.models import AuditLog
from yibao.policy import PolicyError, get_policy
from yibao.registry.checks import HEAD_RELATIONS, CheckedPerson, person_fields_check
from yibao.registry.idcrypto import current_key, id_number_fields
from yibao.registry.idnumbers import normalise, parse_id_number
from yibao.registry.models import Household, Person, Village
from yibao.registry.selectors import persons_by_digest, persons_by_id_number
from yibao.registry.services import (
    HouseholdData,
    IdentityTagData,
    PersonData,
    household_register_many_ids,
    identity_category_refusal,
    identity_tags_add_many,
    person_register,
)

from .reading import FIELD_LABELS, Table, read_table

Progress = Callable[[str, int, int], None]

QUERY_CHUNK = 500
# Households per household_register_many call: a village of a few thousand people in one
# set (each call is a few statements, a savepoint and three COPYs on PostgreSQL).
HOUSEHOLD_CHUNK = 2000
# How the rows of a household were found, as the report names it.
HOUSEHOLD_METHODS = {
    "household_number": "户号",
    "head_id_number": "户主身份证号",
    "head_name": "户主姓名与“与户主关系”（同村）",
    "adjacent": "与户主关系（相邻行）",
}
ID_TYPES = {
    "": Person.IdType.RESIDENT_ID,
    "居民身份证": Person.IdType.RESIDENT_ID,
    "身份证": Person.IdType.RESIDENT_ID,
    "二代身份证": Person.IdType.RESIDENT_ID,
    "居住证": Person.IdType.RESIDENCE_PERMIT,
    "港澳台居民居住证": Person.IdType.HKMT_RESIDENCE_PERMIT,
    "港澳居民居住证": Person.IdType.HKMT_RESIDENCE_PERMIT,
    "台湾居民居住证": Person.IdType.HKMT_RESIDENCE_PERMIT,
    "外国人永久居留身份证": Person.IdType.FOREIGN_PERMANENT,
    "外国人永久居留证": Person.IdType.FOREIGN_PERMANENT,
}
SEXES = {"男": Person.Sex.MALE, "男性": Person.Sex.MALE, "女": Person.Sex.FEMALE}
SEXES["女性"] = Person.Sex.FEMALE
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_DATE_PARTS = re.compile(r"^(\d{4})\D{0,2}(\d{1,2})\D{0,2}(\d{1,2})\D?$")
_PARENS = str.maketrans({"(": "（", ")": "）", " ": "", "\u3000": ""})


# --- report -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowReport:
    """One row of the report: where it is, whom it concerns (ID masked) and why."""

    row: int
    masked_id_number: str
    name: str
    reason: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "id_number": self.masked_id_number,
            "name": self.name,
            "reason": self.reason,
            "code": self.code,
        }


@dataclass
class ImportReport:
    """What an import found and did. ``committed`` says whether anything was written."""

    source: str
    kind: str
    encoding: str | None
    sheet: str | None
    header_row: int
    columns: dict[str, str]
    rows_read: int
    import_good_rows: bool
    committed: bool = False
    persons_created: int = 0
    households_created: int = 0
    identity_tags_added: int = 0
    households_present: int = 0  # households of the rows already registered
    # How households were formed: method (户号, 户主姓名…) -> households in the file.
    households_formed: dict[str, int] = field(default_factory=dict)
    rejected: list[RowReport] = field(default_factory=list)
    already_present: list[RowReport] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def summary(self) -> str:
        """One Chinese sentence for the clerk: what is new, what was already there, what is
        wrong, and how the households were found."""
        parts = []
        if self.committed or not self.rejected:
            parts.append(f"新登记{self.persons_created}人（新建{self.households_created}户）")
        if self.already_present:
            parts.append(
                f"{len(self.already_present)}人此前已登记"
                f"（{self.households_present}户），未重复导入"
            )
        if self.rejected and self.committed:
            parts.append(f"{len(self.rejected)}行有误未导入")
        elif self.rejected:
            waiting = self.rows_read - len(self.rejected) - len(self.already_present)
            parts.append(
                f"{len(self.rejected)}行有误"
                + (
                    f"，其余{waiting}行本次未导入（有一行出错则都不导入）；请改正后重新导入，"
                    "或选择只导入无误的行"
                    if waiting
                    else "，请改正后重新导入"
                )
            )
        if self.households_formed:
            parts.append(
                "分户依据："
                + "、".join(f"{method}{n}户" for method, n in self.households_formed.items())
            )
        return f"{self.source}：共{self.rows_read}行，" + "；".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "header_row": self.header_row,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "rows_read": self.rows_read,
            "import_good_rows": self.import_good_rows,
            "committed": self.committed,
            "persons_created": self.persons_created,
            "households_created": self.households_created,
            "identity_tags_added": self.identity_tags_added,
            "households_present": self.households_present,
            "households_formed": self.households_formed,
            "summary": self.summary(),
            "rejected": [r.to_dict() for r in self.rejected],
            "already_present": [r.to_dict() for r in self.already_present],
        }


# --- rows -------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Row:
    number: int
    id_number: str = ""
    name: str = ""
    id_type: str = Person.IdType.RESIDENT_ID
    sex: str | None = None
    birth_date: dt.date | None = None
    phone: str = ""
    hukou_village: Village | None = None
    residence_village: Village | None = None
    relation: str = ""
    household_number: str = ""
    head_id_number: str = ""
    head_name: str = ""
    address: str = ""
    identity: str = ""
    department: str = ""
    error: tuple[str, str] | None = None  # (code, reason)
    existing: Person | None = None  # registered under the same name: skipped
    checked: CheckedPerson | None = None  # person_fields_check's answer for this row
    sealed: dict[str, Any] | None = None  # id_number_fields of the checked number

    def reject(self, code: str, reason: str) -> None:
        if self.error is None:
            self.error = (code, reason)

    @property
    def is_head(self) -> bool:
        return self.relation in HEAD_RELATIONS or (
            bool(self.head_id_number) and self.head_id_number == self.id_number
        )

    def report(self, code: str, reason: str) -> RowReport:
        return RowReport(self.number, mask_id_number(self.id_number), self.name, reason, code)

    def person_data(self) -> PersonData:
        return PersonData(
            id_number=self.id_number,
            name=self.name,
            id_type=self.id_type,
            phone=self.phone,
            relation_to_head=self.relation,
            residence_village=self.residence_village,
            sex=self.sex,
            birth_date=self.birth_date,
            checked=self.checked,
            sealed=self.sealed,
        )


def _text(value: Any) -> str:
    """A cell as text: integral numbers without ``.0``, dates as ISO, Excel's ``'``/``="…"``
    text markers removed."""
    if value is None:
        return ""
    if type(value) is str:
        # The usual cell (every cell of a CSV): no ideographic space and no text marker.
        text = value.strip()
        if not text or (text[0] not in "='" and "\u3000" not in text):
            return text
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\u3000", " ").strip()
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text.lstrip("'\t").strip()


def _id_text(value: Any, text: str | None = None) -> tuple[str, str | None]:
    """The ID number of a cell, or a reason why the sheet has lost it (``text`` is the
    cell's :func:`_text` when the caller has it)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if abs(value) >= 1e15:
            return (
                str(int(value)),
                "证件号码以数字格式保存，Excel 只保留15位有效数字，末几位已丢失；"
                "请把该列设为文本后重新录入",
            )
    text = normalise(_text(value) if text is None else text)
    if not text.isdigit() and _SCIENTIFIC.match(text):
        return (
            text,
            "证件号码被存成了科学计数法（如5.00222E+17），末几位已丢失；请把该列设为文本后重新录入",
        )
    return text, None


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    match = _DATE_PARTS.match(text) or (
        re.match(r"^(\d{4})(\d{2})(\d{2})$", text) if len(text) == 8 else None
    )
    if match is None:
        raise ValueError(text)
    return dt.date(int(match[1]), int(match[2]), int(match[3]))


def _village_key(text: str) -> str:
    return text.translate(_PARENS)


class _Villages:
    """Resolves a village written by a clerk (name, code, or township + name) in scope."""

    def __init__(self, actor: Any) -> None:
        self.scope = set(villages_in_scope(actor).values_list("pk", flat=True))
        self.by_key: dict[str, list[Village]] = {}
        for village in Village.objects.select_related("township"):
            keys = {village.name, village.township.name + village.name}
            if village.code:
                keys.add(village.code)
            for key in keys:
                self.by_key.setdefault(_village_key(key), []).append(village)
        self._cache: dict[str, tuple[Village | None, str | None]] = {}

    def resolve(self, text: str, *, need_scope: bool) -> tuple[Village | None, str | None]:
        """(village, None) or (None, reason)."""
        cache_key = f"{need_scope}:{text}"
        if cache_key not in self._cache:
            self._cache[cache_key] = self._resolve(text, need_scope=need_scope)
        return self._cache[cache_key]

    def _resolve(self, text: str, *, need_scope: bool) -> tuple[Village | None, str | None]:
        candidates = self.by_key.get(_village_key(text), [])
        if not candidates:
            return None, f"未知的村（社区）“{text}”：系统中没有这个村（社区）的名称或代码"
        mine = [v for v in candidates if v.pk in self.scope]
        if len(mine) == 1:
            return mine[0], None
        if len(mine) > 1 or (len(candidates) > 1 and not need_scope):
            towns = "、".join(sorted({v.township.name for v in (mine or candidates)}))
            return None, f"村（社区）“{text}”在{towns}都有，请写明街道（镇）或区划代码"
        if need_scope:
            # Outside the actor's scope: the same answer as a village that does not exist.
            return None, f"未知的村（社区）“{text}”：系统中没有这个村（社区）的名称或代码"
        return candidates[0], None


def village_resolve(*, actor: Any, text: str) -> Village:
    """The village ``text`` (name, code, or township + name) within ``actor``'s scope."""
    village, reason = _Villages(actor).resolve(text.strip(), need_scope=True)
    if village is None:
        raise ApplicationError("unknown_village", reason or "", village=text)
    return village


# --- checks -----------------------------------------------------------------------------


# The sheet's fields a person's row reads, in the order :func:`_parse_row` unpacks them.
_ROW_FIELDS = (
    "name",
    "id_number",
    "phone",
    "relation",
    "household_number",
    "head_id_number",
    "head_name",
    "address",
    "identity",
    "department",
    "id_type",
    "sex",
    "birth_date",
    "hukou_village",
    "residence_village",
)


def _row_positions(table: Table) -> tuple[int | None, ...]:
    """The column of each of :data:`_ROW_FIELDS` in ``table`` (None: not in the sheet)."""
    return tuple(table.columns.get(key) for key in _ROW_FIELDS)


def _parse_row(
    positions: tuple[int | None, ...],
    number: int,
    cells: list[Any],
    *,
    villages: _Villages,
    default_village: Village | None,
    identity_known: Callable[[str], bool] | None,
    identity_ok: dict[tuple[Any, ...], bool],
    today: dt.date,
) -> _Row | None:
    size = len(cells)
    # Each of the sheet's cells a row reads, as text, once ("" for a column not in the sheet).
    (
        name,
        id_text,
        phone,
        relation,
        household_number,
        head_id_number,
        head_name,
        address,
        identity,
        department,
        id_type_text,
        sex_text,
        birth_text,
        village_text,
        residence_text,
    ) = [_text(cells[i]) if i is not None and i < size else "" for i in positions]
    id_at, birth_at = positions[1], positions[12]
    id_number, id_problem = _id_text(
        cells[id_at] if id_at is not None and id_at < size else None, id_text
    )
    if not id_number and not name:
        return None  # an empty line, or a note under the table
    row = _Row(
        number,
        id_number,
        name,
        phone=phone.replace(" ", ""),
        relation=relation.translate(_PARENS),
        household_number=household_number,
        head_id_number=normalise(head_id_number),
        head_name=head_name.replace(" ", ""),
        address=address,
        identity=identity,
        department=department,
    )

    if not name:
        row.reject("name_required", "未填写姓名")
    if id_problem:
        row.reject("id_number_mangled", id_problem)
    if not id_number:
        row.reject("id_number_required", "未填写公民身份号码")

    id_type = ID_TYPES.get(id_type_text)
    if id_type is None:
        row.reject("invalid_id_type", f"未知的证件类型“{id_type_text}”")
    else:
        row.id_type = id_type

    sheet_sex = SEXES.get(sex_text)
    if sex_text and sheet_sex is None:
        row.reject("invalid_sex", f"性别“{sex_text}”应为“男”或“女”")
    try:
        sheet_birth = _date(cells[birth_at] if birth_at is not None and birth_at < size else None)
    except ValueError:
        sheet_birth = None
        row.reject("invalid_birth_date", f"出生日期“{birth_text}”不是日期")

    if row.error is None:
        # The registry's own checks, the same function its services call.
        try:
            checked = person_fields_check(
                id_type=row.id_type,
                id_number=id_number,
                name=name,
                sex=sheet_sex,
                birth_date=sheet_birth,
                phone=row.phone,
                today=today,
            )
        except ApplicationError as error:
            reason = str(error.params.get("reason") or error.message)
            if error.code == "invalid_id_number":
                reason = f"证件号码无效：{reason}"
            row.reject(error.code, reason)
        else:
            row.id_number, row.phone = checked.id_number, checked.phone
            row.sex, row.birth_date = checked.sex, checked.birth_date
            row.checked = checked

    if village_text:
        village, reason = villages.resolve(village_text, need_scope=True)
        if village is None:
            row.reject("unknown_village", reason or "")
        elif default_village is not None and village != default_village:
            row.reject(
                "village_mismatch",
                f"户籍村（社区）“{village_text}”与本次指定的{default_village.name}不一致",
            )
        row.hukou_village = village
    elif default_village is not None:
        row.hukou_village = default_village
    else:
        row.reject("village_required", "未填写户籍村（社区），也未指定导入到哪个村（社区）")

    if residence_text:
        residence, reason = villages.resolve(residence_text, need_scope=False)
        if residence is None:
            row.reject("unknown_village", (reason or "").replace("村（社区）", "居住村（社区）", 1))
        row.residence_village = residence

    if row.identity:
        if not row.department:
            row.reject("department_required", f"身份类别“{row.identity}”未填写认定部门")
        elif identity_known is not None and not identity_known(row.identity):
            row.reject(
                "unknown_identity",
                f"身份类别“{row.identity}”不在政策文件所列的资助类别中",
            )
        elif row.hukou_village is not None:
            # The tag service's own check (the township's policies), before anything is
            # written; its answer depends on the villages and the category only.
            villages_key = (row.hukou_village, row.residence_village, row.identity)
            if not identity_ok.get(villages_key, False):
                refusal = identity_category_refusal(
                    row.identity,
                    villages=(row.hukou_village, row.residence_village),
                    who=row.name or "此人",
                )
                if refusal is not None:
                    row.reject(refusal.code, refusal.message)
                else:
                    identity_ok[villages_key] = True
    return row


def _existing_persons(numbers: list[str]) -> dict[str, Person]:
    return persons_by_id_number(
        numbers, among=Person.objects.select_related("hukou_village", "household")
    )


def _existing_households(numbers: list[str]) -> dict[str, Household]:
    found: dict[str, Household] = {}
    for start in range(0, len(numbers), QUERY_CHUNK):
        chunk = numbers[start : start + QUERY_CHUNK]
        for household in Household.objects.filter(number__in=chunk).select_related("village"):
            if household.number:
                found[household.number] = household
    return found


def _check_duplicates_and_database(rows: list[_Row]) -> None:
    first_seen: dict[str, _Row] = {}
    for row in rows:
        if not row.id_number:
            continue
        first = first_seen.setdefault(row.id_number, row)
        if first is not row:
            row.reject(
                "duplicate_in_file",
                f"证件号码与第{first.number}行（{first.name}）重复",
            )
    # Each row to write is sealed here, once: the blind index it is looked up by is the one
    # the registry stores (handed to it with the row).
    key = current_key()
    wanted: dict[str, str] = {}
    for row in rows:
        if row.id_number and row.error is None:
            row.sealed = id_number_fields(row.id_number, key=key)
            wanted[row.sealed["id_digest"]] = row.id_number
    existing = persons_by_digest(
        wanted, among=Person.objects.select_related("hukou_village", "household")
    )
    for row in rows:
        person = existing.get(row.id_number)
        if person is None or row.error is not None:
            continue
        if person.name != row.name:
            row.reject(
                "person_exists",
                f"该证件号码已登记为“{person.name}”（{person.hukou_village.name}），与本行姓名不符",
            )
        else:
            row.existing = person


@dataclass(eq=False)
class _Group:
    """The rows of one household, and how the sheet told us they belong together."""

    method: str  # a key of HOUSEHOLD_METHODS
    rows: list[_Row]
    number: str | None = None  # 户号
    head_id: str = ""  # 户主身份证号
    head_name: str = ""  # 户主姓名 (with ``village``)
    village: Village | None = None
    household: Household | None = None  # already registered
    head: _Row | None = None


def _group_rows(rows: list[_Row], table: Table) -> list[_Group]:
    """Put every row in a household: by 户号, else 户主身份证号, else 户主姓名 within the
    village (rows anywhere in the file), else 与户主关系 over consecutive rows. A row that
    none of these places is rejected: nothing is registered outside a household."""
    groups: list[_Group] = []
    by_key: dict[tuple[Any, ...], _Group] = {}
    # A head's own row often leaves 户主身份证号 blank: it still belongs to the members' group.
    referenced = {r.head_id_number for r in rows if r.head_id_number}
    names_heads = "head_name" in table.columns
    adjacent: _Group | None = None  # the household the previous row opened or joined

    def keyed(key: tuple[Any, ...], **fields: Any) -> _Group:
        group = by_key.get(key)
        if group is None:
            group = by_key[key] = _Group(method=key[0], rows=[], **fields)
            groups.append(group)
        return group

    for row in rows:
        head_id = row.head_id_number or (row.id_number if row.id_number in referenced else "")
        group: _Group | None = None
        if row.household_number:
            group = keyed(("household_number", row.household_number), number=row.household_number)
        elif head_id:
            group = keyed(("head_id_number", head_id), head_id=head_id)
        elif names_heads and (row.head_name or row.is_head):
            if row.is_head and row.head_name and row.head_name != row.name:
                row.reject(
                    "head_name_mismatch",
                    f"与户主关系为“{row.relation}”，但户主姓名写的是“{row.head_name}”",
                )
            elif row.hukou_village is not None:
                name = row.head_name or row.name
                key = ("head_name", row.hukou_village.pk, name)
                group = keyed(key, head_name=name, village=row.hukou_village)
        elif row.relation:
            if row.is_head:
                group = _Group(method="adjacent", rows=[])
                groups.append(group)
            elif adjacent is not None:
                group = adjacent
            else:
                row.reject(
                    "household_unknown",
                    f"与户主关系为“{row.relation}”，但上一行不是本户户主，无法确定所属的户；"
                    "请把本户的行排在户主之后，或填写户主姓名、户主身份证号或户号",
                )
        else:
            row.reject(
                "household_unknown",
                "无法确定所属的户：请填写户号、户主身份证号，或户主姓名与“与户主关系”"
                "（户主本人填“户主”）",
            )
        adjacent = group if group is not None and group.method == "adjacent" else None
        if group is not None:
            group.rows.append(row)

    households = _existing_households(sorted({g.number for g in groups if g.number}))
    heads_registered = _existing_persons(sorted({g.head_id for g in groups if g.head_id}))
    heads_by_name = _registered_heads_by_name(groups)
    marks_heads = "relation" in table.columns or "head_id_number" in table.columns
    for group in groups:
        _settle_household(
            group, households, heads_registered, heads_by_name, marks_heads=marks_heads
        )
    return groups


def _registered_heads_by_name(groups: list[_Group]) -> dict[tuple[int, str], list[Household]]:
    """Registered households of the villages and head names the sheet names."""
    wanted = {(g.village.pk, g.head_name) for g in groups if g.head_name and g.village}
    found: dict[tuple[int, str], list[Household]] = {}
    names = sorted({name for _, name in wanted})
    for start in range(0, len(names), QUERY_CHUNK):
        chunk = names[start : start + QUERY_CHUNK]
        for household in Household.objects.filter(
            head__name__in=chunk, village_id__in={v for v, _ in wanted}
        ).select_related("head", "village"):
            assert household.head is not None
            key = (household.village_id, household.head.name)
            if key in wanted:
                found.setdefault(key, []).append(household)
    return found


def _group_label(group: _Group) -> str:
    if group.number:
        return f"户号{group.number}"
    if group.head_name and group.village is not None:
        return f"{group.village.name}户主“{group.head_name}”的户"
    return "本户"


def _settle_household(
    group: _Group,
    households: dict[str, Household],
    heads_registered: dict[str, Person],
    heads_by_name: dict[tuple[int, str], list[Household]],
    *,
    marks_heads: bool,
) -> None:
    label = _group_label(group)
    for row in group.rows:
        if group.head_id and not row.head_id_number and row.id_number == group.head_id:
            row.head_id_number = group.head_id  # the head's own row, grouped by reference
    # Without a 与户主关系 or 户主身份证号 column, the first row of a 户号 is its head.
    heads = [r for r in group.rows if r.is_head] if marks_heads else group.rows[:1]
    if len(heads) > 1:
        numbers = "、".join(str(r.number) for r in heads)
        reason = (
            f"{group.village.name}有{len(heads)}位户主都叫“{group.head_name}”（第{numbers}行），"
            "无法确定成员属于哪一户，未合并；请填写户号或户主身份证号"
            if group.method == "head_name" and group.village is not None
            else f"{label}有多个户主（第{numbers}行）"
        )
        for row in group.rows:
            row.reject("several_heads", reason)
        return

    household = households.get(group.number) if group.number else None
    if household is None and group.head_id:
        head_person = heads_registered.get(group.head_id)
        if head_person is not None and head_person.household_id is not None:
            household = head_person.household
    if household is None and heads and heads[0].existing is not None:
        household = heads[0].existing.household
    if household is None and not heads and group.head_name and group.village is not None:
        registered = heads_by_name.get((group.village.pk, group.head_name), [])
        if len(registered) > 1:
            for row in group.rows:
                row.reject(
                    "several_heads",
                    f"{group.village.name}已登记{len(registered)}位名叫“{group.head_name}”的户主，"
                    "无法确定本行属于哪一户；请填写户号或户主身份证号",
                )
            return
        household = registered[0] if registered else None
    if household is not None:
        group.household = household
        for row in group.rows:
            if row.hukou_village is not None and row.hukou_village.pk != household.village_id:
                row.reject(
                    "household_village_mismatch",
                    f"{label}已登记在{household.village.name}，与本行户籍村（社区）不一致",
                )
        return

    if not heads:
        in_db = heads_registered.get(group.head_id) if group.head_id else None
        if in_db is not None:
            reason = f"户主（{mask_id_number(group.head_id)}）已登记但不属于任何户，请先为户主建户"
        elif group.method == "head_name":
            reason = (
                f"{label}没有户主行（与户主关系为“户主”或“本人”的“{group.head_name}”），"
                "系统中也没有这位户主"
            )
        else:
            reason = f"{label}没有户主行：请在“与户主关系”中填写“户主”" + (
                f"，或补上户主（{mask_id_number(group.head_id)}）的一行" if group.head_id else ""
            )
        for row in group.rows:
            if row.existing is None:
                row.reject("head_missing", reason)
        return
    head = group.head = heads[0]
    if head.existing is not None:
        for row in group.rows:
            if row.existing is None:
                row.reject(
                    "head_without_household",
                    f"户主{head.name}（第{head.number}行）已登记但不属于任何户，请先为户主建户",
                )
        return
    for row in group.rows:
        if row is head:
            continue
        if head.error is not None:
            row.reject("head_rejected", f"本户户主（第{head.number}行）有误，本户未导入")
        elif row.hukou_village is not head.hukou_village and (
            row.hukou_village is not None and row.hukou_village != head.hukou_village
        ):
            row.reject(
                "household_village_mismatch",
                f"户籍村（社区）与户主（第{head.number}行）的{head.hukou_village.name}不一致",
            )


# --- the import -------------------------------------------------------------------------


def persons_import(
    *,
    actor: Any,
    path: str | Path,
    village: Village | str | None = None,
    import_good_rows: bool = False,
    policy_id: str | None = None,
    source_batch: str | None = None,
    progress: Progress | None = None,
    progress_every: int = 1000,
) -> ImportReport:
    """Import the households and persons of ``path``; return the row-by-row report.

    ``village`` is the household-register village of rows that name none (a row naming
    another one is rejected). ``policy_id`` makes an unknown 身份类别 a rejection.
    ``source_batch`` labels the identity tags (default: the file name). ``progress(stage,
    done, total)`` is called every ``progress_every`` rows. Raises ``ApplicationError`` for a
    file that cannot be read at all (no header row, unknown encoding, ...).
    """
    with gc_paused():
        return _persons_import(
            actor=actor,
            path=Path(path),
            village=village,
            import_good_rows=import_good_rows,
            policy_id=policy_id,
            source_batch=source_batch,
            progress=progress,
            progress_every=progress_every,
        )


def _persons_import(
    *,
    actor: Any,
    path: Path,
    village: Village | str | None,
    import_good_rows: bool,
    policy_id: str | None,
    source_batch: str | None,
    progress: Progress | None,
    progress_every: int,
) -> ImportReport:
    table = read_table(path)
    villages = _Villages(actor)
    default_village: Village | None = None
    if isinstance(village, Village):
        default_village = village
    elif village:
        default_village = village_resolve(actor=actor, text=village)
    identity_known = None
    if policy_id:
        try:
            policy = get_policy(policy_id).data
        except PolicyError as error:
            raise ApplicationError(error.code, error.message, **error.params) from None
        identity_known = lambda key: policy.identity(key) is not None  # noqa: E731

    report = ImportReport(
        source=table.source,
        kind=table.kind,
        encoding=table.encoding,
        sheet=table.sheet,
        header_row=table.header_row,
        columns={key: _column_letter(index) for key, index in table.columns.items()},
        rows_read=0,
        import_good_rows=import_good_rows,
        ignored_columns=table.ignored_columns,
    )
    today = clock.today()
    rows: list[_Row] = []
    total = len(table.rows)
    identity_ok: dict[tuple[Any, ...], bool] = {}
    positions = _row_positions(table)
    for done, (number, cells) in enumerate(table.rows, start=1):
        row = _parse_row(
            positions,
            number,
            cells,
            villages=villages,
            default_village=default_village,
            identity_known=identity_known,
            identity_ok=identity_ok,
            today=today,
        )
        if row is not None:
            rows.append(row)
        if progress and (done % progress_every == 0 or done == total):
            progress("校验", done, total)
    report.rows_read = len(rows)
    _check_duplicates_and_database(rows)
    groups = _group_rows(rows, table)

    present = [r for r in rows if r.existing is not None and r.error is None]
    report.already_present = [
        r.report("already_present", f"已登记在{r.existing.hukou_village.name}，未重复导入")
        for r in present
        if r.existing is not None
    ]
    report.households_present = len(
        {r.existing.household_id for r in present if r.existing and r.existing.household_id}
    )
    report.households_formed = _households_formed(groups)
    rejected = [r for r in rows if r.error is not None]
    if rejected and not import_good_rows:
        report.rejected = [r.report(*r.error) for r in rejected if r.error]
        return report

    failed: dict[int, tuple[str, str]] = {}
    try:
        _write(
            actor=actor,
            groups=groups,
            report=report,
            import_good_rows=import_good_rows,
            source=table.source,
            source_batch=source_batch or path.name,
            failed=failed,
            progress=progress,
            progress_every=progress_every,
            total=sum(1 for r in rows if r.error is None and r.existing is None),
        )
    except _Abort:
        report.persons_created = report.households_created = report.identity_tags_added = 0
        report.committed = False
    for row in rows:
        if row.number in failed:
            row.error = failed[row.number]
    report.rejected = [r.report(*r.error) for r in rows if r.error]
    if failed:
        report.households_formed = _households_formed(groups)
    return report


def _households_formed(groups: list[_Group]) -> dict[str, int]:
    """How many households each method formed (a household with one row left counts)."""
    counts = {label: 0 for label in HOUSEHOLD_METHODS.values()}
    for group in groups:
        if any(r.error is None for r in group.rows):
            counts[HOUSEHOLD_METHODS[group.method]] += 1
    return {label: n for label, n in counts.items() if n}


class _Abort(Exception):
    """A service refused a row during an all-or-nothing import: roll everything back."""


@transaction.atomic
def _write(
    *,
    actor: Any,
    groups: list[_Group],
    report: ImportReport,
    import_good_rows: bool,
    source: str,
    source_batch: str,
    failed: dict[int, tuple[str, str]],
    progress: Progress | None,
    progress_every: int,
    total: int,
) -> None:
    written = 0

    def advance(count: int) -> None:
        nonlocal written
        before, written = written, written + count
        if progress and (written // progress_every > before // progress_every or written == total):
            progress("导入", written, total)

    def refuse(todo: list[_Row], error: ApplicationError) -> None:
        for row in todo:
            failed[row.number] = (error.code, _reason(error, row))
        if not import_good_rows:
            raise _Abort from None

    created: list[tuple[_Row, int]] = []  # (row, the new person's id)
    # New households go through the registry's batch service, per village and chunk.
    new: dict[Village, list[tuple[_Group, list[_Row]]]] = {}
    for group in groups:
        todo = [r for r in group.rows if r.error is None and r.existing is None]
        if not todo:
            continue
        if group.household is None and group.head is not None and group.head in todo:
            assert group.head.hukou_village is not None
            new.setdefault(group.head.hukou_village, []).append((group, todo))
            continue
        # Newcomers to a household already registered, one service call each.
        household = group.household
        try:
            with transaction.atomic():
                persons = [(row, _register_one(actor, row, household=household).pk) for row in todo]
        except ApplicationError as error:
            refuse(todo, error)
            continue
        created += persons
        advance(len(todo))
    for village, batch in new.items():
        for start in range(0, len(batch), HOUSEHOLD_CHUNK):
            persons, households = _register_households(
                actor, village, batch[start : start + HOUSEHOLD_CHUNK], refuse
            )
            created += persons
            report.households_created += households
            advance(len(persons))
    if len(created) >= ANALYZE_ROWS:
        # The tables grew in this transaction: PostgreSQL's statistics refreshed once, after
        # the bulk phase (the lookups during it go by unique indexes, whatever the statistics).
        analyze(Person, Household)
    report.persons_created = len(created)
    tags = [
        IdentityTagData(
            person_id=person_id,
            category_key=row.identity,
            department=row.department,
            source_list=source,
            source_batch=source_batch,
        )
        for row, person_id in created
        if row.identity
    ]
    report.identity_tags_added = identity_tags_add_many(actor=actor, tags=tags)
    if report.persons_created:
        AuditLog.objects.create(
            actor=actor if getattr(actor, "pk", None) is not None else None,
            actor_name=getattr(actor, "username", "") or "system",
            action="transfer.persons_import",
            object_type="transfer.file",
            object_id=source[:64],
            after={
                "persons_created": report.persons_created,
                "households_created": report.households_created,
                "households_formed": report.households_formed,
                "identity_tags_added": report.identity_tags_added,
                "already_present": len(report.already_present),
                "rejected_rows": sum(1 for g in groups for r in g.rows if r.error) + len(failed),
            },
        )
    report.committed = report.persons_created > 0


def _register_households(
    actor: Any,
    village: Village,
    batch: list[tuple[_Group, list[_Row]]],
    refuse: Callable[[list[_Row], ApplicationError], None],
) -> tuple[list[tuple[_Row, int]], int]:
    """Register ``batch`` with ``household_register_many``; a household it refuses is
    reported (``refuse`` aborts an all-or-nothing import) and the rest sent again."""
    while batch:
        data = []
        for group, todo in batch:
            head = group.head
            assert head is not None
            data.append(
                HouseholdData(
                    head=head.person_data(),
                    members=[r.person_data() for r in todo if r is not head],
                    number=group.number,
                    address=head.address,
                )
            )
        try:
            with transaction.atomic():
                households, ids = household_register_many_ids(
                    actor=actor, village=village, households=data
                )
        except ApplicationError as error:
            row = error.params.get("row")
            if not isinstance(row, int) or not 1 <= row <= len(batch):
                for _, todo in batch:
                    refuse(todo, error)
                return [], 0
            refuse(batch[row - 1][1], _unrowed(error))
            batch = batch[: row - 1] + batch[row:]
            continue
        return [(r, ids[r.id_number]) for _, todo in batch for r in todo], households
    return [], 0


def _unrowed(error: ApplicationError) -> ApplicationError:
    """The batch service's error without its ``第N户：`` prefix (the report has row numbers)."""
    message = re.sub(r"^第\d+户(（户号[^）]*）)?：", "", error.message)
    return ApplicationError(error.code, message, **error.params)


def _reason(error: ApplicationError, row: _Row) -> str:
    """The service's message without the leading ``name（ID）：`` the report already shows."""
    reason = error.params.get("reason")
    if isinstance(reason, str) and reason:
        return reason
    prefix = f"{row.name}（{mask_id_number(row.id_number)}）"
    message = error.message
    return message.removeprefix(prefix).lstrip("：") or message


def _register_one(actor: Any, row: _Row, *, household: Household | None) -> Person:
    assert row.hukou_village is not None
    return person_register(
        actor=actor,
        hukou_village=household.village if household else row.hukou_village,
        id_number=row.id_number,
        name=row.name,
        id_type=row.id_type,
        phone=row.phone,
        residence_village=row.residence_village,
        household=household,
        relation_to_head=row.relation,
        sex=row.sex,
        birth_date=row.birth_date,
    )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


# --- departments' lists (yibao.intake) ------------------------------------------------------


@dataclass(eq=False)
class ListRow:
    """One row of a department's list: who (ID number checked), and what the list says."""

    number: int
    id_number: str
    name: str
    identity: str = ""
    department: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    died_on: dt.date | None = None
    activated_on: dt.date | None = None
    insured_place: str = ""
    insurance_kind: str = ""
    school: str = ""
    phone: str = ""
    payer: str = ""
    error: tuple[str, str] | None = None  # (code, reason)

    def reject(self, code: str, reason: str) -> None:
        if self.error is None:
            self.error = (code, reason)


def list_rows(
    *, path: str | Path, progress: Progress | None = None, progress_every: int = 1000
) -> list[ListRow]:
    """The rows of a department's list (.xlsx/.csv, UTF-8 or GBK): ID numbers checked as the
    registry checks them, dates read, bad rows carrying their reason. Touches no record."""
    table = read_table(Path(path))
    today = clock.today()
    rows: list[ListRow] = []
    total = len(table.rows)
    for done, (number, cells) in enumerate(table.rows, start=1):
        row = _list_row(table, number, cells, today=today)
        if row is not None:
            rows.append(row)
        if progress and (done % progress_every == 0 or done == total):
            progress("读取", done, total)
    return rows


def _list_row(table: Table, number: int, cells: list[Any], *, today: dt.date) -> ListRow | None:
    get = table.value
    id_number, id_problem = _id_text(get(cells, "id_number"))
    name = _text(get(cells, "name"))
    if not id_number and not name:
        return None
    row = ListRow(number=number, id_number=id_number, name=name)
    for key in ("identity", "department", "insured_place", "insurance_kind", "school", "payer"):
        setattr(row, key, _text(get(cells, key)))
    row.phone = _text(get(cells, "phone")).replace(" ", "")
    if id_problem:
        row.reject("id_number_mangled", id_problem)
    elif not id_number:
        row.reject("id_number_required", "未填写公民身份号码")
    else:
        try:
            row.id_number = parse_id_number(
                Person.IdType.RESIDENT_ID, id_number, today=today
            ).number
        except ApplicationError as error:
            row.reject(error.code, f"证件号码无效：{error.params.get('reason') or error.message}")
    for key in ("valid_from", "valid_to", "died_on", "activated_on"):
        try:
            setattr(row, key, _date(get(cells, key)))
        except ValueError:
            row.reject("invalid_date", f"{FIELD_LABELS[key]}“{_text(get(cells, key))}”不是日期")
    if row.valid_from and row.valid_to and row.valid_from > row.valid_to:
        row.reject("invalid_window", f"有效期起{row.valid_from}晚于有效期止{row.valid_to}")
    return row
