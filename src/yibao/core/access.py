"""Village scope: the only way to reach a protected record.

Views, API endpoints and services fetch persons, villages, enrollments and payments through
the ``access_*`` functions and filter lists by :func:`villages_in_scope`. A village collector
acts in their own villages; a township office in its township; a district office in its
district; a superuser everywhere. A user without a collector profile acts nowhere.

A person is in scope through their household-register (户籍) village or their residence
village; an enrollment and its payments through the village the enrollment was made in.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yibao.core.errors import ApplicationError


def _actor_name(actor: Any) -> str:
    if actor is None:
        return "未登录用户"
    return actor.get_full_name() or actor.get_username()


def villages_in_scope(actor: Any) -> QuerySet[Any]:
    """The villages ``actor`` may read and act in."""
    from yibao.collection.models import Collector
    from yibao.registry.models import Village

    if actor is None or not getattr(actor, "is_authenticated", False):
        return Village.objects.none()
    if actor.is_superuser:
        return Village.objects.all()
    collector = Collector.objects.filter(user=actor).first()
    if collector is None:
        return Village.objects.none()
    if collector.role == Collector.Role.DISTRICT:
        return Village.objects.filter(township__district_id=collector.district_id)
    if collector.role == Collector.Role.TOWNSHIP:
        return Village.objects.filter(township_id=collector.township_id)
    return collector.villages.all()


def in_scope(actor: Any, village_id: int | None) -> bool:
    return village_id is not None and villages_in_scope(actor).filter(pk=village_id).exists()


def out_of_scope(actor: Any, what: str, **params: Any) -> ApplicationError:
    return ApplicationError(
        "out_of_scope",
        f"{_actor_name(actor)}无权查看或办理{what}：不在其负责的村（社区）范围内",
        **params,
    )


def not_found(what: str, **params: Any) -> ApplicationError:
    return ApplicationError("not_found", f"找不到{what}", **params)


def require_village(actor: Any, village: Any) -> None:
    """Refuse with ``out_of_scope`` unless ``actor`` may act in ``village``."""
    if not in_scope(actor, village.pk):
        raise out_of_scope(actor, f"{village.name}的事务", village=village.name)


def require_person(actor: Any, person: Any) -> None:
    """Refuse with ``out_of_scope`` unless ``actor`` may act for ``person``."""
    scope = villages_in_scope(actor)
    ids = [v for v in (person.hukou_village_id, person.residence_village_id) if v is not None]
    if not scope.filter(pk__in=ids).exists():
        raise out_of_scope(actor, f"参保人{person.label}", person=person.label)


def access_village(actor: Any, village_id: int) -> Any:
    """The village ``village_id`` if ``actor`` may act in it."""
    from yibao.registry.models import Village

    village = Village.objects.filter(pk=village_id).select_related("township").first()
    if village is None:
        raise not_found(f"编号为{village_id}的村（社区）", village_id=village_id)
    require_village(actor, village)
    return village


def access_person(actor: Any, person_id: int, *, for_update: bool = False) -> Any:
    """The person ``person_id`` if in ``actor``'s scope (``for_update`` locks the row)."""
    from yibao.registry.models import Person

    queryset = Person.objects.all()
    if for_update:
        queryset = queryset.select_for_update()
    person = queryset.filter(pk=person_id).first()
    if person is None:
        raise not_found(f"编号为{person_id}的参保人", person_id=person_id)
    require_person(actor, person)
    return person


def access_enrollment(actor: Any, enrollment_id: int) -> Any:
    """The enrollment ``enrollment_id`` if its village is in ``actor``'s scope."""
    from yibao.collection.models import Enrollment

    enrollment = (
        Enrollment.objects.filter(pk=enrollment_id).select_related("person", "village").first()
    )
    if enrollment is None:
        raise not_found(f"编号为{enrollment_id}的参保登记", enrollment_id=enrollment_id)
    if not in_scope(actor, enrollment.village_id):
        raise out_of_scope(
            actor, f"{enrollment.person.label}的参保登记", person=enrollment.person.label
        )
    return enrollment


def access_payment(actor: Any, payment_id: int) -> Any:
    """The payment ``payment_id`` if its enrollment's village is in ``actor``'s scope."""
    from yibao.collection.models import Payment

    payment = (
        Payment.objects.filter(pk=payment_id)
        .select_related("enrollment__person", "enrollment__village")
        .first()
    )
    if payment is None:
        raise not_found(f"编号为{payment_id}的缴费记录", payment_id=payment_id)
    if not in_scope(actor, payment.enrollment.village_id):
        person = payment.enrollment.person
        raise out_of_scope(actor, f"{person.label}的缴费记录", person=person.label)
    return payment
