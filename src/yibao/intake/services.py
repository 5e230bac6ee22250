"""Departments' identity lists: stage a list with its change against the department's last
confirmed list, then confirm it (tags take effect) or discard it.

Nothing on a staged list touches a person: identity tags are added or ended only by
:func:`identity_list_confirm`, by a township or district office. Every write is audited.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from yibao.collection.hardship import hardship_tags_refresh
from yibao.core.access import require_office, require_township, scope_of
from yibao.core.audit import audit_bulk, audit_entry, audit_record, snapshot
from yibao.core.errors import ApplicationError
from yibao.policy import IdentityClaim, PolicyError, QuoteRefused, QuoteRequest, get_policy
from yibao.policy.model import Policy
from yibao.registry.models import IdentityTag, Person, Township, Village
from yibao.registry.selectors import persons_by_id_number
from yibao.registry.services import identity_category_refusal, identity_tag_add
from yibao.transfer.imports import list_rows

from .models import IdentityList, IdentityListEntry

Progress = Callable[[str, int, int], None]
Change = IdentityListEntry.Change

# The certifying departments the documents name (a list may name another one).
DEPARTMENTS = ("区民政局", "区乡村振兴局", "区退役军人事务局", "区卫生健康委", "区残联", "高校")


@dataclass(frozen=True, slots=True)
class ListHeader:
    """What the clerk says about a list: whose it is, which batch, as of which day."""

    department: str
    batch: str
    list_date: dt.date
    policy_id: str


def policy_data(policy_id: str) -> Policy:
    try:
        return get_policy(policy_id).data
    except PolicyError as error:
        raise ApplicationError(error.code, error.message, **error.params) from None


def township_of(actor: Any, township: Township | None) -> Township:
    """``township`` if in the actor's area, else the actor's own township."""
    if township is None:
        scope = scope_of(actor)
        if scope.township_id is None:
            raise ApplicationError("township_required", "请指定名单所属的街道（镇）")
        township = Township.objects.get(pk=scope.township_id)
    require_township(actor, township)
    return township


def _previous(township: Township, department: str) -> IdentityList | None:
    return (
        IdentityList.objects.filter(
            township=township, department=department, status=IdentityList.Status.CONFIRMED
        )
        .order_by("-list_date", "-id")
        .first()
    )


@transaction.atomic
def identity_list_stage(
    *,
    actor: Any,
    path: str | Path,
    header: ListHeader,
    township: Township | None = None,
    progress: Progress | None = None,
    progress_every: int = 500,
) -> IdentityList:
    """Read a department's list (.xlsx/.csv, UTF-8 or GBK), match each row to a person by
    ID number, and stage it with its change against the department's last confirmed list:
    new, changed (category or validity), unchanged, ended, unknown person, invalid row."""
    require_office(actor, "导入部门身份名单")
    township = township_of(actor, township)
    department, batch = header.department.strip(), header.batch.strip()
    if not department or not batch:
        raise ApplicationError("list_header_required", "请填写认定部门和批次")
    policy = policy_data(header.policy_id)
    taken = IdentityList.objects.filter(township=township, department=department, batch=batch)
    taken = taken.exclude(status=IdentityList.Status.DISCARDED).first()
    if taken is not None:
        raise ApplicationError(
            "list_exists",
            f"{department}{batch}批次的名单已导入（{taken.get_status_display()}）；"
            "如需重新导入，请先作废原名单",
            list_id=taken.pk,
        )
    rows = list_rows(path=path, progress=progress, progress_every=progress_every)
    identity_list = IdentityList.objects.create(
        township=township,
        department=department,
        batch=batch,
        list_date=header.list_date,
        policy_id=header.policy_id,
        source=Path(path).name[:200],
        previous=_previous(township, department),
        uploaded_by=actor,
    )
    entries = _entries(identity_list, rows, policy, township)
    IdentityListEntry.objects.bulk_create(entries, batch_size=1000)
    _review_notes(identity_list, entries, policy)
    identity_list.counts = {str(k): v for k, v in Counter(e.change for e in entries).items()}
    identity_list.save(update_fields=["counts"])
    audit_record(
        actor=actor,
        action="identity_list.stage",
        instance=identity_list,
        after=snapshot(identity_list),
    )
    return identity_list


def _entries(
    identity_list: IdentityList, rows: list[Any], policy: Policy, township: Township
) -> list[IdentityListEntry]:
    numbers = sorted({r.id_number for r in rows if r.id_number})
    persons = persons_by_id_number(
        numbers, among=Person.objects.filter(hukou_village__township=township)
    )
    before: dict[str, list[IdentityListEntry]] = defaultdict(list)
    if identity_list.previous is not None:
        for entry in identity_list.previous.entries.exclude(
            change__in=[Change.ENDED, Change.INVALID]
        ).select_related("person"):
            before[entry.id_number].append(entry)
    now: dict[str, list[IdentityListEntry]] = defaultdict(list)
    entries: list[IdentityListEntry] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        entry = IdentityListEntry(
            identity_list=identity_list,
            row=row.number,
            id_number=row.id_number,
            name=row.name,
            category_key=row.identity,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            person=persons.get(row.id_number),
        )
        entries.append(entry)
        identity = policy.identity(row.identity) if row.identity else None
        if row.error is not None:
            entry.change, entry.detail = Change.INVALID, row.error[1]
            entry.person = None
        elif identity is None:
            entry.change = Change.INVALID
            entry.detail = (
                f"身份类别“{row.identity}”不在政策文件所列的资助类别中"
                if row.identity
                else "未填写身份类别"
            )
        elif (row.id_number, identity.key) in seen:
            entry.change = Change.INVALID
            entry.detail = f"与第{seen[(row.id_number, identity.key)]}行重复"
        else:
            seen[(row.id_number, identity.key)] = row.number
            entry.category_key = identity.key
            now[row.id_number].append(entry)
            _window_flag(entry, identity, identity_list.list_date)
    _refuse_unknown_categories(now)
    for number, current in now.items():
        previous = before.get(number, [])
        for entry in current:
            if entry.person is None:
                entry.change = Change.UNKNOWN_PERSON
                entry.detail = "本街道（镇）没有登记此人，请先登记后再确认其身份"
            elif not previous:
                entry.change = Change.NEW
            else:
                _compare(entry, previous)
    for number, previous in before.items():
        if number in now:
            kept = {e.category_key for e in now[number]}
            if not any(e.change == Change.CHANGED for e in now[number]):
                entries += [
                    _ended(identity_list, e) for e in previous if e.category_key not in kept
                ]
            continue
        entries += [_ended(identity_list, e) for e in previous]
    return entries


def _refuse_unknown_categories(now: dict[str, list[IdentityListEntry]]) -> None:
    """Mark invalid, before anything is confirmed, each row whose category the person's own
    township's policies do not know: the tag service's check (``identity_category_refusal``),
    asked once per village pair and category."""
    ids = {
        pk
        for entries in now.values()
        for e in entries
        if e.person is not None
        for pk in (e.person.hukou_village_id, e.person.residence_village_id)
        if pk is not None
    }
    villages = Village.objects.select_related("township__district").in_bulk(sorted(ids))
    asked: dict[tuple[int, int | None, str], ApplicationError | None] = {}
    for entries in now.values():
        for entry in list(entries):
            person = entry.person
            if person is None:
                continue
            key = (person.hukou_village_id, person.residence_village_id, entry.category_key)
            if key not in asked:
                asked[key] = identity_category_refusal(
                    entry.category_key,
                    villages=(villages.get(key[0]), villages.get(key[1]) if key[1] else None),
                    who=entry.name or "此人",
                )
            refusal = asked[key]
            if refusal is not None:
                entry.change, entry.detail = Change.INVALID, refusal.message
                entries.remove(entry)
    for number in [n for n, entries in now.items() if not entries]:
        del now[number]


def _compare(entry: IdentityListEntry, previous: list[IdentityListEntry]) -> None:
    same = next((e for e in previous if e.category_key == entry.category_key), None)
    if same is None:
        was = "、".join(e.category_key for e in previous)
        entry.change = Change.CHANGED
        entry.detail = f"身份类别：{was} → {entry.category_key}"
        return
    old, new = (same.valid_from, same.valid_to), (entry.valid_from, entry.valid_to)
    if old == new:
        entry.change = Change.UNCHANGED
        return
    entry.change = Change.CHANGED
    entry.detail = f"有效期：{_window(*old)} → {_window(*new)}"


def _window(start: dt.date | None, end: dt.date | None) -> str:
    return f"{start or '—'}至{end or '—'}"


def _ended(identity_list: IdentityList, old: IdentityListEntry) -> IdentityListEntry:
    return IdentityListEntry(
        identity_list=identity_list,
        id_number=old.id_number,
        name=old.name,
        person=old.person,
        category_key=old.category_key,
        change=Change.ENDED,
        detail=f"上一份名单（{identity_list.previous}）有，本名单没有",
    )


def _window_flag(entry: IdentityListEntry, identity: Any, list_date: dt.date) -> None:
    """Flag an entry whose list date is past the category's subsidy window (Bishan
    五（二）1（2）: the 7 low-income groups and 稳定脱贫 January–December, the others
    January–June) or past its certification cut-off (五（一）4)."""
    flags = []
    if identity.valid_to is not None and list_date > identity.valid_to:
        flags.append(
            f"名单日期{list_date}已过“{identity.label()}”的资助期限"
            f"（{identity.window_printed or identity.valid_to}，"
            f"{identity.window_cite or identity.cite}），确认后仍记为身份，但不享受资助"
        )
    if identity.certified_until is not None and list_date > identity.certified_until:
        flags.append(
            f"名单日期{list_date}晚于“{identity.label()}”的认定截止日{identity.certified_until}"
            f"（{identity.certified_cite or identity.cite}）：此后认定的不予资助"
        )
    entry.flags = flags


def _review_notes(
    identity_list: IdentityList, entries: list[IdentityListEntry], policy: Policy
) -> None:
    """What the confirming office must see: the multi-identity order for people who will hold
    several identities, and that a person who has paid gets no difference back."""
    from yibao.collection.models import Enrollment

    acting = [e for e in entries if e.person_id and e.change in (Change.NEW, Change.CHANGED)]
    paid = set(
        Enrollment.objects.filter(
            person_id__in={e.person_id for e in acting},
            benefit_year=policy.benefit_year,
            status=Enrollment.Status.PAID,
        ).values_list("person_id", flat=True)
    )
    holding = identities_after(identity_list, entries, {e.person_id for e in acting if e.person_id})
    for entry in acting:
        keys = holding.get(entry.person_id or 0, [])
        if len(keys) > 1:
            entry.applied = applied_identity(
                policy_id=identity_list.policy_id, keys=keys, on=identity_list.list_date
            )[:300]
        if entry.person_id in paid:
            entry.flags = [
                *entry.flags,
                f"已缴纳{policy.benefit_year}年度参保费：享受资助参保后身份发生变化的，"
                f"不再进行差额资助（{policy.multi_identity.cite}）",
            ]
    IdentityListEntry.objects.bulk_update(acting, ["applied", "flags"], batch_size=500)


# --- confirm / discard --------------------------------------------------------------------


def _staged(actor: Any, identity_list: IdentityList, what: str) -> IdentityList:
    require_office(actor, what)
    identity_list = IdentityList.objects.select_for_update().get(pk=identity_list.pk)
    require_township(actor, identity_list.township)
    if identity_list.status != IdentityList.Status.STAGED:
        raise ApplicationError(
            "list_not_staged",
            f"名单{identity_list}已{identity_list.get_status_display()}，不能再{what}",
            list_id=identity_list.pk,
        )
    return identity_list


@transaction.atomic
def identity_list_confirm(*, actor: Any, identity_list: IdentityList) -> IdentityList:
    """Let a staged list take effect: tag new and changed entries (department, batch,
    validity window), end the tags of ended entries the day before the list date. Refused
    when another list of the department was confirmed after this one was staged."""
    identity_list = _staged(actor, identity_list, "确认")
    latest = _previous(identity_list.township, identity_list.department)
    if latest is not None and latest.pk != identity_list.previous_id:
        raise ApplicationError(
            "list_stale",
            f"本名单导入后，{identity_list.department}又确认了名单{latest}；"
            "请作废本名单并重新导入，以便与最新名单比对",
            list_id=identity_list.pk,
        )
    source = f"{identity_list.department}{identity_list.batch}名单"
    batch = f"{identity_list.department}:{identity_list.batch}"
    end_day = identity_list.list_date - dt.timedelta(days=1)
    entries = list(identity_list.entries.select_related("person"))
    new_tags: set[int] = set()
    for entry in entries:
        if entry.person is not None and entry.change in (Change.NEW, Change.CHANGED):
            entry.tag = identity_tag_add(
                actor=actor,
                person=entry.person,
                category_key=entry.category_key,
                department=identity_list.department,
                source_list=source,
                source_batch=batch,
                valid_from=entry.valid_from,
                valid_to=entry.valid_to,
                certified_on=identity_list.list_date,
            )
            entry.save(update_fields=["tag"])
            new_tags.add(entry.tag.pk)
    for entry in entries:
        if entry.person is not None and entry.change in (Change.CHANGED, Change.ENDED):
            unchanged = {
                e.category_key
                for e in entries
                if e.person_id == entry.person_id and e.change == Change.UNCHANGED
            }
            _end_tags(actor, entry, identity_list, unchanged, new_tags, end_day)
    identity_list.status = IdentityList.Status.CONFIRMED
    identity_list.decided_by, identity_list.decided_at = actor, timezone.now()
    identity_list.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action="identity_list.confirm",
        instance=identity_list,
        after=snapshot(identity_list),
    )
    return identity_list


def _end_tags(
    actor: Any,
    entry: IdentityListEntry,
    identity_list: IdentityList,
    unchanged: set[str],
    new_tags: set[int],
    end_day: dt.date,
) -> None:
    """End, the day before the list date, the person's open tags from this department that
    this list replaces: for a changed entry all but the unchanged categories and the tags
    just added; for an ended entry that category."""
    tags = IdentityTag.objects.filter(person=entry.person, department=identity_list.department)
    if entry.change == Change.ENDED:
        tags = tags.filter(category_key=entry.category_key)
    tags = tags.exclude(category_key__in=unchanged).exclude(pk__in=new_tags)
    entries = []
    for tag in tags:
        if tag.valid_to is not None and tag.valid_to <= end_day:
            continue
        before = snapshot(tag)
        tag.valid_to = max(end_day, tag.valid_from) if tag.valid_from else end_day
        tag.save(update_fields=["valid_to"])
        entries.append(
            audit_entry(
                actor=actor,
                action="identity_tag.end",
                instance=tag,
                before=before,
                after={**snapshot(tag), "list": str(identity_list)},
            )
        )
    audit_bulk(entries)
    if entries:
        hardship_tags_refresh([entry.person_id])


@transaction.atomic
def identity_list_discard(
    *, actor: Any, identity_list: IdentityList, reason: str = ""
) -> IdentityList:
    """Discard a staged list: nothing of it takes effect."""
    identity_list = _staged(actor, identity_list, "作废")
    before = snapshot(identity_list)
    identity_list.status = IdentityList.Status.DISCARDED
    identity_list.decided_by, identity_list.decided_at = actor, timezone.now()
    identity_list.save(update_fields=["status", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action="identity_list.discard",
        instance=identity_list,
        before=before,
        after={**snapshot(identity_list), "reason": reason},
    )
    return identity_list


# --- what confirmation shows: the policy's multi-identity order ----------------------------


def identities_after(
    identity_list: IdentityList, entries: list[IdentityListEntry], person_ids: set[int]
) -> dict[int, list[str]]:
    """The identity keys each of ``person_ids`` holds once the list is confirmed: tags from
    other departments valid on the list date, plus this list's categories for the person
    (two passes over memory, one query)."""
    day = identity_list.list_date
    held: dict[int, list[str]] = defaultdict(list)
    others = IdentityTag.objects.filter(person_id__in=person_ids).exclude(
        department=identity_list.department
    )
    for tag in others.order_by("id"):
        if (tag.valid_from is None or tag.valid_from <= day) and (
            tag.valid_to is None or tag.valid_to >= day
        ):
            held[tag.person_id].append(tag.category_key)
    for entry in entries:
        if (
            entry.person_id in person_ids
            and entry.row
            and entry.change
            in (
                Change.NEW,
                Change.CHANGED,
                Change.UNCHANGED,
            )
        ):
            held[entry.person_id].append(entry.category_key)
    return {person_id: list(dict.fromkeys(keys)) for person_id, keys in held.items()}


def applied_identity(*, policy_id: str, keys: list[str], on: dt.date, tier: int = 1) -> str:
    """What the policy engine applies to a person holding ``keys`` on ``on``, in words: the
    order of the policy's multi-identity rule and the identity the engine picks."""
    policy = get_policy(policy_id)
    rule = policy.data.multi_identity
    if rule.rule == "priority":
        rank = {key: n for n, group in enumerate(rule.order, start=1) for key in group}
        listed = "、".join(
            f"{key}（第{rank[key]}顺位）" if key in rank else f"{key}（未列入顺序）"
            for key in sorted(keys, key=lambda k: rank.get(k, 99))
        )
    else:
        listed = "、".join(keys) + "（就高）"
    request = QuoteRequest(
        paid_on=on, tier=tier, identities=tuple(IdentityClaim(key=k) for k in keys)
    )
    try:
        quote = policy.quote(request)
    except QuoteRefused as refused:
        return f"{listed}：{refused.message}"
    if quote.identity is None:
        return f"{listed}：均不享受资助"
    return f"{listed} → 适用“{quote.identity.name}”，资助{quote.subsidy}元（{rule.cite}）"
