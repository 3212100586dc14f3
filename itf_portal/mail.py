"""Every email the portal sends: written to the outbox with the change that causes it, and sent
by the task worker once that change has committed."""

from django.conf import settings

from itf_portal.models import Email
from itf_portal.tasks import email_deliver


def one_line(text: str) -> str:
    """A subject is one line, whatever the names in it hold (an area's name may hold a newline,
    which an email header cannot)."""
    return " ".join(text.split())


def page_link(path: str) -> str:
    """The address of one of the portal's pages, as its emails give it."""
    return settings.SITE_URL + path


def email_send(*, to, subject: str, body: str, path: str = "") -> None:
    """Queue an email in the current transaction: it goes if the change commits, and not if it is
    rolled back. With `path`, the body ends with the link to the page the email is about."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    if path:
        body = f"{body.rstrip()}\n\nOpen it in ITF Portal: {page_link(path)}\n"
    email = Email.objects.create(to=recipients, subject=one_line(subject)[:300], body=body)
    email_deliver.enqueue(email.pk)
