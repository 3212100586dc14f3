from django.db import models


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
    sent_at = models.DateTimeField(null=True, blank=True)

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
