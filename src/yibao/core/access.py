"""Village scope: the one rule that says what an actor may see, and the only way to reach a
protected record.

:func:`scope_of` computes an actor's :class:`Scope` once (one or two queries) and caches it
on the actor object, so a request or a batch asks the same object every time. Views, API
endpoints, CLI commands, services and selectors fetch persons, villages, enrollments,
payments and collectors through the ``access_*`` functions, check objects they already hold
with the ``require_*`` functions, and filter lists by :func:`villages_in_scope`.

The rule: a village collector acts in their own villages; a township office in its township;
a district office in its district; an auditor reads (never writes) in its township or
district; a superuser acts everywhere. A user without a collector profile acts nowhere.
A person is in scope through their household-register (户籍) village or their residence
village; an enrollment and its payments through the village the enrollment was made in; a
collector through one of their villages (or by being the actor).

A record outside the scope answers exactly as a record that does not exist: the same code
(``not_found``) and the same sentence, naming only what the caller asked for (its number).
So a refusal never tells a collector who lives in another village or that a record exists.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from yibao.core.errors import ApplicationError

_CACHE_ATTRIBUTE = "_yibao_scope"

ROLE_SUPERUSER = "superuser"
ROLE_AUDITOR = "auditor"
# Roles that may read a person's full ID number (on the person's card, audited).
FULL_ID_ROLES = frozenset({ROLE_SUPERUSER, "collector", "township", "district"})
# Roles that may read the audit trail.
AUDIT_TRAIL_ROLES = frozenset({ROLE_SUPERUSER, ROLE_AUDITOR, "township", "district"})
# Roles that do the office work: load official data, confirm lists, mark identities.
OFFICE_ROLES = frozenset({ROLE_SUPERUSER, "district", "township"})
DISTRICT_ROLES = frozenset({ROLE_SUPERUSER, "district"})


def not_found(what: str, **params: Any) -> ApplicationError:
    return ApplicationError("not_found", f"找不到{what}", **params)


def read_only() -> ApplicationError:
    return ApplicationError("read_only", "审计账号只能查看，不能办理业务")


@dataclass(frozen=True, slots=True, eq=False)
class Scope:
    """What one actor may see and act on; ``village_id in scope`` asks about a village."""

    user_id: int | None
    role: str | None  # a StaffMember.Role value, "superuser", or None (no access)
    village_ids: frozenset[int]
    everywhere: bool = False
    township_id: int | None = None
    district_id: int | None = None
    collector_id: int | None = None

    # --- questions ---------------------------------------------------------------------

    def __contains__(self, village_id: object) -> bool:
        return self.everywhere or village_id in self.village_ids

    @property
    def may_write(self) -> bool:
        return self.role is not None and self.role != ROLE_AUDITOR

    @property
    def may_read_full_id(self) -> bool:
        return self.role in FULL_ID_ROLES

    @property
    def may_read_audit_trail(self) -> bool:
        return self.role in AUDIT_TRAIL_ROLES

    def sees_village(self, village_id: int | None) -> bool:
        return village_id is not None and village_id in self

    def sees_person(self, person: Any) -> bool:
        return self.sees_village(person.hukou_village_id) or self.sees_village(
            person.residence_village_id
        )

    def sees_collector(self, collector: Any) -> bool:
        """The actor themself; or a village collector with a village in scope; or an office
        whose whole area is in scope."""
        if self.everywhere or (self.user_id is not None and collector.user_id == self.user_id):
            return True
        if self.role is None:
            return False
        theirs = scope_of(collector.user).village_ids
        if collector.role == "collector":
            return any(v in self for v in theirs)
        return bool(theirs) and all(v in self for v in theirs)

    def among(self, village_ids: Iterable[int | None]) -> set[int]:
        """Which of ``village_ids`` are in scope."""
        return {v for v in village_ids if v is not None and v in self}

    def villages(self) -> QuerySet[Any]:
        """The villages in scope as a queryset (a subquery when used in a filter)."""
        from yibao.registry.models import Village

        if self.everywhere:
            return Village.objects.all()
        if self.role is None:
            return Village.objects.none()
        if self.district_id is not None and self.role != "collector":
            return Village.objects.filter(township__district_id=self.district_id)
        if self.township_id is not None and self.role != "collector":
            return Village.objects.filter(township_id=self.township_id)
        return Village.objects.filter(collectors__pk=self.collector_id)

    # --- refusals ----------------------------------------------------------------------

    def _writable(self, write: bool) -> None:
        if write and self.role is not None and not self.may_write:
            raise read_only()

    def require_village(self, village: Any, *, write: bool = False) -> None:
        if not self.sees_village(village.pk):
            raise not_found(f"编号为{village.pk}的村（社区）", village_id=village.pk)
        self._writable(write)

    def require_person(self, person: Any, *, write: bool = False) -> None:
        if not self.sees_person(person):
            raise not_found(f"编号为{person.pk}的参保人", person_id=person.pk)
        self._writable(write)

    def require_enrollment(self, enrollment: Any, *, write: bool = False) -> None:
        if not self.sees_village(enrollment.village_id):
            raise not_found(f"编号为{enrollment.pk}的参保登记", enrollment_id=enrollment.pk)
        self._writable(write)

    def require_payment(self, payment: Any, *, write: bool = False) -> None:
        if not self.sees_village(payment.enrollment.village_id):
            raise not_found(f"编号为{payment.pk}的缴费记录", payment_id=payment.pk)
        self._writable(write)

    def require_collector(self, collector: Any, *, write: bool = False) -> None:
        if not self.sees_collector(collector):
            raise not_found(f"编号为{collector.pk}的征收员", collector_id=collector.pk)
        self._writable(write)

    def require_office(self, what: str, *, district_only: bool = False) -> str:
        """Refuse ``office_required`` unless a township or district office (or only a
        district office, ``district_only``) does ``what``; auditors are refused
        ``read_only``. Returns the role."""
        if self.role == ROLE_AUDITOR:
            raise read_only()
        if self.role not in (DISTRICT_ROLES if district_only else OFFICE_ROLES):
            who = "区医保局" if district_only else "街道社保所或区医保局"
            raise ApplicationError("office_required", f"{what}须由{who}办理", what=what)
        return str(self.role)

    def require_township(self, township: Any) -> None:
        """Refuse (as not found) unless ``township`` is in the area: an office's own
        township, or a township of its district."""
        if self.everywhere or self.township_id == township.pk:
            return
        if self.district_id is not None and self.district_id == township.district_id:
            return
        raise not_found(f"编号为{township.pk}的街道（镇）", township_id=township.pk)


NOWHERE = Scope(user_id=None, role=None, village_ids=frozenset())


def _compute_scope(actor: Any) -> Scope:
    from yibao.collection.models import StaffMember

    if actor is None or not getattr(actor, "is_authenticated", False):
        return NOWHERE
    if actor.is_superuser:
        return Scope(
            user_id=actor.pk, role=ROLE_SUPERUSER, village_ids=frozenset(), everywhere=True
        )
    collector = StaffMember.objects.filter(user=actor).first()
    if collector is None:
        return Scope(user_id=actor.pk, role=None, village_ids=frozenset())
    # Kept on the actor with the scope: a payment names its collector without a query.
    collector.user = actor
    StaffMember.user.field.remote_field.set_cached_value(actor, collector)
    area = Scope(
        user_id=actor.pk,
        role=collector.role,
        village_ids=frozenset(),
        township_id=collector.township_id,
        district_id=collector.district_id,
        collector_id=collector.pk,
    )
    return dataclasses.replace(
        area, village_ids=frozenset(area.villages().values_list("pk", flat=True))
    )


def scope_of(actor: Any) -> Scope:
    """The actor's scope, computed once and kept on the actor object (one request, one CLI
    command or one batch); :func:`scope_forget` drops it after the actor's villages change."""
    if isinstance(actor, Scope):
        return actor
    cached = getattr(actor, _CACHE_ATTRIBUTE, None) if actor is not None else None
    if cached is not None:
        return cached
    scope = _compute_scope(actor)
    if actor is not None:
        with contextlib.suppress(AttributeError):  # an object that takes no attributes
            setattr(actor, _CACHE_ATTRIBUTE, scope)
    return scope


