"""Every email goes through the outbox and the task worker: written with its change, sent after
it commits, retried when the mail server fails, and marked failed where an admin sees it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from governance.constants import Role
from itf_portal.mail import email_send
from itf_portal.models import Email
from itf_portal.tasks import RETRY_MINUTES


def _add_member(client, world):
    client.force_login(world.admin)
    return client.post(
        reverse("member_add", kwargs={"slug": "southampton"}),
        {
            "email": "pat@example.org",
            "first_name": "Pat",
            "last_name": "Jones",
            "organisation": world.area.partners.get(kind="la").pk,
            "role": Role.COMMISSIONER,
        },
    )


def test_an_email_is_queued_with_its_change_and_sent_by_the_worker(client, world, run_tasks):
    assert _add_member(client, world).status_code == 302
    email = Email.objects.get()
    assert (email.status, email.to) == (Email.QUEUED, ["pat@example.org"])
    assert mail.outbox == []  # nothing is sent inside the request
    assert run_tasks() == 1
    email.refresh_from_db()
    assert email.status == Email.SENT and email.sent_at is not None
    assert run_tasks() == 0  # sent once only


def test_an_email_for_a_change_rolled_back_is_never_sent(db, run_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        email_send(to=["x@example.org"], subject="Never", body="Rolled back")
        raise RuntimeError("the change fails")
    assert not Email.objects.exists() and not DBTaskResult.objects.exists()
    assert run_tasks() == 0


def test_a_mail_server_failure_is_never_a_server_error_and_is_retried_then_shown_failed(
    client, world, run_tasks, settings
):
    settings.EMAIL_BACKEND = "tests.failing_mail.DownBackend"
    assert _add_member(client, world).status_code == 302  # the person is added all the same
    email = Email.objects.get()
    for attempt in range(1, len(RETRY_MINUTES) + 2):
        # The next try waits its turn: make it due now, as the clock would.
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_tasks()
        email.refresh_from_db()
        assert email.attempts == attempt
        assert "SMTPServerDisconnected" in email.last_error
    assert email.status == Email.FAILED
    assert mail.outbox == []
    # The mail server comes back: a failed email is not resent by itself; a national admin is
    # told on their dashboard, sees it in the outbox and sends it again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run_tasks() == 0
    client.force_login(world.national)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "1 email could not be sent or stopped waiting for the task worker" in dashboard
    page = client.get(reverse("email_outbox")).content.decode()
    assert "You have been added to the ITF plan" in page and "Could not be sent" in page
    assert "SMTPServerDisconnected" in page
    response = client.post(reverse("email_outbox"), {"email": email.pk})
    assert response.status_code == 302
    assert run_tasks() == 1
    email.refresh_from_db()
    assert email.status == Email.SENT


def test_an_email_whose_task_was_lost_with_its_worker_is_shown_stuck_and_sent_again(
    client, world, run_tasks, settings
):
    from datetime import timedelta

    from itf_portal.models import STUCK_AFTER

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert _add_member(client, world).status_code == 302
    email = Email.objects.get()
    client.force_login(world.national)
    assert "Send again" not in client.get(reverse("email_outbox")).content.decode()  # not yet
    assert client.post(reverse("email_outbox"), {"email": email.pk}).status_code == 404
    DBTaskResult.objects.all().delete()  # the worker holding it was killed: its task is gone
    Email.objects.update(due_at=timezone.now() - STUCK_AFTER - timedelta(seconds=1))
    assert "1 email could not be sent or stopped waiting" in client.get("/").content.decode()
    page = client.get(reverse("email_outbox")).content.decode()
    assert "Stuck: waiting since" in page and "Send again" in page
    assert client.post(reverse("email_outbox"), {"email": email.pk}).status_code == 302
    assert run_tasks() == 1
    email.refresh_from_db()
    assert email.status == Email.SENT and len(mail.outbox) == 1


def test_only_a_national_admin_sees_the_outbox(client, world):
    client.force_login(world.admin)
    assert client.get(reverse("email_outbox")).status_code == 403
    assert client.post(reverse("email_outbox"), {"email": 1}).status_code == 403


def test_the_retries_wait_longer_each_time(client, world, run_tasks, settings):
    settings.EMAIL_BACKEND = "tests.failing_mail.DownBackend"
    _add_member(client, world)
    run_tasks()
    retry = DBTaskResult.objects.get(status="READY")
    wait = retry.run_after - timezone.now()
    assert timedelta(seconds=50) < wait <= timedelta(minutes=RETRY_MINUTES[0])
