"""Every email the portal sends, once the transaction that caused it has committed."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction


def one_line(text: str) -> str:
    """A subject is one line, whatever the names in it hold (an area's name may hold a newline,
    which an email header cannot)."""
    return " ".join(text.split())


def page_link(path: str) -> str:
    """The address of one of the portal's pages, as its emails give it."""
    return settings.SITE_URL + path


def email_send(*, to, subject: str, body: str, path: str = "") -> None:
    """Send after commit, so a rolled-back change tells nobody. With `path`, the body ends with
    the link to the page the email is about."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    if path:
        body = f"{body.rstrip()}\n\nOpen it in ITF Portal: {page_link(path)}\n"
    subject = one_line(subject)
    transaction.on_commit(
        lambda: send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)
    )
