"""Areas as official data: load the statistical division codes, set a township up by code.

Writes (``divisions_load``, ``township_setup``) are services: keyword-only, ``actor=``, one
transaction, audited; only a district office (or a superuser) may call them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from yibao.core.access import require_office, scope_forget
from yibao.core.audit import audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.core.models import AuditLog
from yibao.registry.models import District, Township, Village

from .divisions import DATA_FILE, SOURCE, name_stem, read_divisions, short_name
from .models import Division


@dataclass
class DivisionLoadResult:
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        levels = "，".join(
            f"{Division.Level(level).label}{n}个" for level, n in self.by_level.items()
        )
        return (
            f"已载入统计用区划代码（{self.source}）：{levels}；"
            f"新增{self.created}个，更新{self.updated}个，未变{self.unchanged}个"
        )


@transaction.atomic
def divisions_load(
    *, actor: Any, path: str | Path | None = None, source: str = ""
) -> DivisionLoadResult:
    """Load (or refresh) the division codes from the shipped file or ``path``."""
    require_office(actor, "载入统计用区划代码", district_only=True)
    path = Path(path) if path else DATA_FILE
    source = source or (SOURCE if path == DATA_FILE else path.name)
    rows = list(read_divisions(path))
    existing = {d.code: d for d in Division.objects.all()}
    result = DivisionLoadResult(source=source)
    result.by_level = dict(Counter(r.level for r in rows))
    new, changed = [], []
    for row in rows:
        if row.level not in Division.Level.values or len(row.code) != 12:
            raise ApplicationError(
                "invalid_division", f"区划代码文件中有无效的行：{row.code} {row.name}"
            )
        division = existing.get(row.code)
        if division is None:
            new.append(
                Division(
                    code=row.code,
                    name=row.name,
                    level=row.level,
                    parent_code=row.parent,
                    source=source,
                )
            )
        elif (division.name, division.level, division.parent_code) != (
            row.name,
            row.level,
            row.parent,
        ):
            division.name, division.level = row.name, row.level
            division.parent_code, division.source = row.parent, source
            changed.append(division)
        else:
            result.unchanged += 1
    Division.objects.bulk_create(new, batch_size=1000)
    Division.objects.bulk_update(
        changed, ["name", "level", "parent_code", "source"], batch_size=1000
    )
    result.created, result.updated = len(new), len(changed)
    AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) is not None else None,
        actor_name=getattr(actor, "username", "") or "system",
        action="division.load",
        object_type="intake.division",
        object_id=path.name[:64],
        after={
            "source": source,
            "created": result.created,
            "updated": result.updated,
            "by_level": result.by_level,
        },
    )
    return result


def division_list(*, parent: str = "", search: str = "", level: str = "") -> QuerySet[Division]:
    """Official divisions under ``parent`` (a code of any length), or matching ``search``."""
    queryset = Division.objects.all()
    if parent:
        queryset = queryset.filter(parent_code=parent.ljust(12, "0"))
    if level:
        queryset = queryset.filter(level=level)
    if search:
        queryset = queryset.filter(name__contains=search.strip()) | queryset.filter(
            code__startswith=search.strip()
        )
    return queryset.order_by("code")


@dataclass
class TownshipSetupResult:
    district: str
    township: str
    township_code: str
    created: list[str] = field(default_factory=list)  # what was created, in words
    coded: list[str] = field(default_factory=list)  # existing records given their code
    corrected: list[str] = field(default_factory=list)  # codes that were wrong
    official_unmatched: list[str] = field(default_factory=list)  # not created: add_missing
    local_unmatched: list[str] = field(default_factory=list)  # villages without a code

    def summary(self) -> str:
        parts = [f"{self.district}{self.township}（{self.township_code}）"]
        if self.created:
            parts.append(f"新建{len(self.created)}项")
        if self.coded:
            parts.append(f"补上区划代码{len(self.coded)}项")
        if self.corrected:
            parts.append("更正代码：" + "；".join(self.corrected))
        if self.official_unmatched:
            parts.append("统计用区划中有、本系统未对应的：" + "、".join(self.official_unmatched))
        if self.local_unmatched:
            parts.append("本系统中有、统计用区划中未对应的：" + "、".join(self.local_unmatched))
        return "，".join(parts)


def _division(code: str, level: str) -> Division:
    division = Division.objects.filter(code=code.ljust(12, "0"), level=level).first()
    if division is None:
        loaded = Division.objects.exists()
        raise ApplicationError(
            "unknown_division",
            f"统计用区划代码中没有{code}"
            + ("" if loaded else "：请先载入区划代码（yibao areas load）"),
            code=code,
        )
    return division


@transaction.atomic
def township_setup(*, actor: Any, code: str, add_missing: bool = False) -> TownshipSetupResult:
    """Set the township of official ``code`` (9 digits) up with its district and villages.

    A township not yet registered is created with all its villages. For one already
    registered (found by code, or by name in its district), each official village is matched
    to a registered one by code, name, or name without 村/社区 (the documents write 第五村
    for 第五社区); matched villages get their code; the rest are listed on both sides, and
    official villages are created only with ``add_missing``.
    """
    require_office(actor, "按区划代码设置街道（镇）", district_only=True)
    code = code.strip()
    official = _division(code[:9], Division.Level.TOWNSHIP)
    county = _division(official.parent_code[:6], Division.Level.COUNTY)
    result = TownshipSetupResult(
        district=county.name, township=official.name, township_code=official.code[:9]
    )
    district = _district(actor, county, result)
    township = _township(actor, district, official, result)
    villages = list(Division.objects.filter(parent_code=official.code, level="village"))
    registered = list(township.villages.all())
    if not registered:
        for seq, division in enumerate(villages, start=1):
            village = Village.objects.create(
                township=township, name=short_name(division.name), code=division.code, seq=seq
            )
            audit_record(
                actor=actor, action="village.create", instance=village, after=snapshot(village)
            )
            result.created.append(village.name)
        scope_forget(actor)
        return result
    _match_villages(actor, township, villages, registered, result, add_missing=add_missing)
    scope_forget(actor)  # the actor's villages may have changed
    return result


def _district(actor: Any, county: Division, result: TownshipSetupResult) -> District:
    code = county.code[:6]
    district = (
        District.objects.filter(code=code).first()
        or District.objects.filter(name=county.name).first()
    )
    if district is None:
        district = District.objects.create(name=county.name, code=code)
        audit_record(
            actor=actor, action="district.create", instance=district, after=snapshot(district)
        )
        result.created.append(county.name)
    elif district.code != code:
        _set_code(actor, district, code, result)
    return district


def _township(
    actor: Any, district: District, official: Division, result: TownshipSetupResult
) -> Township:
    code = official.code[:9]
    township = Township.objects.filter(code=code).first()
    if township is not None and township.district_id != district.pk:
        raise ApplicationError(
            "code_conflict",
            f"区划代码{code}已用于{township.district.name}{township.name}",
            code=code,
        )
    township = township or Township.objects.filter(district=district, name=official.name).first()
    if township is None:
        township = Township.objects.create(district=district, name=official.name, code=code)
        audit_record(
            actor=actor, action="township.create", instance=township, after=snapshot(township)
        )
        result.created.append(official.name)
    elif township.code != code:
        _set_code(actor, township, code, result)
    return township


def _set_code(actor: Any, record: Any, code: str, result: TownshipSetupResult) -> None:
    holder = type(record).objects.filter(code=code).exclude(pk=record.pk).first()
    if holder is not None:
        raise ApplicationError(
            "code_conflict", f"区划代码{code}已用于{holder.name}，不能再给{record.name}", code=code
        )
    before = snapshot(record)
    if record.code:
        wrong = Division.objects.filter(code=record.code.ljust(12, "0")).first()
        result.corrected.append(
            f"{record.name}原代码{record.code}"
            + (f"（统计用区划中为{wrong.name}）" if wrong else "")
            + f"改为{code}"
        )
    else:
        result.coded.append(record.name)
    record.code = code
    record.save(update_fields=["code"])
    audit_record(
        actor=actor,
        action=f"{record._meta.model_name}.set_code",
        instance=record,
        before=before,
        after=snapshot(record),
    )


def _match_villages(
    actor: Any,
    township: Township,
    official: list[Division],
    registered: list[Village],
    result: TownshipSetupResult,
    *,
    add_missing: bool,
) -> None:
    left = {v.pk: v for v in registered}
    by_code = {v.code: v for v in registered if v.code}
    pending: list[Division] = []
    for division in official:
        village = by_code.get(division.code)
        if village is not None:
            left.pop(village.pk, None)
        else:
            pending.append(division)
    for matcher in (short_name, name_stem):
        unmatched = []
        for division in pending:
            candidates = [v for v in left.values() if matcher(v.name) == matcher(division.name)]
            if len(candidates) == 1:
                village = candidates[0]
                left.pop(village.pk)
                _set_code(actor, village, division.code, result)
            else:
                unmatched.append(division)
        pending = unmatched
    next_seq = max((v.seq or 0 for v in registered), default=0)
    for division in pending:
        if add_missing:
            next_seq += 1
            village = Village.objects.create(
                township=township, name=short_name(division.name), code=division.code, seq=next_seq
            )
            audit_record(
                actor=actor, action="village.create", instance=village, after=snapshot(village)
            )
            result.created.append(village.name)
        else:
            result.official_unmatched.append(f"{short_name(division.name)}（{division.code}）")
    result.local_unmatched = [v.name for v in left.values()]
