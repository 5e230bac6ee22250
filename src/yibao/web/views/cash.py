"""我的现金: cash a collector took today and holds, against what they remitted."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from yibao.collection.models import Collector, Payment, Remittance
from yibao.collection.services import cash_on_hand
from yibao.core import clock

from ..roles import DESK, role_required


@require_GET
@role_required(*DESK)
def cash(request: HttpRequest) -> HttpResponse:
    collector = Collector.objects.filter(user=request.user).first()
    today = clock.today()
    context: dict[str, object] = {"today": today, "collector": collector}
    if collector is not None:
        taken_today = Payment.objects.filter(
            collector=collector, channel=Payment.Channel.CASH, paid_at__date=today
        )
        context.update(
            held=cash_on_hand(collector),
            taken_today=taken_today.aggregate(s=Sum("amount"))["s"] or Decimal(0),
            count_today=taken_today.filter(reverses__isnull=True).count(),
            remitted_total=Remittance.objects.filter(collector=collector).aggregate(
                s=Sum("amount")
            )["s"]
            or Decimal(0),
            payments=list(taken_today.select_related("enrollment__person").order_by("-id")[:50]),
            remittances=list(Remittance.objects.filter(collector=collector).order_by("-id")[:10]),
            now=timezone.localtime(),
        )
    return render(request, "web/desk/cash.html", context)
