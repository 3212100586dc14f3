from datetime import timedelta

from django.db import models
from django.utils import timezone

# An email still waiting this long after it was due has lost its task (a worker killed while it
# held it): it is shown as stuck, and a national admin can send it again.
STUCK_AFTER = timedelta(minutes=10)


class EmailQuerySet(models.QuerySet):
    def stuck(self):
        return self.filter(status=Email.QUEUED, due_at__lt=timezone.now() - STUCK_AFTER)

    def needing_an_admin(self):
        """Failed after every retry, or stuck: what a national admin is asked to look at."""
        return self.filter(
            models.Q(status=Email.FAILED)
            | models.Q(status=Email.QUEUED, due_at__lt=timezone.now() - STUCK_AFTER)
        )


class Email(models.Model):
    """One email, written in the same transaction as the change it tells of, and delivered by the
    task worker (`itf_portal.tasks.email_deliver`): never lost with a web worker, never an error
    for the person who made the change. One that keeps failing stays here, marked failed."""

    QUEUED, SENT, FAILED = "queued", "sent", "failed"
    STATUSES = [(QUEUED, "Waiting to be sent"), (SENT, "Sent"), (FAILED, "Could not be sent")]

    to = models.JSONField(help_text="The addresses it goes to")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField(default=timezone.now, help_text="When it is next to be tried")
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = EmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "sent", "failed"]),
                name="email_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.get_status_display()})"

    @property
    def is_stuck(self) -> bool:
        return self.status == Email.QUEUED and self.due_at < timezone.now() - STUCK_AFTER
