"""Work the task worker does (`manage.py db_worker`, started by `make run`), outside any request."""

from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from itf_portal.models import Email

# Minutes to wait after each failed attempt; after the last, the email is marked failed.
RETRY_MINUTES = (1, 5, 30, 120)


@task()
def email_deliver(email_id: int) -> str:
    """Send one queued email; on failure try again later, and after the last try mark it failed,
    where an admin sees it (Django admin, "Emails")."""
    with transaction.atomic():
        email = Email.objects.select_for_update(skip_locked=True).filter(pk=email_id).first()
        if email is None or email.status != Email.QUEUED:
            return "nothing to do"  # sent already, or another worker has it
        email.attempts += 1
        try:
            send_mail(
                subject=email.subject, message=email.body, from_email=None, recipient_list=email.to
            )
        except Exception as error:  # noqa: BLE001 (any failure of the mail server is retried)
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            if email.attempts > len(RETRY_MINUTES):
                email.status = Email.FAILED
            else:
                wait = timedelta(minutes=RETRY_MINUTES[email.attempts - 1])
                email.due_at = timezone.now() + wait
                email_deliver.using(run_after=email.due_at).enqueue(email.pk)
            email.save(update_fields=["attempts", "last_error", "status", "due_at"])
            return email.status
        email.status, email.sent_at = Email.SENT, timezone.now()
        email.save(update_fields=["attempts", "status", "sent_at"])
        return email.status


def email_resend(*, email: Email) -> None:
    """Try a failed or stuck email again from the start (a national admin's "Send again"). Should
    a stuck one's lost task turn up after all, it finds the email handled and does nothing."""
    with transaction.atomic():
        if (
            Email.objects.needing_an_admin()
            .filter(pk=email.pk)
            .update(status=Email.QUEUED, attempts=0, due_at=timezone.now())
        ):
            email_deliver.enqueue(email.pk)
