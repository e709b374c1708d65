from __future__ import annotations

from django.db import models


class Queue(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=20, default="open")
    created_at = models.DateTimeField(auto_now_add=True)
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="tickets_status_created_idx")]

    def __str__(self) -> str:
        return self.title