def scope_forget(actor: Any) -> None:
    """Drop the cached scope of ``actor`` (after its collector profile changed)."""
    if actor is not None and hasattr(actor, _CACHE_ATTRIBUTE):
        delattr(actor, _CACHE_ATTRIBUTE)


# --- the functions every edge, service and selector calls ------------------------------------


def villages_in_scope(actor: Any) -> QuerySet[Any]:
    """The villages ``actor`` may read and act in."""
    return scope_of(actor).villages()


def in_scope(actor: Any, village_id: int | None) -> bool:
    return scope_of(actor).sees_village(village_id)


def require_village(actor: Any, village: Any, *, write: bool = False) -> None:
    """Refuse (as not found) unless ``actor`` may see ``village``; ``write`` also refuses a
    read-only role."""
    scope_of(actor).require_village(village, write=write)


def require_person(actor: Any, person: Any, *, write: bool = False) -> None:
    """Refuse (as not found) unless ``actor`` may see ``person``; ``write`` also refuses a
    read-only role."""
    scope_of(actor).require_person(person, write=write)


def require_collector(actor: Any, collector: Any, *, write: bool = False) -> None:
    """Refuse (as not found) unless ``actor`` may see ``collector`` (and their cash)."""
    scope_of(actor).require_collector(collector, write=write)


