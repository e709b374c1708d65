from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tickets.models import Ticket


def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = Ticket.objects.select_related("queue").order_by("-created_at")
    return render(request, "tickets/ticket_list.html", {"tickets": tickets})
