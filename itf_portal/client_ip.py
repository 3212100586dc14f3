"""The client's address and the username tried, as the sign-in lockout records them.

Behind N trusted proxies (DJANGO_TRUSTED_PROXY_COUNT) the client is the Nth address from the right
of X-Forwarded-For; anything further left was written by the client and cannot be trusted.
"""

from django.conf import settings


def client_ip(request) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


# The longest sign-in name an account can have: a longer one matches no account, and the
# lockout's records (django-axes, 255 characters) must never be handed more.
USERNAME_LIMIT = 150


def client_username(request, credentials=None) -> str | None:
    """The username a sign-in was tried with, as the lockout records it. The sign-in form does
    not limit its length, and a longer one (no account's) was a server error when recorded."""
    source = credentials or getattr(request, "data", getattr(request, "POST", {}))
    username = source.get(getattr(settings, "AXES_USERNAME_FORM_FIELD", "username"))
    return username[:USERNAME_LIMIT] if isinstance(username, str) else username