def access_village(actor: Any, village_id: int) -> Any:
    """The village ``village_id`` if ``actor`` may act in it."""
    from yibao.registry.models import Village

    village = Village.objects.filter(pk=village_id).select_related("township").first()
    if village is None or not in_scope(actor, village.pk):
        raise not_found(f"编号为{village_id}的村（社区）", village_id=village_id)
    return village


@functools.cache
def _person_by_id() -> Any:
    """The person query of every API call that names a person, compiled once."""
    from yibao.registry.models import Person

    from .prepared import Prepared

    return Prepared(lambda pk: Person.objects.filter(pk=pk))


def access_person(actor: Any, person_id: int, *, for_update: bool = False) -> Any:
    """The person ``person_id`` if in ``actor``'s scope (``for_update`` locks the row)."""
    from yibao.registry.models import Person

    if for_update:
        person = Person.objects.select_for_update().filter(pk=person_id).first()
    else:
        [person] = _person_by_id()(person_id) or [None]
    if person is None or not scope_of(actor).sees_person(person):
        raise not_found(f"编号为{person_id}的参保人", person_id=person_id)
    return person


def access_enrollment(actor: Any, enrollment_id: int) -> Any:
    """The enrollment ``enrollment_id`` if its village is in ``actor``'s scope."""
    from yibao.collection.models import Enrollment

    enrollment = (
        Enrollment.objects.filter(pk=enrollment_id).select_related("person", "village").first()
    )
    if enrollment is None or not in_scope(actor, enrollment.village_id):
        raise not_found(f"编号为{enrollment_id}的参保登记", enrollment_id=enrollment_id)
    return enrollment


def access_payment(actor: Any, payment_id: int) -> Any:
    """The payment ``payment_id`` if its enrollment's village is in ``actor``'s scope."""
    from yibao.collection.models import Payment

    payment = (
        Payment.objects.filter(pk=payment_id)
        .select_related("enrollment__person", "enrollment__village")
        .first()
    )
    if payment is None or not in_scope(actor, payment.enrollment.village_id):
        raise not_found(f"编号为{payment_id}的缴费记录", payment_id=payment_id)
    return payment


def access_enrollment_fact(actor: Any, fact_id: int) -> Any:
    """The recorded fact ``fact_id`` (graduating, 预参保, an office's decision) if ``actor``
    may see its person."""
    from yibao.collection.models import EnrollmentFact

    fact = EnrollmentFact.objects.filter(pk=fact_id).select_related("person").first()
    if fact is None or not scope_of(actor).sees_person(fact.person):
        raise not_found(f"编号为{fact_id}的参保情况登记", fact_id=fact_id)
    return fact


def access_collector(actor: Any, collector_id: int) -> Any:
    """The collector ``collector_id`` (with their user) if ``actor`` may see them: the
    collector themself, an office over one of their villages, a superuser."""
    from yibao.collection.models import StaffMember

    collector = StaffMember.objects.filter(pk=collector_id).select_related("user").first()
    if collector is None or not scope_of(actor).sees_collector(collector):
        raise not_found(f"编号为{collector_id}的征收员", collector_id=collector_id)
    return collector


def person_label_for(actor: Any, person: Any) -> str:
    """``person``'s label if ``actor`` may see them, else a phrase that names nobody."""
    return person.label if scope_of(actor).sees_person(person) else "另一参保人"


def village_name_for(actor: Any, village: Any) -> str:
    """``village``'s name if ``actor`` may see it, else a phrase that names no village."""
    return village.name if in_scope(actor, village.pk) else "其他村（社区）"


def require_office(actor: Any, what: str, *, district_only: bool = False) -> str:
    """Refuse unless ``actor`` is a township or district office (``district_only``: a district
    office); see :meth:`Scope.require_office`. Returns the role."""
    return scope_of(actor).require_office(what, district_only=district_only)


def require_township(actor: Any, township: Any) -> None:
    """Refuse (as not found) unless ``township`` is in ``actor``'s area."""
    scope_of(actor).require_township(township)


def require_write_access(actor: Any) -> None:
    """Refuse ``read_only`` for an actor who may only read (an auditor, a user without a role)."""
    if not scope_of(actor).may_write:
        raise read_only()
